#!/usr/bin/env python3
"""Commit → first provider attempt: joins the simulator's record of each push (its X-Line-Retry-Key is the message
id, its time when the request arrived) with the messages' creation times read from stdin (id,epoch), and prints
p50/p99/max in ms and how many messages had no attempt.

usage: first-attempt.py SIMULATOR_URL < id,created_epoch lines
"""
import json, sys, urllib.request

requests = json.load(urllib.request.urlopen(sys.argv[1] + "/__requests"))
first = {}
for r in requests:
    if r.get("path") != "/v2/bot/message/push":
        continue
    key = r.get("headers", {}).get("x-line-retry-key")
    if key and (key not in first or r["time"] < first[key]):
        first[key] = r["time"]
lat, missing = [], 0
for line in sys.stdin:
    mid, created = line.strip().split(",")
    if mid in first:
        lat.append((first[mid] - float(created)) * 1000)
    else:
        missing += 1
lat.sort()
pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None
print(json.dumps({"messages": len(lat) + missing, "attempted": len(lat), "missing": missing, "p50_ms": pick(0.5),
                  "p99_ms": pick(0.99), "max_ms": round(lat[-1], 1) if lat else None}))
