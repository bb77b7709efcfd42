#!/usr/bin/env bash
# Chooses the responder pool model by measurement: GET /api/health through nginx for several
# pool sizes, with and without upstream keepalive (FastCGI keep_conn).
#   bench/pool-model.sh [duration-seconds=10] [connections=32]
# Prints a Markdown table for docs/benchmarks.md. Uses its own stack in .run/bench.
. "$(dirname "$0")/lib.sh" 10 "$@"
URL=http://127.0.0.1:$HUBCHAT_HTTP_PORT/api/health

echo "| responders | keepalive per nginx worker | req/s | p50 | p99 | max |"
echo "|---|---|---|---|---|---|"
first=1
for processes in ${POOL_SIZES:-4 8 16 32}; do
    for keepalive in 0 $((processes / (2 * HUBCHAT_NGINX_WORKERS))) $((processes / HUBCHAT_NGINX_WORKERS)); do
        ((keepalive == 0)) && [[ $keepalive != 0 ]] && continue
        export HUBCHAT_FCGI_API_PROCESSES=$processes HUBCHAT_NGINX_FASTCGI_KEEPALIVE=$keepalive
        if ((first)); then stack_up >/dev/null 2>&1; first=0; export HUBCHAT_SKIP_BUILD=1
        else stop_app; start_app; nginx_start >/dev/null; wait_for_health; fi
        wrk -t2 -c"$CONNECTIONS" -d3s "$URL" >/dev/null
        wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$URL" | awk -v p="$processes" -v k="$keepalive" '
            /Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Latency/ && !lat {max=$4; lat=1}
            END {printf "| %s | %s | %s | %s | %s | %s |\n", p, (k == 0 ? "off" : k), rps, p50, p99, max}'
    done
done
