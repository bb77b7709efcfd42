#!/usr/bin/env bash
# Benchmark: webhook accepted → message visible, at a steady rate (open model).
# Posts signed LINE text deliveries at RATE/s for the duration (bench/webhook/paced-sender.py),
# the worker running, then reads from the database how long each event took from being stored
# (webhook_events.received_at) to being processed into a message (processed_at, set in the
# transaction that inserts the message).
#   bench/webhook-latency.sh [duration-seconds=20] [rate=500]
. "$(dirname "$0")/lib.sh" 20 "$@"
RATE=${2:-500}
stack_up >/dev/null
set -a; . "$HUBCHAT_RUN_DIR/stack.env"; set +a
find_pg_bin
# Start from an empty pipeline (before the warm-up: a TRUNCATE invalidates every process's cached plans and
# resets the tables' statistics, so right before the measured run it would measure a cold start again). The
# warm-up's backlog is drained before the run starts (the sleep below), and the run's figures count its own events.
PGOPTIONS='-c hubchat.scope=system' "$PG_BIN/psql" -q -X "$DATABASE_URL" -c "TRUNCATE webhook_events, held_revisions, outbox_events, queue_jobs"
# Warm-up, as the wrk benches have: 3 s at the same rate from other customers, so the stack's processes and
# connections are past their first requests (BENCH_COLD=1 skips it and measures from a fresh start). The measured
# run still brings 200 customers the inbox has never seen, whose first events create their leads.
if [[ -z ${BENCH_COLD:-} ]]; then
    python3 "$HUBCHAT_ROOT/bench/webhook/paced-sender.py" "$HUBCHAT_URL" "$LINE_DESTINATION" "$LINE_CHANNEL_SECRET" \
        "$RATE" 3 "warm$(date +%s)" >/dev/null
    sleep 2
    # As in production, where these tables hold recent history and autovacuum keeps their statistics: plans made
    # while they were empty (a sequential scan of a table that just grew) are made again.
    PGOPTIONS='-c hubchat.scope=system' "$PG_BIN/psql" -q -X "$DATABASE_URL" -c "ANALYZE webhook_events, outbox_events, queue_jobs"
fi
pg_statements_begin  # BENCH_PG_STATEMENTS=1: where PostgreSQL spent its time during the run
prefix=paced$(date +%s)
sender=$(python3 "$HUBCHAT_ROOT/bench/webhook/paced-sender.py" "$HUBCHAT_URL" "$LINE_DESTINATION" "$LINE_CHANNEL_SECRET" \
    "$RATE" "$DURATION" "$prefix")
sleep 3  # let the worker finish
# Whole run, and the steady state after a 2 s warm-up (the first seconds carry the cold start:
# new lanes' connections and prepared statements, and the first message of every customer).
stats() {  # extra WHERE clause → "count processed p50 p99 max"
    PGOPTIONS='-c hubchat.scope=system' "$PG_BIN/psql" -X -tA -F' ' "$DATABASE_URL" -c "
        SELECT count(*), count(processed_at),
               round(1000 * extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY processed_at - received_at))::numeric, 1),
               round(1000 * extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY processed_at - received_at))::numeric, 1),
               round(1000 * extract(epoch FROM max(processed_at - received_at))::numeric, 1)
          FROM webhook_events
         WHERE provider_event_id LIKE '$prefix-%' $1"
}
pg_statements_report
# BENCH_TIMELINE=1: how the first seconds went, per 250 ms of arrival (where a first-contact backlog shows).
[[ ${BENCH_TIMELINE:-} ]] && PGOPTIONS='-c hubchat.scope=system' "$PG_BIN/psql" -X -q "$DATABASE_URL" -c "
    WITH e AS (SELECT received_at, processed_at - received_at AS waited,
                      min(received_at) OVER () AS t0 FROM webhook_events WHERE provider_event_id LIKE '$prefix-%')
    SELECT floor(extract(epoch FROM received_at - t0) * 4) / 4 AS from_s, count(*) AS events,
           round(1000 * extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY waited))::numeric, 1) AS p50_ms,
           round(1000 * extract(epoch FROM max(waited))::numeric, 1) AS max_ms
      FROM e GROUP BY 1 HAVING floor(extract(epoch FROM min(received_at) - min(t0)) * 4) / 4 < 4 ORDER BY 1" >&2
read -r events processed p50 p99 max < <(stats "")
read -r s_events s_processed s_p50 s_p99 s_max < <(stats "AND received_at >= (SELECT min(received_at) + interval '2 seconds'
                                                       FROM webhook_events WHERE provider_event_id LIKE '$prefix-%')")
cat <<REPORT
### Webhook accepted → message visible ($(date -u +%F), $(nproc) cores, release build)

$RATE signed LINE deliveries per second for ${DURATION}s (open model, 16 sender threads), worker running
(one process, poll backstop ${WORKER_POLL_INTERVAL_MS:-200} ms, woken by coalesced NOTIFYs); $([[ -z ${BENCH_COLD:-} ]] \
    && echo "after a 3 s warm-up from other customers" || echo "from a fresh start, no warm-up"); 200 new customers.

| measure | p50 | p99 | max |
|---|---|---|---|
| stored → processed, whole run (database clock) | ${p50} ms | ${p99} ms | ${max} ms |
| stored → processed, after the first 2 s ($s_events events) | ${s_p50} ms | ${s_p99} ms | ${s_max} ms |

Sender: $sender. Events stored: $events, processed: $processed.
REPORT
