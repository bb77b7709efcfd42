#!/usr/bin/env python3
"""Open-model load: posts signed LINE deliveries (one text event each) at a fixed rate, on a
schedule that does not wait for answers, and reports answer latency measured from each
request's scheduled time (so a slow server cannot hide behind a closed loop).

usage: paced-sender.py URL DESTINATION SECRET RATE SECONDS PREFIX
prints one JSON line: {"sent", "ok", "failed", "p50_ms", "p99_ms", "max_ms"}
"""
import base64, hashlib, hmac, http.client, json, sys, threading, time, uuid
from urllib.parse import urlparse

url, destination, secret, rate, seconds, prefix = sys.argv[1], sys.argv[2], sys.argv[3].encode(), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
target = urlparse(url)
total = int(rate * seconds)
threads = 16
latencies, failures = [], [0]
lock = threading.Lock()
start = time.monotonic() + 0.5


def body(i):
    event = {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
             "webhookEventId": f"{prefix}-{i}", "deliveryContext": {"isRedelivery": False},
             "source": {"type": "user", "userId": "U" + uuid.uuid5(uuid.NAMESPACE_OID, f"{prefix}{i % 200}").hex},
             "replyToken": uuid.uuid4().hex, "message": {"id": str(700000000000 + i), "type": "text", "text": f"paced {i}"}}
    data = json.dumps({"destination": destination, "events": [event]}, separators=(",", ":")).encode()
    return data, base64.b64encode(hmac.new(secret, data, hashlib.sha256).digest()).decode()


def worker(k):
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
    for i in range(k, total, threads):
        data, signature = body(i)
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            conn.request("POST", "/api/webhook/line", data, {"Content-Type": "application/json", "x-line-signature": signature})
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except Exception:
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
            ok = False
        elapsed = (time.monotonic() - due) * 1000
        with lock:
            if ok:
                latencies.append(elapsed)
            else:
                failures[0] += 1


pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
for t in pool:
    t.start()
for t in pool:
    t.join()
latencies.sort()
pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2) if latencies else None
print(json.dumps({"sent": total, "ok": len(latencies), "failed": failures[0], "p50_ms": pick(0.5), "p99_ms": pick(0.99),
                  "max_ms": round(latencies[-1], 2) if latencies else None}))
