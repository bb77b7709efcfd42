#!/usr/bin/env python3
"""The report of bench/api-read.sh (Markdown on stdout); exits 1 if any answer was not 200.

usage: report.py FIRST DEEP THREAD MIXED CAPACITY_FIRST CAPACITY_DEEP CAPACITY_THREAD
  FIRST … MIXED: {"load": paced-get.py's JSON, "cpu": cpu-share.py's JSON, "attempts", "run_id"};
  CAPACITY_*: "requests/s non-2xx foreign-CPU-%" (wrk)
  the rest from REPORT_* environment variables (set by bench/api-read.sh).
"""
import json, os, re, sys

env = os.environ.get
labels = ("first", "deep", "thread")
solo = {label: json.loads(arg) for label, arg in zip(labels, sys.argv[1:4])}
mixed = json.loads(sys.argv[4])
capacity = {label: arg.split() for label, arg in zip(labels, sys.argv[5:8])}
rate, mixed_rate, run_id = env("REPORT_RATE"), env("REPORT_MIXED_RATE"), env("REPORT_RUN_ID")

# nginx's own view: $request_time of the same requests (the User-Agent names the run and the scenario; warm-up
# requests are named LABEL-warmup and left out).
server = {}
log = open(env("REPORT_LOG"), "rb")
log.seek(int(env("REPORT_LOG_OFFSET", "0")))  # where the log ended before the runs
for line in log:
    if run_id.encode() not in line:
        continue
    entry = json.loads(line)
    m = re.fullmatch(r"hubchat-bench/([^/]+)/(\w+)", entry["userAgent"])
    if m:
        server.setdefault((m.group(1), m.group(2)), []).append(float(entry["requestTime"]) * 1000)


def server_p99(run, label):
    v = sorted(server.get((run, label), []))
    return f"{v[min(len(v) - 1, int(0.99 * len(v)))]:.0f} ms" if v else "—"


def ms(v):
    return f"{v:.1f} ms" if v is not None else "—"


def cpu(c):
    by = c["by_command"]
    stack = {"hubchat-fcgi": "responders", "postgres": "PostgreSQL", "nginx": "nginx", "python3": "sender"}
    parts = [f"{name} {by.get(command, 0):.0f}" for command, name in stack.items()]
    other = c["busy"] - sum(by.get(command, 0) for command in stack)
    others = ", ".join(f"{k} {v:.0f}" for k, v in by.items() if k not in stack and v >= 2)
    return (f"busy {c['busy']:.0f} %: " + ", ".join(parts) + f", other {max(other, 0):.0f}"
            + (f" ({others})" if others else ""))


names = {"first": "(a) conversation list, first page (limit 25)",
         "deep": "(b) conversation list, page 2,000 (limit 25, cursor)",
         "thread": f"(c) messages of the {int(env('REPORT_LONG_N')):,}-message thread (limit 50, first page)"}
out = []
p = out.append
p(f"Run of {env('REPORT_DATE')}, {env('REPORT_CORES')} cores, {env('REPORT_MEM')} GiB, release build. Tenant: "
  f"{int(env('REPORT_CONVERSATIONS')):,} conversations, {int(env('REPORT_MESSAGES')):,} messages. Open model at "
  f"{rate} req/s per scenario, {env('REPORT_DURATION')} s each after a {env('REPORT_WARMUP')} s warm-up at the same "
  f"rate, {solo['first']['load']['sender']['threads']} sender threads on keep-alive connections, latency from each "
  f"request's scheduled time. Deep cursor: {env('REPORT_WALK')}; the page starts at {env('REPORT_DEEP_AT')}.")
p("")
p("| scenario | p50 | p95 | p99 | max | nginx p99 | non-200 | capacity (wrk, 16 conn.) |")
p("|---|---|---|---|---|---|---|---|")
errors = 0
for label in labels:
    s = solo[label]["load"][label]
    errors += s["errors"] + mixed["load"][label]["errors"] + int(capacity[label][1])
    p(f"| {names[label]} | {ms(s['p50_ms'])} | {ms(s['p95_ms'])} | **{ms(s['p99_ms'])}** | {ms(s['max_ms'])} | "
      f"{server_p99(solo[label]['run_id'], label)} | {s['errors']} | {float(capacity[label][0]):,.0f} req/s |")
p("")
m = mixed["load"]
p(f"The three interleaved, {mixed_rate} req/s in all (a third each): answered {m['sender']['answered_per_s']} req/s; "
  + "; ".join(f"{label} p50 {ms(m[label]['p50_ms'])}, p99 {ms(m[label]['p99_ms'])}, max {ms(m[label]['max_ms'])}, "
              f"nginx p99 {server_p99(mixed['run_id'], label)}" for label in labels) + ".")
p("")
for label in labels:
    s, snd = solo[label]["load"][label], solo[label]["load"]["sender"]
    p(f"- {label}: {s['sent']:,} requests, all {list(s['statuses'])}, {s['bytes']:,} bytes per answer; sender scheduled "
      f"{snd['scheduled_per_s']}/s, answered {snd['answered_per_s']}/s, start lateness p99 {snd['start_late_p99_ms']} ms "
      f"(max {snd['start_late_max_ms']}), {snd['behind']} started behind schedule, sender CPU "
      f"{snd['cpu_share_of_one_core'] * 100:.0f} % of a core. CPU (% of one core): {cpu(solo[label]['cpu'])}"
      + (f"; attempt {solo[label]['attempts']}, the least disturbed of up to 3" if solo[label]['attempts'] > 1 else "")
      + ".")
snd = m["sender"]
p(f"- interleaved: sender scheduled {snd['scheduled_per_s']}/s, start lateness p99 {snd['start_late_p99_ms']} ms, "
  f"{snd['behind']:,} started behind schedule. CPU: {cpu(mixed['cpu'])}.")
p(f"- capacity runs: other work on the machine used {', '.join(capacity[label][2] + ' %' for label in labels)} of a "
  f"core during them.")
p("")
first, deep = solo["first"]["load"]["first"], solo["deep"]["load"]["deep"]
worst = max(solo[label]["load"][label]["p99_ms"] for label in labels)
p(f"Verdict: p99 ≤ 25 ms at {rate} req/s — **{'met' if worst <= 25 else 'not met'}** (worst p99 {worst:.1f} ms). "
  f"Deep page against first page — p50 {deep['p50_ms']:.1f} against {first['p50_ms']:.1f} ms, p99 "
  f"{deep['p99_ms']:.1f} against {first['p99_ms']:.1f} ms: "
  f"**{'no slower' if deep['p99_ms'] <= first['p99_ms'] * 1.1 else 'slower'}**"
  f"{' (within 10 %)' if first['p99_ms'] < deep['p99_ms'] <= first['p99_ms'] * 1.1 else ''}; interleaved p99 "
  f"{m['deep']['p99_ms']:.1f} against {m['first']['p99_ms']:.1f} ms.")
p("")
p(f"EXPLAIN (ANALYZE, BUFFERS), key lines (full output: {env('REPORT_EXPLAIN')}):")
p("")
p("```")
keep = re.compile(r"^===|Index Scan|Index Only Scan|Seq Scan|Index Cond|Sort|Rows Removed|Planning Time|Execution Time")
top_buffers = False
for line in open(env("REPORT_EXPLAIN")):
    line = line.rstrip()
    if line.startswith("==="):
        top_buffers = True
    if keep.search(line) or (top_buffers and "Buffers:" in line):
        if "Buffers:" in line:
            top_buffers = False
        p(line)
p("```")
print("\n".join(out))
sys.exit(1 if errors else 0)
