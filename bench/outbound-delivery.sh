#!/usr/bin/env bash
# Benchmark: outbound delivery with the provider simulator answering at once.
#  1. Throughput: COUNT messages queued as the send endpoint queues them (message + outbox event), spread over
#     5,000 conversations of 4 LINE accounts, with the worker stopped; then the worker starts and drains them.
#     Deliveries/s from the messages' sent_at (whole run, and the middle 80 %), worker RSS sampled throughout.
#  2. Latency: POST /api/messages/send at RATE/s for DURATION s (open model); commit → first provider attempt
#     from the simulator's arrival time of each push (its retry key is the message id) minus the message's
#     created_at (the send transaction's start, so this slightly overstates).
#   bench/outbound-delivery.sh [duration=20] [rate=200] [count=20000]
. "$(dirname "$0")/lib.sh" 20 "$@"
# A stack of its own, so this can run beside the other benchmarks' stack.
export HUBCHAT_RUN_DIR=$HUBCHAT_ROOT/.run/bench-outbound HUBCHAT_HTTP_PORT=18280 HUBCHAT_PG_PORT=54359
export HUBCHAT_SIMULATOR_PORT=18290 WORKER_HEALTH_PORT=18281 HUBCHAT_REALTIME_PORT=18289
LOG_DIR=$HUBCHAT_RUN_DIR/logs PID_DIR=$HUBCHAT_RUN_DIR/pids
RATE=${2:-200}
COUNT=${3:-20000}
PER_CONVERSATION=$(( (COUNT + 4999) / 5000 ))
# 8 lanes claiming 16 jobs each (the batch is shared by the lanes): fewer statements per delivery.
export WORKER_OUTBOUND_CONCURRENCY=${WORKER_OUTBOUND_CONCURRENCY:-8} WORKER_OUTBOUND_BATCH_SIZE=${WORKER_OUTBOUND_BATCH_SIZE:-128}
export WORKER_OUTBOX_BATCH_SIZE=${WORKER_OUTBOX_BATCH_SIZE:-200}
# Our own per-account limit out of the way: this measures the pipeline (the provider ceilings still apply).
export OUTBOUND_RATE_LIMIT_REQUESTS_PER_WINDOW=1000000 OUTBOUND_RATE_LIMIT_WINDOW_SECONDS=1
stack_up >/dev/null
set -a; . "$HUBCHAT_RUN_DIR/stack.env"; set +a
find_pg_bin
sql() { PGOPTIONS='-c hubchat.scope=system' "$PG_BIN/psql" -X -q -tA "$DATABASE_URL" "$@"; }
# --- 1. throughput ---------------------------------------------------------------------------------------------
# The worker stops first: it would otherwise hold the tables the TRUNCATE needs (and deliver leftovers).
"$HUBCHAT_ROOT/scripts/ctl" worker-stop
sql -c "TRUNCATE outbox_events, queue_jobs"
sql -c "UPDATE messages SET delivery_status = 'FAILED', error_code = 'bench_abandoned' WHERE delivery_status = 'QUEUED'"
curl -fsS -X DELETE "$SIMULATOR_URL/__requests" >/dev/null
run=$(date +%s)
conversations=$HUBCHAT_RUN_DIR/bench-conversations.csv
sql -v tenant="$HUBCHAT_TENANT_ID" -v run="$run" -v accounts=4 -v conversations=5000 -v per_conversation="$PER_CONVERSATION" \
    -v conversations_file="$conversations" -f "$HUBCHAT_ROOT/bench/outbound/preload.sql"
queued=$(sql -c "SELECT count(*) FROM messages WHERE delivery_status = 'QUEUED' AND content LIKE 'bench $run %'")
pg_statements_begin  # BENCH_PG_STATEMENTS=1: where PostgreSQL spent its time during the drain
"$HUBCHAT_ROOT/scripts/ctl" worker-start
worker_pid=$(cat "$HUBCHAT_RUN_DIR/pids/worker.pid")
max_rss=0
deadline=$((SECONDS + 300))
while (( SECONDS < deadline )); do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$worker_pid/status" 2>/dev/null || echo 0)
    (( rss > max_rss )) && max_rss=$rss
    left=$(sql -c "SELECT count(*) FROM messages WHERE delivery_status = 'QUEUED' AND content LIKE 'bench $run %'")
    (( left == 0 )) && break
    (( SECONDS % 5 == 0 )) && echo "draining: $left left, worker RSS $((rss / 1024)) MB" >&2
    sleep 0.5
done
read -r sent failed whole steady < <(sql -F' ' -c "
    WITH s AS (SELECT extract(epoch FROM sent_at) AS t FROM messages
                WHERE content LIKE 'bench $run %' AND sent_at IS NOT NULL),
         q AS (SELECT percentile_cont(0.1) WITHIN GROUP (ORDER BY t) AS p10,
                      percentile_cont(0.9) WITHIN GROUP (ORDER BY t) AS p90, min(t) AS a, max(t) AS b FROM s)
    SELECT (SELECT count(*) FROM s),
           (SELECT count(*) FROM messages WHERE content LIKE 'bench $run %' AND delivery_status = 'FAILED'),
           round(((SELECT count(*) FROM s) / greatest(b - a, 0.001))::numeric),
           round(((SELECT count(*) FROM s WHERE t BETWEEN p10 AND p90) / greatest(p90 - p10, 0.001))::numeric)
      FROM q")
pg_statements_report
pushes=$(curl -fsS "$SIMULATOR_URL/__stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["byPath"].get("/v2/bot/message/push", 0))')

# --- 2. latency --------------------------------------------------------------------------------------------------
# The drain just rewrote 20,000 messages, jobs and outbox rows: let PostgreSQL's vacuum and checkpoint of that work
# happen now rather than under the paced sends, which measure the steady 200/s path.
su_sql -c "VACUUM ANALYZE messages, conversations, activity_logs, queue_jobs, outbox_events, rate_limit_windows" \
    -c "CHECKPOINT" >/dev/null
sleep 2
curl -fsS -X DELETE "$SIMULATOR_URL/__requests" >/dev/null
mark=$(sql -c "SELECT now()")
sender=$(python3 "$HUBCHAT_ROOT/bench/outbound/paced-send.py" "$HUBCHAT_URL" "$HUBCHAT_TENANT_ID" "$HUBCHAT_TOKEN" \
    "$conversations" "$RATE" "$DURATION")
sleep 2
attempts=$(sql -F, -c "SELECT id, extract(epoch FROM created_at) FROM messages
                        WHERE created_at >= '$mark' AND content LIKE 'paced send %'" \
    | python3 "$HUBCHAT_ROOT/bench/outbound/first-attempt.py" "$SIMULATOR_URL")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$worker_pid/status")

cat <<REPORT
### Outbound delivery ($(date -u +%F), $(nproc) cores, release build)

Worker: $WORKER_OUTBOUND_CONCURRENCY outbound lanes, batch $WORKER_OUTBOUND_BATCH_SIZE; simulator answering at once.

| measure | result |
|---|---|
| queued, then drained | $queued messages over 5,000 conversations, 4 LINE accounts |
| delivered / failed | $sent / $failed (simulator counted $pushes pushes) |
| deliveries/s, whole drain | $whole |
| deliveries/s, middle 80 % | $steady |
| worker RSS, max during the drain | $((max_rss / 1024)) MB (after the latency run: $((rss / 1024)) MB) |

Sends through the API at $RATE/s for ${DURATION}s (open model): \`$sender\`

Commit → first provider attempt: \`$attempts\`
REPORT
