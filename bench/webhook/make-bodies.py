#!/usr/bin/env python3
"""Writes N signed LINE webhook deliveries (one text event each, ~1 KB, distinct event ids)
as lines "signature<TAB>body" for bench/webhook/post.lua.

usage: make-bodies.py N DESTINATION CHANNEL_SECRET OUT
"""
import base64, hashlib, hmac, json, sys, uuid

count, destination, secret, out = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode(), sys.argv[4]
filler = "สวัสดีครับ สนใจสินค้าตัวนี้ ราคาเท่าไหร่ครับ ส่งต่างจังหวัดได้ไหม " * 4
with open(out, "w") as f:
    for i in range(count):
        user = "U" + uuid.uuid4().hex
        event = {
            "type": "message", "mode": "active", "timestamp": 1795737925000 + i,
            "webhookEventId": "01BENCH" + uuid.uuid4().hex.upper(),
            "deliveryContext": {"isRedelivery": False},
            "source": {"type": "user", "userId": user},
            "replyToken": uuid.uuid4().hex,
            "message": {"id": str(500000000000 + i), "type": "text", "quoteToken": uuid.uuid4().hex, "text": filler[:300]},
        }
        body = json.dumps({"destination": destination, "events": [event]}, ensure_ascii=False, separators=(",", ":"))
        signature = base64.b64encode(hmac.new(secret, body.encode(), hashlib.sha256).digest()).decode()
        f.write(signature + "\t" + body + "\n")
