#!/usr/bin/env python3
"""Who used the CPU between two moments: per command name, from /proc/<pid>/stat, and the machine's total from
/proc/stat. Whatever the machine was busy with beyond the processes still alive at the end (a compiler run
that started and ended in between, say) shows as "unaccounted". Figures are % of one core (200 = both of 2).

usage: cpu-share.py snapshot > FILE
       cpu-share.py since FILE      → one JSON line {"seconds", "busy", "by_command": {...}, "unaccounted",
                                      "foreign": busy minus the bench stack and its load generators}
"""
import json, os, sys, time

TICK = os.sysconf("SC_CLK_TCK")
# The bench stack and its load generators; everything else is "foreign".
STACK = ("hubchat-fcgi", "hubchat-worker", "postgres", "nginx", "python3", "wrk")


def snapshot():
    with open("/proc/stat") as f:
        cpu = [int(v) for v in f.readline().split()[1:]]
    processes = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        processes[pid] = (comm, int(fields[11]) + int(fields[12]))  # utime + stime
    return {"at": time.monotonic(), "busy": sum(cpu) - cpu[3] - cpu[4], "processes": processes}


if sys.argv[1] == "snapshot":
    json.dump(snapshot(), sys.stdout)
else:
    with open(sys.argv[2]) as f:
        before = json.load(f)
    after = snapshot()
    seconds = after["at"] - before["at"]
    pct = lambda ticks: round(100 * ticks / TICK / seconds, 1)
    by_command = {}
    for pid, (comm, ticks) in after["processes"].items():
        used = ticks - (before["processes"].get(pid, (comm, 0))[1])
        if used > 0:
            by_command[comm] = by_command.get(comm, 0) + used
    busy = after["busy"] - before["busy"]
    ours = sum(by_command.get(c, 0) for c in STACK)
    print(json.dumps({"seconds": round(seconds, 1), "busy": pct(busy),
                      "by_command": {c: pct(t) for c, t in sorted(by_command.items(), key=lambda x: -x[1]) if pct(t) >= 0.5},
                      "unaccounted": pct(max(0, busy - sum(by_command.values()))), "foreign": pct(max(0, busy - ours))}))
