#!/usr/bin/env bash
# The fault drill, long form: scripts/fault-drill on a release stack of its own, with a longer load.
#   bench/fault-drill.sh [seconds of sends=120] [webhook events=3000]
. "$(dirname "$0")/lib.sh" 120 "$@"
EVENTS=${2:-3000}
export WORKER_OUTBOX_PROCESSING_TIMEOUT_SECONDS=${WORKER_OUTBOX_PROCESSING_TIMEOUT_SECONDS:-10}
stack_up >/dev/null
"$HUBCHAT_ROOT/scripts/fault-drill" "$DURATION" "$EVENTS"
