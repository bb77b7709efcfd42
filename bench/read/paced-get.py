#!/usr/bin/env python3
"""Open-model GET load: requests start on a fixed schedule that does not wait for answers, and each answer's
latency counts from its scheduled time (so a slow server cannot hide behind a closed loop). Keep-alive
connections, one per sender thread; with several LABEL=PATH targets the schedule takes them in turn.

usage: paced-get.py URL RATE SECONDS WARMUP_SECONDS LABEL=PATH [LABEL=PATH ...]
env:   HUBCHAT_TOKEN, HUBCHAT_TENANT_ID (sent as Authorization: Bearer and x-tenant-id); RUN_ID (User-Agent
       hubchat-bench/RUN_ID/LABEL, or LABEL-warmup, so nginx's access log can be matched); SENDER_THREADS (default 32).

The first WARMUP_SECONDS of the schedule run at the same rate but are not counted.
Prints one JSON line: per label {"sent", "ok", "errors", "statuses", "p50_ms", "p95_ms", "p99_ms", "max_ms",
"service_p99_ms", "bytes"}, and for the sender: requests scheduled per second and answered per second over the
measured window, how late requests started (p99/max; "behind" = requests whose thread was still busy with its
previous request when their time came), and the sender's own CPU use.
"""
import http.client, json, os, sys, threading, time
from urllib.parse import urlparse

url, rate, seconds, warmup = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
targets = [arg.split("=", 1) for arg in sys.argv[5:]]
target = urlparse(url)
run_id = os.environ.get("RUN_ID", "run")
headers_for = {(label, warm): {"Authorization": "Bearer " + os.environ["HUBCHAT_TOKEN"],
                               "x-tenant-id": os.environ["HUBCHAT_TENANT_ID"], "Accept": "application/json",
                               "User-Agent": f"hubchat-bench/{run_id}/{label}" + ("-warmup" if warm else "")}
               for label, _ in targets for warm in (False, True)}
threads = int(os.environ.get("SENDER_THREADS", "32"))
skip = int(rate * warmup)             # schedule slots of the warm-up
total = skip + int(rate * seconds)
lock = threading.Lock()
stats = {label: {"lat": [], "svc": [], "errors": 0, "statuses": {}, "bytes": 0} for label, _ in targets}
lateness, behind, finished = [], [0], []
start = time.monotonic() + 0.5


def connect():
    return http.client.HTTPConnection(target.hostname, target.port, timeout=10)


def worker(k):
    conn = connect()
    for i in range(k, total, threads):
        label, path = targets[i % len(targets)]
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent = time.monotonic()
        status, size = None, 0
        try:
            conn.request("GET", path, headers=headers_for[label, i < skip])
            response = conn.getresponse()
            body = response.read()
            status, size = response.status, len(body)
        except Exception as error:  # a refused or dropped connection counts as an error, then reconnect
            status = type(error).__name__
            conn.close()
            conn = connect()
        done = time.monotonic()
        if i < skip:
            continue
        with lock:
            s = stats[label]
            s["statuses"][str(status)] = s["statuses"].get(str(status), 0) + 1
            if status == 200:
                s["lat"].append((done - due) * 1000)
                s["svc"].append((done - sent) * 1000)
                s["bytes"] += size
            else:
                s["errors"] += 1
            lateness.append((sent - due) * 1000)
            if delay <= 0:
                behind[0] += 1
            if isinstance(status, int):  # an HTTP answer, whatever its status
                finished.append(done)
    conn.close()


cpu0, wall0 = time.process_time(), time.monotonic()
pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
for t in pool:
    t.start()
for t in pool:
    t.join()
cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0


def pick(values, q):
    return round(values[min(len(values) - 1, int(q * len(values)))], 2) if values else None


report = {}
for label, _ in targets:
    s = stats[label]
    lat, svc = sorted(s["lat"]), sorted(s["svc"])
    n = sum(s["statuses"].values())
    report[label] = {"sent": n, "ok": len(lat), "errors": s["errors"], "statuses": s["statuses"],
                     "p50_ms": pick(lat, 0.5), "p95_ms": pick(lat, 0.95), "p99_ms": pick(lat, 0.99),
                     "max_ms": round(lat[-1], 2) if lat else None, "service_p99_ms": pick(svc, 0.99),
                     "bytes": s["bytes"] // len(lat) if lat else None}
lateness.sort()
measured_start = start + skip / rate
report["sender"] = {
    "threads": threads, "rate": rate, "seconds": seconds, "warmup_seconds": warmup,
    "scheduled_per_s": round((total - skip) / seconds, 1),
    "answered_per_s": round(len(finished) / (max(finished) - measured_start), 1) if finished else None,
    "start_late_p99_ms": pick(lateness, 0.99), "start_late_max_ms": round(lateness[-1], 2) if lateness else None,
    "behind": behind[0], "cpu_share_of_one_core": round(cpu / wall, 3)}
print(json.dumps(report, ensure_ascii=False))
