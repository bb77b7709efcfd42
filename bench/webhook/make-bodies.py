#!/usr/bin/env python3
"""Writes N signed LINE webhook deliveries (one text event each, ~1 KB, distinct event ids)
as lines "signature<TAB>body" for bench/webhook/post.lua.

usage: make-bodies.py N DESTINATION CHANNEL_SECRET OUT
"""
import base64, hashlib, hmac, json, sys

from line_events import text_event

count, destination, secret, out = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode(), sys.argv[4]
with open(out, "w") as f:
    for i in range(count):
        body = json.dumps({"destination": destination, "events": [text_event(i)]}, ensure_ascii=False,
                          separators=(",", ":"))
        signature = base64.b64encode(hmac.new(secret, body.encode(), hashlib.sha256).digest()).decode()
        f.write(signature + "\t" + body + "\n")
