#!/usr/bin/env bash
# Benchmark: signed LINE webhooks (one ~1 KB text event each, distinct event ids) through
# nginx into the webhook pool, durable commits, against the pgbench ceiling of the handler's
# own store statement and payload measured in alternating rounds, with and without a pg_notify inside
# the transaction (the wake-up the handler does NOT do), and how many events each of the pool's group commits
# carried, with the same statement's pgbench rate at that batch size. BENCH_CPU=1 adds where the CPU went.
#   [BENCH_ROUNDS=3] [BENCH_CPU=1] bench/webhook-ingest.sh [duration-seconds=15] [connections=8]
# Prints a Markdown block for docs/benchmarks.md. Uses its own stack in .run/bench.
. "$(dirname "$0")/lib.sh" 15 "$@"
CONNECTIONS=${2:-8}  # (lib.sh set it from its own arguments, with another default)
stack_up >/dev/null
set -a; . "$HUBCHAT_RUN_DIR/stack.env"; set +a
find_pg_bin
PSQL=("$PG_BIN/psql" -q -X "$DATABASE_URL")
# In memory where there is a tmpfs: each round writes ~90 MB of bodies, and the kernel wrote them back to the disk
# PostgreSQL flushes its WAL to ~30 s later, in the middle of a later round (p99 26-34 ms in such rounds).
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"; stack_down >/dev/null 2>&1 || true' EXIT

