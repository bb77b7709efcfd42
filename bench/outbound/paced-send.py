#!/usr/bin/env python3
"""Open-model sends: POST /api/messages/send at RATE per second for SECONDS (bench/paced.py), round-robin over the
conversations in CSV (id,lead_id). Prints one JSON line with the answer latencies (from each request's scheduled
time) and how many were accepted (202).

usage: paced-send.py URL TENANT TOKEN CONVERSATIONS_CSV RATE SECONDS
"""
import csv, json, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from paced import run

url, tenant, token, path, rate, seconds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
conversations = list(csv.reader(open(path)))
headers = {"Content-Type": "application/json", "x-tenant-id": tenant, "Authorization": "Bearer " + token}


def request(i):
    conversation, lead = conversations[i % len(conversations)]
    body = json.dumps({"conversationId": conversation, "leadId": lead, "channel": "LINE", "type": "text",
                       "content": f"paced send {i}"}).encode()
    return "POST", "/api/messages/send", body, headers, 202


stats = run(url, int(rate * seconds), rate, 16, request)
stats["accepted"] = stats.pop("ok")
print(json.dumps(stats))
