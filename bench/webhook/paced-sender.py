#!/usr/bin/env python3
"""Open-model load: posts signed LINE deliveries (one text event each) at a fixed rate (bench/paced.py) and reports
answer latency measured from each request's scheduled time.

usage: paced-sender.py URL DESTINATION SECRET RATE SECONDS PREFIX
prints one JSON line: {"sent", "ok", "failed", "p50_ms", "p99_ms", "max_ms", "sender_late_max_ms"}
"""
import base64, hashlib, hmac, json, os, sys, time, uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from paced import run

url, destination, secret, rate, seconds, prefix = sys.argv[1], sys.argv[2], sys.argv[3].encode(), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]


def request(i):
    event = {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
             "webhookEventId": f"{prefix}-{i}", "deliveryContext": {"isRedelivery": False},
             "source": {"type": "user", "userId": "U" + uuid.uuid5(uuid.NAMESPACE_OID, f"{prefix}{i % 200}").hex},
             "replyToken": uuid.uuid4().hex, "message": {"id": str(700000000000 + i), "type": "text", "text": f"paced {i}"}}
    data = json.dumps({"destination": destination, "events": [event]}, separators=(",", ":")).encode()
    signature = base64.b64encode(hmac.new(secret, data, hashlib.sha256).digest()).decode()
    return "POST", "/api/webhook/line", data, {"Content-Type": "application/json", "x-line-signature": signature}, 200


print(json.dumps(run(url, int(rate * seconds), rate, 16, request)))