# The ceiling: pgbench running the handler's own store statement (taken from its source) for one event with the
# payload wrk posts, as the webhook pool runs it (system scope), durable commits.
account=$("${PSQL[@]}" -tA -c "SET hubchat.scope='system'; SELECT id FROM channel_accounts
    WHERE tenant_id = '$HUBCHAT_TENANT_ID' AND channel = 'LINE' AND external_account_id = '$LINE_DESTINATION'")
python3 "$HUBCHAT_ROOT/bench/webhook/store-sql.py" "$HUBCHAT_TENANT_ID" "$account" "$LINE_DESTINATION" "$work/store.sql"
{ echo 'BEGIN;'; cat "$work/store.sql"; echo "SELECT pg_notify('hubchat_bench', '');"; echo 'COMMIT;'; } >"$work/store-notify.sql"
# For comparison with earlier runs: the same two inserts written plainly (no arrays, a built payload of 900 bytes,
# no channel account), the ceiling this bench used until 2026-11-27.
cat >"$work/plain.sql" <<SQL
\set n random(1, 9000000000000)
WITH stored AS (
  INSERT INTO webhook_events (tenant_id, channel, provider_event_id, event_type, payload)
  VALUES ('$HUBCHAT_TENANT_ID', 'LINE', 'pgbench-' || :n || '-' || :client_id, 'message.text',
          jsonb_build_object('type', 'message', 'text', repeat('x', 900)))
  ON CONFLICT ON CONSTRAINT webhook_events_provider_event_key DO NOTHING
  RETURNING id, tenant_id, channel, provider_event_id, payload)
INSERT INTO outbox_events (tenant_id, topic, payload, idempotency_key, ordering_key)
SELECT tenant_id, 'bench.only', jsonb_build_object('webhookEventId', id), channel || ':' || provider_event_id,
       channel || ':' || coalesce(payload #>> '{source,groupId}', payload #>> '{source,userId}', provider_event_id)
  FROM stored;
SQL

pgbench_tps() {  # script → tps
    PGOPTIONS='-c hubchat.scope=system' "$PG_BIN/pgbench" -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" \
        -f "$1" "$DATABASE_URL" 2>/dev/null | awk '/^tps/ {printf "%.0f\n", $3}'
}

# The worker would otherwise compete for the CPU while draining; this measures ingestion.
stop_daemon worker
python3 "$HUBCHAT_ROOT/bench/webhook/make-bodies.py" $((6000 * DURATION)) "$LINE_DESTINATION" "$LINE_CHANNEL_SECRET" "$work/bodies.tsv"
posted="SET hubchat.scope='system'; SELECT count(*) FROM webhook_events WHERE strpos(provider_event_id, '-') = 0"
before=$("${PSQL[@]}" -tA -c "$posted")
BODIES=$work/bodies.tsv THREADS=2 wrk -t2 -c"$CONNECTIONS" -d3s -s "$HUBCHAT_ROOT/bench/webhook/post.lua" \
    "$HUBCHAT_URL" >/dev/null  # warm-up (its events are stored too)

# The webhooks and the ceiling, in ROUNDS alternating pairs: this host's disk and CPU drift from one minute to the
# next (the ceiling alone moved 4,600-5,900 between runs), so each ratio compares two phases measured side by side,
# and the overall ratio sums the rounds. CPU (BENCH_CPU=1) and statements (BENCH_PG_STATEMENTS=1) of round 1.
ROUNDS=${BENCH_ROUNDS:-3}
rounds_table="" sum_rps=0 sum_ceiling=0 worst_p99=0 non2xx=0
for ((round = 1; round <= ROUNDS; round++)); do
    # Fresh event ids every round (wrk's script starts from the first line each time).
    python3 "$HUBCHAT_ROOT/bench/webhook/make-bodies.py" $((6000 * DURATION)) "$LINE_DESTINATION" "$LINE_CHANNEL_SECRET" "$work/bodies.tsv"
    ((round == 1)) && { pg_statements_begin; cpu_begin; }
    read -r w_rps w_p50 w_p99 bad < <(BODIES=$work/bodies.tsv THREADS=2 wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency \
        -s "$HUBCHAT_ROOT/bench/webhook/post.lua" "$HUBCHAT_URL" | awk '
            function ms(v) { return v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000 }
            /Requests\/sec/ {rps=$2} /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)} /Non-2xx/ {bad=$NF}
            END {print rps, p50, p99, (bad == "" ? 0 : bad)}')
    if ((round == 1)); then
        sleep 1
        [[ ${BENCH_CPU:-} ]] && echo "wrk through nginx:" >&2
        cpu_report "$DURATION" "$w_rps"
        pg_statements_report
        cpu_begin
    fi
    ceiling=$(pgbench_tps "$work/store.sql")
    if ((round == 1)); then
        sleep 1  # the backends' time reaches the postmaster when they have exited
        [[ ${BENCH_CPU:-} ]] && echo "pgbench, the ceiling:" >&2
        cpu_report "$DURATION" "$ceiling"
    fi
    rounds_table+="| $round | $w_rps | ${w_p50} ms | ${w_p99} ms | $ceiling | $(awk -v a="$w_rps" -v c="$ceiling" 'BEGIN {printf "%.2f", a/c}') |"$'\n'
    sum_rps=$(awk -v a="$sum_rps" -v b="$w_rps" 'BEGIN {print a + b}')
    sum_ceiling=$((sum_ceiling + ceiling))
    worst_p99=$(awk -v a="$worst_p99" -v b="$w_p99" 'BEGIN {print (b > a ? b : a)}')
    non2xx=$((non2xx + bad))
done
after=$("${PSQL[@]}" -tA -c "$posted")
# The group commit: how many events each store transaction carried (every row's xmin is the transaction that
# inserted it; the ceiling's own rows, whose ids carry a '-', are left out), and the ceiling of the same statement
# run in batches of that size.
read -r commits per_commit < <("${PSQL[@]}" -tA -F' ' -c "SET hubchat.scope='system';
    SELECT count(DISTINCT xmin::text), round(count(*)::numeric / greatest(count(DISTINCT xmin::text), 1), 2)
      FROM webhook_events WHERE strpos(provider_event_id, '-') = 0")
batch=$(awk -v k="$per_commit" 'BEGIN {k = int(k + 0.5); print (k < 1 ? 1 : k)}')
python3 "$HUBCHAT_ROOT/bench/webhook/store-sql.py" "$HUBCHAT_TENANT_ID" "$account" "$LINE_DESTINATION" "$work/batch.sql" "$batch"
with_notify=$(pgbench_tps "$work/store-notify.sql")
batched=$(( $(pgbench_tps "$work/batch.sql") * batch ))
plain=$(pgbench_tps "$work/plain.sql")
# The bench stack's own database: leave no backlog for the next bench.
PGOPTIONS='-c hubchat.scope=system' "${PSQL[@]}" -c "TRUNCATE webhook_events, held_revisions, outbox_events, queue_jobs"

mean_rps=$(awk -v s="$sum_rps" -v n="$ROUNDS" 'BEGIN {printf "%.0f", s / n}')
cat <<REPORT
### Webhook ingestion ($(date -u +%F), $(nproc) cores, release build)

Signed LINE deliveries, one ~1 KB text event each with a distinct event id, wrk -t2 -c$CONNECTIONS -d${DURATION}s
through nginx; webhook pool $HUBCHAT_FCGI_WEBHOOK_PROCESSES processes x $HUBCHAT_FCGI_WEBHOOK_THREADS threads,
${HUBCHAT_FCGI_WEBHOOK_COMMIT_LANES:-1} commit lane(s) each; durable commits (synchronous_commit on);
worker stopped so that only ingestion is measured. The ceiling: pgbench of the handler's store statement (event +
outbox row) with the same payload, one delivery a transaction, same clients and duration, prepared, right after
each wrk phase, in $ROUNDS alternating rounds.

| round | webhooks/s through nginx | p50 | p99 | ceiling (pgbench) | ratio |
|---|---|---|---|---|---|
${rounds_table}
| what | per second |
|---|---|
| \`POST /api/webhook/line\` through nginx (account lookup, HMAC, store, wake-up), mean of the rounds | $mean_rps |
| pgbench, the handler's store statement and payload (the ceiling), mean of the rounds | $((sum_ceiling / ROUNDS)) |
| pgbench, the same with \`pg_notify\` inside the transaction | $with_notify |
| pgbench, the two inserts written plainly (the ceiling of runs before 2026-11-27, later) | $plain |
| pgbench, the store statement with $batch events a transaction, as the group commit ran it (events/s) | $batched |

Ratio webhook / ceiling over the $ROUNDS rounds: $(awk -v a="$sum_rps" -v c="$sum_ceiling" 'BEGIN {printf "%.2f", a/c}');
worst p99 $worst_p99 ms. Events posted and stored during the rounds and the warm-up: $((after - before)) in $commits
store transactions ($per_commit events each on average, the webhook pool's group commit); non-2xx answers: $non2xx.
REPORT
