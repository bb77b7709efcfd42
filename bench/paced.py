"""Open-model pacing shared by the bench senders: the i-th request starts at start + i / rate whatever earlier answers
did, on `threads` keep-alive connections, and its latency counts from that scheduled time (so a slow server cannot
hide behind a client that waits).

    from paced import run
    stats = run(url, total, rate, threads, request)   # request(i) -> (method, path, body, headers, expected status)
"""
import http.client
import threading
import time
from urllib.parse import urlparse


def run(url, total, rate, threads, request):
    target = urlparse(url)
    latencies, failures, late = [], [0], [0.0]
    lock = threading.Lock()
    start = time.monotonic() + 0.5

    def connect():
        return http.client.HTTPConnection(target.hostname, target.port, timeout=10)

    def worker(k):
        conn = connect()
        for i in range(k, total, threads):
            method, path, body, headers, expected = request(i)
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == expected
            except Exception:
                conn = connect()
                ok = False
            elapsed = (time.monotonic() - due) * 1000
            with lock:
                late[0] = max(late[0], -delay)
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
    return {"sent": total, "ok": len(latencies), "failed": failures[0], "p50_ms": pick(0.5), "p99_ms": pick(0.99),
            "max_ms": round(latencies[-1], 2) if latencies else None, "sender_late_max_ms": round(late[0] * 1000, 1)}
