#!/usr/bin/env python3
"""Open-model sends: POST /api/messages/send at RATE per second for SECONDS, on a schedule that does not wait for
answers, round-robin over the conversations in CSV (id,lead_id). Prints one JSON line with the answer latencies
(from each request's scheduled time) and how many were accepted.

usage: paced-send.py URL TENANT TOKEN CONVERSATIONS_CSV RATE SECONDS
"""
import csv, http.client, json, sys, threading, time
from urllib.parse import urlparse

url, tenant, token, path, rate, seconds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
target = urlparse(url)
conversations = list(csv.reader(open(path)))
total = int(rate * seconds)
threads = 16
latencies, failures, late = [], [0], []
lock = threading.Lock()
start = time.monotonic() + 0.5


def worker(k):
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
    for i in range(k, total, threads):
        conversation, lead = conversations[i % len(conversations)]
        body = json.dumps({"conversationId": conversation, "leadId": lead, "channel": "LINE", "type": "text",
                           "content": f"paced send {i}"}).encode()
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            late.append(-delay)
        try:
            conn.request("POST", "/api/messages/send", body, {"Content-Type": "application/json", "x-tenant-id": tenant,
                                                              "Authorization": "Bearer " + token})
            response = conn.getresponse()
            response.read()
            ok = response.status == 202
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
print(json.dumps({"sent": total, "accepted": len(latencies), "failed": failures[0], "p50_ms": pick(0.5),
                  "p99_ms": pick(0.99), "sender_late_max_ms": round(max(late) * 1000, 1) if late else 0}))
