#!/usr/bin/env bash
# Benchmark: a trivial route through nginx and a FastCGI pool (GET /api/health, which runs
# SELECT 1 on the responder's connection) against a static file from the same nginx.
# Also samples responder memory (RSS) after ~10k and ~100k requests per responder.
#
# Starts its own release stack in .run/bench on port 18180 and stops it afterwards.
#   bench/trivial-route.sh [duration-seconds=15] [connections=32]
# Prints a Markdown block for docs/benchmarks.md.
. "$(dirname "$0")/lib.sh" 15 "$@"
stack_up >/dev/null
URL=http://127.0.0.1:$HUBCHAT_HTTP_PORT

wrk_run() {  # path → "rps p50 p99"
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$URL$1" | awk '
        /Requests\/sec/ {rps=$2}
        /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
        END {print rps, p50, p99}'
}

responder_rss() {  # → "min max" in MB over the api pool's responders
    local sup; sup=$(cat "$PID_DIR/fcgi-api.pid")
    for pid in $(cat /proc/$sup/task/$sup/children); do awk '/VmRSS/ {print $2}' /proc/$pid/status; done |
        sort -n | awk 'NR==1 {min=$1} {max=$1} END {printf "%.1f %.1f\n", min/1024, max/1024}'
}

processes=$HUBCHAT_FCGI_API_PROCESSES
log_start=$(wc -l <"$LOG_DIR/access.log" 2>/dev/null || echo 0)
# Warm up every responder (connections, prepared statements, page faults).
wrk -t2 -c"$CONNECTIONS" -d3s "$URL/api/health" >/dev/null
read -r s_rps s_p50 s_p99 < <(wrk_run /index.html)
read -r l_rps l_p50 l_p99 < <(wrk_run /api/health/live)
read -r a_rps a_p50 a_p99 < <(wrk_run /api/health)

# Memory: drive each responder to ~10k and then ~100k requests.
wrk_requests() {  # total requests, approximately, at full speed
    local seconds=$(( $1 / ${a_rps%.*} + 1 ))
    wrk -t2 -c"$CONNECTIONS" -d"${seconds}s" "$URL/api/health" >/dev/null
}
wrk_requests $((processes * 10000)); read -r rss10_min rss10_max < <(responder_rss)
wrk_requests $((processes * 90000)); read -r rss100_min rss100_max < <(responder_rss)
sleep 1.5  # the access log is flushed every second
errors=$(tail -n +"$((log_start + 1))" "$LOG_DIR/access.log" | grep -c '"status":5' || true)

cat <<REPORT
### Trivial route vs static file ($(date -u +%F), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r))

wrk -t2 -c$CONNECTIONS -d${DURATION}s, loopback; nginx $HUBCHAT_NGINX_WORKERS workers; api pool $processes responders,
FastCGI keepalive $(keepalive_for_pool "$processes") per nginx worker; release build.

| target | req/s | p50 | p99 |
|---|---|---|---|
| static file \`/index.html\` | $s_rps | $s_p50 | $s_p99 |
| \`GET /api/health/live\` (FastCGI, no database) | $l_rps | $l_p50 | $l_p99 |
| \`GET /api/health\` (FastCGI + \`SELECT 1\`) | $a_rps | $a_p50 | $a_p99 |

Ratio to the static file: live $(awk -v a="$l_rps" -v s="$s_rps" 'BEGIN {printf "%.2f", a/s}'), health $(awk -v a="$a_rps" -v s="$s_rps" 'BEGIN {printf "%.2f", a/s}').

Responder RSS (api pool, min–max over $processes responders): after ~10k requests each $rss10_min–$rss10_max MB,
after ~100k requests each $rss100_min–$rss100_max MB. 5xx answers during the whole run: $errors.
REPORT
