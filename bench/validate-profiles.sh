#!/usr/bin/env bash
# The low and medium validation profiles on this machine: `hubchat validate stage` against a release stack with the
# provider simulator, sends shortened to SECONDS each (the profiles' own 10 and 15 minutes of sends are for a
# real stage; rates and bursts are the profiles'). Prints each summary; reports land in .run/bench-validate/.
#   bench/validate-profiles.sh [seconds of sends=120]
. "$(dirname "$0")/lib.sh" 120 "$@"
export HUBCHAT_RUN_DIR=$HUBCHAT_ROOT/.run/bench-validate HUBCHAT_HTTP_PORT=18280 HUBCHAT_PG_PORT=54359
export HUBCHAT_SIMULATOR_PORT=18290 WORKER_HEALTH_PORT=18281 HUBCHAT_REALTIME_PORT=18289
LOG_DIR=$HUBCHAT_RUN_DIR/logs PID_DIR=$HUBCHAT_RUN_DIR/pids
# The stack's own per-account send limit (OUTBOUND_RATE_LIMIT_*, 120 a minute by default) is below the medium
# profile's 800 sends a minute over three accounts: a stage sets it to what its provider plans allow.
export OUTBOUND_RATE_LIMIT_REQUESTS_PER_WINDOW=${OUTBOUND_RATE_LIMIT_REQUESTS_PER_WINDOW:-6000} OUTBOUND_RATE_LIMIT_WINDOW_SECONDS=60
stack_up >/dev/null
set -a; . "$HUBCHAT_RUN_DIR/stack.env"; set +a
for profile in low medium; do
    say "profile $profile"
    "$HUBCHAT_BIN_DIR/hubchat" validate stage --profile "$profile" --duration "$DURATION" \
        --output "$HUBCHAT_RUN_DIR/loadtest-$profile.json" || true
done
