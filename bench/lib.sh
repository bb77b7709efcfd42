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
