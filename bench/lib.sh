# shellcheck shell=bash
# Shared by the bench scripts: a release stack of its own in .run/bench on port 18180 (so a
# development or test stack keeps running), stopped when the script exits.
#   . bench/lib.sh DEFAULT_DURATION "$@"   → DURATION, CONNECTIONS
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh
export HUBCHAT_RUN_DIR=$HUBCHAT_ROOT/.run/bench HUBCHAT_HTTP_PORT=18180 HUBCHAT_PG_PORT=54349 HUBCHAT_SIMULATOR_PORT=18190 WORKER_HEALTH_PORT=18181 HUBCHAT_REALTIME_PORT=18189
export HUBCHAT_BUILD_CONFIG=release HUBCHAT_FCGI_MAX_REQUESTS=10000000
LOG_DIR=$HUBCHAT_RUN_DIR/logs PID_DIR=$HUBCHAT_RUN_DIR/pids
DURATION=${2:-$1}
CONNECTIONS=${3:-32}
trap 'stack_down >/dev/null 2>&1 || true' EXIT

# BENCH_PG_STATEMENTS=1: where PostgreSQL spends its time during a measured phase (pg_stat_statements, nested
# statements of the inbox functions included; added to the bench cluster's configuration the first time).
#   pg_statements_begin   (after stack_up)   … measured work …   pg_statements_report   (to stderr)
su_sql() { as_pg "$PG_BIN/psql" -X -q -tA -h "$PG_DATA" -p "$HUBCHAT_PG_PORT" -U postgres -d hubchat "$@"; }
pg_statements_begin() {
    [[ ${BENCH_PG_STATEMENTS:-} ]] || return 0
    pg_data_dir
    if ! grep -q '^shared_preload_libraries' "$PG_DATA/postgresql.conf"; then
        printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n" >>"$PG_DATA/postgresql.conf"
        pg_restart
    fi
    su_sql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()" >/dev/null
}
pg_statements_report() {
    [[ ${BENCH_PG_STATEMENTS:-} ]] || return 0
    su_sql -F' | ' -c "
        SELECT calls, round(total_exec_time::numeric, 0) AS exec_ms, round(total_plan_time::numeric, 0) AS plan_ms,
               round((total_exec_time / greatest(calls, 1))::numeric, 3) AS ms_per_call,
               left(regexp_replace(query, '\s+', ' ', 'g'), ${BENCH_PG_STATEMENTS_WIDTH:-90})
          FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT ${BENCH_PG_STATEMENTS_TOP:-15}" >&2
}

# BENCH_CPU=1: which processes used the cores during a measured phase (from /proc: user + system time grouped by
# process name, reaped children included, so a process that exited meanwhile counts under its parent's name).
#   cpu_begin   … measured work …   cpu_report SECONDS [OPS_PER_SECOND]   (to stderr)
cpu_snapshot() {
    local f line comm rest
    for f in /proc/[0-9]*/stat; do
        { read -r line <"$f"; } 2>/dev/null || continue
        comm=${line#*\(}; comm=${comm%%\)*}; rest=${line##*\) }
        # shellcheck disable=SC2086
        set -- $rest
        printf '%s %s %s\n' "${f//[^0-9]/}" "${comm// /_}" $((${12} + ${13} + ${14} + ${15}))
    done
}
# Context switches of every live thread (voluntary: it slept; involuntary: it was preempted), by process name, for
# the processes a webhook passes through; a thread that started during the phase counts from zero, one that ended
# (a backend that disconnected) not at all.
switch_snapshot() {
    local name pid task
    for name in postgres nginx hubchat-fcgi; do
        for pid in $(pgrep -x "$name"); do
            for task in /proc/"$pid"/task/*/status; do
                awk -v id="${task//[^0-9\/]/}" -v name="$name" '
                    /^voluntary_ctxt_switches/ {v = $2} /^nonvoluntary_ctxt_switches/ {n = $2}
                    END {print id, name, v + 0, n + 0}' "$task" 2>/dev/null || true
            done
        done
    done
}
cpu_begin() { [[ ${BENCH_CPU:-} ]] || return 0; CPU_BEFORE=$(cpu_snapshot); SWITCHES_BEFORE=$(switch_snapshot); }
cpu_report() {  # seconds the phase took [operations per second, to show CPU microseconds per operation]
    [[ ${BENCH_CPU:-} ]] || return 0
    awk -v hz="$(getconf CLK_TCK)" -v secs="$1" -v rate="${2:-0}" -v cores="$(nproc)" '
        NR == FNR {before[$1] = $3; next}
        {used[$2] += $3 - before[$1]; total += $3 - before[$1]}
        function line(name, ticks) {
            printf "  %-24s %6.2f core-s  %5.1f%%", name, ticks / hz, 100 * ticks / (hz * cores * secs)
            if (rate > 0) printf "  %5.0f us/op", 1e6 * ticks / hz / (rate * secs)
            printf "\n"
        }
        END {
            printf "CPU during the phase (%d cores x %ss = %.1f core-seconds available):\n", cores, secs, cores * secs
            for (name in used) if (used[name] / hz >= 0.05) line(name, used[name])
            line("(all)", total)
        }' <(echo "$CPU_BEFORE") <(cpu_snapshot) | sort -k2 -rn >&2
    [[ ${2:-0} != 0 ]] || return 0
    awk -v ops="$(awk -v r="$2" -v s="$1" 'BEGIN {print r * s}')" '
        NR == FNR {v[$1] = $3; n[$1] = $4; next}
        {sv[$2] += $3 - v[$1]; sn[$2] += $4 - n[$1]; all += $3 - v[$1] + $4 - n[$1]}
        END {
            if (all < ops / 10) exit  # the phase'"'"'s processes have exited (pgbench and its backends)
            print "Context switches per operation (slept + preempted), threads alive at the end:"
            for (name in sv) if (sv[name] + sn[name] > 0)
                printf "  %-24s %5.2f + %5.2f\n", name, sv[name] / ops, sn[name] / ops
        }' <(echo "$SWITCHES_BEFORE") <(switch_snapshot) >&2
}
