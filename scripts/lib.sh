# shellcheck shell=bash
# Shared by scripts/up, scripts/down and scripts/test: one stack = one run directory
# (PostgreSQL data, sockets, logs, pid files, secrets), so a test stack and a development
# stack can run side by side on different ports.

set -euo pipefail

HUBCHAT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export HUBCHAT_ROOT
: "${HUBCHAT_RUN_DIR:=$HUBCHAT_ROOT/.run}"
: "${HUBCHAT_HTTP_PORT:=8080}"
: "${HUBCHAT_LISTEN:=127.0.0.1}"
: "${HUBCHAT_PG_PORT:=54329}"
: "${HUBCHAT_BUILD_CONFIG:=release}"
: "${HUBCHAT_SIMULATOR_PORT:=18090}"
: "${WORKER_HEALTH_PORT:=$((HUBCHAT_SIMULATOR_PORT - 9))}"
: "${HUBCHAT_REALTIME_PORT:=$((HUBCHAT_HTTP_PORT + 9))}"
: "${HUBCHAT_NGINX_WORKERS:=2}"
: "${HUBCHAT_FCGI_WEBHOOK_PROCESSES:=1}"
: "${HUBCHAT_FCGI_WEBHOOK_THREADS:=8}"
: "${HUBCHAT_FCGI_API_PROCESSES:=8}"
export HUBCHAT_RUN_DIR HUBCHAT_HTTP_PORT HUBCHAT_LISTEN HUBCHAT_PG_PORT HUBCHAT_BUILD_CONFIG HUBCHAT_NGINX_WORKERS
export HUBCHAT_SIMULATOR_PORT WORKER_HEALTH_PORT HUBCHAT_REALTIME_PORT
export HUBCHAT_FCGI_WEBHOOK_PROCESSES HUBCHAT_FCGI_WEBHOOK_THREADS HUBCHAT_FCGI_API_PROCESSES

PG_BIN=${PG_BIN:-}
LOG_DIR=$HUBCHAT_RUN_DIR/logs
PID_DIR=$HUBCHAT_RUN_DIR/pids

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- packages

REQUIRED_PACKAGES=(libfcgi-dev libpq-dev libcurl4-openssl-dev libvips-dev pkg-config postgresql nginx-light libnginx-mod-nchan
                   wrk curl python3 python3-venv ca-certificates)

install_packages() {
    local missing=()
    for p in "${REQUIRED_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    # nginx-light and nginx-core both satisfy "an nginx with the modules we use".
    if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v nginx >/dev/null; then
        missing=("${missing[@]/nginx-light}")
    fi
    missing=($(printf '%s\n' "${missing[@]}" | sed '/^$/d'))
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        [[ $EUID -eq 0 ]] || die "missing packages (${missing[*]}); run as root or install them"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        # The Debian package starts a system nginx on :80 and a system PostgreSQL; HubChat
        # runs its own, so those are left alone but must not hold our ports.
    fi
    command -v swift >/dev/null || die "Swift 6 is required (swift not found on PATH)"
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
    [[ -x $PG_BIN/postgres ]] || die "PostgreSQL server binaries not found"
}

find_pg_bin() {
    [[ -n $PG_BIN ]] || PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
}

# ---------------------------------------------------------------- build

BIN_DIR=""
build_binaries() {
    say "building ($HUBCHAT_BUILD_CONFIG)"
    mkdir -p "$HUBCHAT_ROOT/.run"
    local product
    for product in hubchat-fcgi hubchat-worker hubchat; do
        # A failed build stops here rather than leaving an older binary to run.
        if ! (cd "$HUBCHAT_ROOT" && swift build -c "$HUBCHAT_BUILD_CONFIG" --product "$product" \
                >"$HUBCHAT_ROOT/.run/build.log" 2>&1); then
            grep -E 'error' "$HUBCHAT_ROOT/.run/build.log" | head -40 >&2
            die "building $product failed (full log: .run/build.log)"
        fi
    done
    BIN_DIR=$(cd "$HUBCHAT_ROOT" && swift build -c "$HUBCHAT_BUILD_CONFIG" --show-bin-path)
    for b in hubchat-fcgi hubchat-worker hubchat; do
        [[ -x $BIN_DIR/$b ]] || die "build failed: $BIN_DIR/$b is missing"
    done
    export BIN_DIR
}

locate_binaries() {
    BIN_DIR=$(cd "$HUBCHAT_ROOT" && swift build -c "$HUBCHAT_BUILD_CONFIG" --show-bin-path)
    export BIN_DIR
}

# ---------------------------------------------------------------- secrets

# Development secrets are random, made once per run directory and kept in it.
ensure_secrets() {
    mkdir -p "$HUBCHAT_RUN_DIR" "$LOG_DIR" "$PID_DIR"
    chmod 711 "$HUBCHAT_RUN_DIR"  # traversable (PostgreSQL runs as its own user), not listable
    local f=$HUBCHAT_RUN_DIR/secrets.env
    if [[ ! -s $f ]]; then
        local hex; hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
        local uuid; uuid() { cat /proc/sys/kernel/random/uuid; }
        umask 077
        cat >"$f" <<EOF
PG_SUPERUSER_PASSWORD=$(hex 16)
PG_APP_PASSWORD=$(hex 16)
HUBCHAT_JWT_SECRET=$(hex 32)
HUBCHAT_TENANT_ID=$(uuid)
LINE_CHANNEL_SECRET=$(hex 16)
LINE_CHANNEL_ACCESS_TOKEN=dev-line-token-$(hex 12)
LINE_DESTINATION=U$(hex 16)
FACEBOOK_APP_SECRET=$(hex 16)
FACEBOOK_VERIFY_TOKEN=dev-verify-$(hex 8)
FACEBOOK_PAGE_ACCESS_TOKEN=dev-page-token-$(hex 12)
FACEBOOK_PAGE_ID=1$(od -An -tu8 -N8 /dev/urandom | tr -d ' ' | cut -c1-14)
INSTAGRAM_ACCOUNT_ID=17841$(od -An -tu8 -N8 /dev/urandom | tr -d ' ' | cut -c1-10)
EOF
        umask 022
    fi
    # Secrets added by later versions of this script join an existing file.
    grep -q '^HUBCHAT_MEDIA_SIGNING_SECRET=' "$f" || echo "HUBCHAT_MEDIA_SIGNING_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >>"$f"
    set -a; . "$f"; set +a
    export HUBCHAT_MEDIA_DIR=${HUBCHAT_MEDIA_DIR:-$HUBCHAT_RUN_DIR/media}
    export HUBCHAT_PUBLIC_BASE_URL=${HUBCHAT_PUBLIC_BASE_URL:-http://$HUBCHAT_LISTEN:$HUBCHAT_HTTP_PORT}
    # The local cluster's Unix-domain socket: on one host it spares every round trip the TCP/IP stack (a profile of
    # the webhook bench put a sixth of the responders' CPU in loopback TCP). TCP when the socket path would be too
    # long for the kernel (107 bytes), or when HUBCHAT_PG_TCP=1.
    pg_data_dir
    # (The socket directory goes percent-encoded in the host part, which libpq reads as a path: the URL stays one
    # shell word in stack.env.)
    if [[ -z ${HUBCHAT_PG_TCP:-} && ${#PG_DATA} -lt 90 ]]; then
        export DATABASE_URL="postgresql://hubchat:${PG_APP_PASSWORD}@${PG_DATA//\//%2F}:${HUBCHAT_PG_PORT}/hubchat"
    else
        export DATABASE_URL="postgresql://hubchat:${PG_APP_PASSWORD}@127.0.0.1:${HUBCHAT_PG_PORT}/hubchat"
    fi
    export DEFAULT_TENANT_ID=$HUBCHAT_TENANT_ID
}

# ---------------------------------------------------------------- PostgreSQL

PG_DATA=""
pg_user() { [[ $EUID -eq 0 ]] && echo postgres || id -un; }
as_pg() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_data_dir() {
    PG_DATA=$HUBCHAT_RUN_DIR/pg
    # The server runs as the postgres user, which must be able to reach the data directory.
    if [[ $EUID -eq 0 ]] && ! runuser -u postgres -- test -x "$HUBCHAT_RUN_DIR" 2>/dev/null; then
        PG_DATA=/var/lib/hubchat-dev/$(printf '%s' "$HUBCHAT_RUN_DIR" | sha1sum | cut -c1-12)/pg
    fi
}

pg_running() { [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

pg_start() {
    find_pg_bin; pg_data_dir
    if [[ ! -s $PG_DATA/PG_VERSION ]]; then
        say "creating the database cluster in $PG_DATA"
        mkdir -p "$PG_DATA"
        [[ $EUID -eq 0 ]] && { chown -R postgres: "$(dirname "$PG_DATA")"; chmod 700 "$PG_DATA"; }
        local pw; pw=$(mktemp); printf '%s\n' "$PG_SUPERUSER_PASSWORD" >"$pw"; chmod 644 "$pw"
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$pw" --auth-local=peer \
            --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
        rm -f "$pw"
        cat >>"$PG_DATA/postgresql.conf" <<EOF
# HubChat development/test cluster
listen_addresses = '127.0.0.1'
port = $HUBCHAT_PG_PORT
unix_socket_directories = '$PG_DATA'
max_connections = 200
shared_buffers = 256MB
# Webhook ingestion writes ~15 MB of WAL a second at full rate: with the default 1 GB, a checkpoint every ~25 s
# ("checkpoints are occurring too frequently"), each followed by full-page images and ending in a sync of up to
# 0.3 s on this disk.
max_wal_size = 8GB
log_min_duration_statement = 500
EOF
    fi
    # The application's role logs in with its password over the socket too (initdb's default is peer for local
    # connections, which would want an OS user named hubchat). First match wins, so the line goes first.
    if ! as_pg grep -q '^local hubchat hubchat scram-sha-256' "$PG_DATA/pg_hba.conf"; then
        as_pg sed -i '1i local hubchat hubchat scram-sha-256' "$PG_DATA/pg_hba.conf"
        pg_running && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" reload >/dev/null
    fi
    if ! pg_running; then
        say "starting PostgreSQL on 127.0.0.1:$HUBCHAT_PG_PORT"
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 start >/dev/null
    fi
    # The application's role owns its database but is no superuser, so row-level security
    # applies to it.
    as_pg "$PG_BIN/psql" -h "$PG_DATA" -p "$HUBCHAT_PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
        -v pw="$PG_APP_PASSWORD" >/dev/null <<'SQL'
-- A drill (scripts/ctl pg-read-only) interrupted before it ended must not leave this cluster read-only for good.
ALTER SYSTEM RESET default_transaction_read_only;
SELECT pg_reload_conf();
SELECT format('CREATE ROLE hubchat LOGIN PASSWORD %L', :'pw') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hubchat') \gexec
SELECT 'CREATE DATABASE hubchat OWNER hubchat' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'hubchat') \gexec
SQL
}

pg_stop() {
    find_pg_bin; pg_data_dir
    if pg_running; then
        say "stopping PostgreSQL"
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null || true
    fi
}

pg_restart() {
    find_pg_bin; pg_data_dir
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -l "$PG_DATA/server.log" restart >/dev/null
}

# ---------------------------------------------------------------- processes

# Whether the pid file names a live process of this stack. After a reboot or a container restart an old pid file
# may name someone else's process, which must never be signalled: the process must be the program that pid file is
# for (its command line, as each is started below or by nginx) and name this checkout or this stack's run directory.
pid_alive() {
    [[ -f $1 ]] || return 1
    local pid cmd program; pid=$(cat "$1")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    case $(basename "$1") in
        worker.pid) program="*/hubchat-worker *" ;;
        fcgi-*.pid) program="*/hubchat-fcgi serve *" ;;
        simulator.pid) program="* */scripts/provider-simulator *" ;;
        nginx.pid) program="nginx: master process *" ;;
        *) program="*" ;;
    esac
    [[ $cmd == $program ]] || return 1
    # (The binaries' path as SwiftPM prints it has the symlinks of a linked checkout resolved.)
    [[ $cmd == *"$HUBCHAT_ROOT/"* || $cmd == *"$HUBCHAT_RUN_DIR/"* || $cmd == *"$(cd "$HUBCHAT_ROOT" && pwd -P)/"* ]]
}

start_daemon() {  # name, command...
    local name=$1; shift
    local pidfile=$PID_DIR/$name.pid
    if pid_alive "$pidfile"; then return 0; fi
    setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
}

stop_daemon() {  # name [timeout seconds]
    local pidfile=$PID_DIR/$1.pid timeout=${2:-15}
    pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
    local pid; pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

wait_for_socket() {
    for _ in $(seq 1 100); do [[ -S $1 ]] && return 0; sleep 0.05; done
    die "$1 did not appear; see $LOG_DIR"
}

# The stack's channel accounts live in the database (migrate_and_seed), so the application
# runs without the single-tenant env fallback: a webhook for an unknown account is refused.
APP_ENV=(env -u DEFAULT_TENANT_ID -u LINE_CHANNEL_SECRET -u LINE_CHANNEL_ACCESS_TOKEN -u FACEBOOK_APP_SECRET
         -u FACEBOOK_VERIFY_TOKEN -u FACEBOOK_PAGE_ACCESS_TOKEN -u PG_SUPERUSER_PASSWORD -u PG_APP_PASSWORD)

# The development and test stacks talk to the provider simulator instead of LINE and Meta.
start_simulator() {
    export SIMULATOR_URL=http://127.0.0.1:$HUBCHAT_SIMULATOR_PORT
    export LINE_API_BASE_URL=$SIMULATOR_URL LINE_DATA_API_BASE_URL=$SIMULATOR_URL META_GRAPH_BASE_URL=$SIMULATOR_URL
    # Media of this stack is served over http on loopback; real providers need https (HUBCHAT_PUBLIC_BASE_URL).
    start_daemon simulator python3 "$HUBCHAT_ROOT/scripts/provider-simulator" --port "$HUBCHAT_SIMULATOR_PORT" \
        --media-base "${HUBCHAT_PUBLIC_BASE_URL:-http://$HUBCHAT_LISTEN:$HUBCHAT_HTTP_PORT}/media/" ${HUBCHAT_SIMULATOR_OPTIONS:-}
    for _ in $(seq 1 50); do curl -fsS "$SIMULATOR_URL/__health" >/dev/null 2>&1 && return 0; sleep 0.1; done
    die "the provider simulator did not start; see $LOG_DIR/simulator.log"
}

start_app() {
    mkdir -p "$HUBCHAT_RUN_DIR/sockets"
    start_daemon fcgi-webhooks "${APP_ENV[@]}" "$BIN_DIR/hubchat-fcgi" serve --group webhooks \
        --socket "$HUBCHAT_RUN_DIR/sockets/webhooks.sock" --processes "$HUBCHAT_FCGI_WEBHOOK_PROCESSES"
    start_daemon fcgi-api "${APP_ENV[@]}" "$BIN_DIR/hubchat-fcgi" serve --group api \
        --socket "$HUBCHAT_RUN_DIR/sockets/api.sock" --processes "$HUBCHAT_FCGI_API_PROCESSES"
    start_daemon worker "${APP_ENV[@]}" "$BIN_DIR/hubchat-worker"
    wait_for_socket "$HUBCHAT_RUN_DIR/sockets/webhooks.sock"
    wait_for_socket "$HUBCHAT_RUN_DIR/sockets/api.sock"
}

stop_app() {
    stop_daemon simulator
    stop_daemon worker
    stop_daemon fcgi-api
    stop_daemon fcgi-webhooks
}

# ---------------------------------------------------------------- nginx

# Kept FastCGI connections per nginx worker: each pins a responder thread, so all workers together
# keep fewer than the pool has threads (half of them), leaving threads free for new connections.
# HUBCHAT_NGINX_FASTCGI_KEEPALIVE overrides it (0 turns upstream keepalive off).
keepalive_for_pool() {
    local threads=$1
    if [[ -n ${HUBCHAT_NGINX_FASTCGI_KEEPALIVE:-} ]]; then echo "$HUBCHAT_NGINX_FASTCGI_KEEPALIVE"; return; fi
    echo $((threads / (2 * HUBCHAT_NGINX_WORKERS)))
}

# Media under /media/{bucket}/: public buckets are plain files; signed ones need a valid,
# unexpired secure_link (md5 of "{expires}{uri} {secret}"), which nginx checks itself.
render_media_locations() {
    local inbound_mode=${INBOUND_MEDIA_URL_MODE:-public} image_mode=${MESSAGE_IMAGE_URL_MODE:-signed}
    local file_mode=${MESSAGE_FILE_URL_MODE:-$image_mode}
    local out=$HUBCHAT_RUN_DIR/nginx/media.conf bucket mode
    mkdir -p "$HUBCHAT_MEDIA_DIR"
    : >"$out"
    for pair in "${INBOUND_MEDIA_BUCKET:-inbound-media}:$inbound_mode" "${MESSAGE_IMAGE_BUCKET:-message-images}:$image_mode" \
                "${MESSAGE_FILE_BUCKET:-${MESSAGE_IMAGE_BUCKET:-message-images}}:$file_mode"; do
        bucket=${pair%%:*} mode=${pair##*:}
        grep -q "location /media/$bucket/ " "$out" && continue
        {
            echo "location /media/$bucket/ {"
            echo "    alias $HUBCHAT_MEDIA_DIR/$bucket/;"
            if [[ $mode == signed ]]; then
                echo '    secure_link $arg_md5,$arg_expires;'
                echo "    secure_link_md5 \"\$secure_link_expires\$uri $HUBCHAT_MEDIA_SIGNING_SECRET\";"
                echo '    if ($secure_link = "") { return 403; }'
                echo '    if ($secure_link = "0") { return 410; }'
            fi
            echo '    expires 7d;'
            echo "}"
        } >>"$out"
    done
    chmod 600 "$out"
}

render_nginx() {
    mkdir -p "$HUBCHAT_RUN_DIR/nginx" "$LOG_DIR"
    render_media_locations
    "$BIN_DIR/hubchat-fcgi" nginx-allow-map >"$HUBCHAT_RUN_DIR/nginx/allow.conf"
    local kw ka
    kw=$(keepalive_for_pool $((HUBCHAT_FCGI_WEBHOOK_PROCESSES * HUBCHAT_FCGI_WEBHOOK_THREADS)))
    ka=$(keepalive_for_pool "$HUBCHAT_FCGI_API_PROCESSES")
    export HUBCHAT_WEBHOOK_KEEPALIVE_LINE="" HUBCHAT_API_KEEPALIVE_LINE=""
    export HUBCHAT_WEBHOOK_KEEP_CONN=off HUBCHAT_API_KEEP_CONN=off
    if ((kw > 0)); then HUBCHAT_WEBHOOK_KEEPALIVE_LINE="keepalive $kw;"; HUBCHAT_WEBHOOK_KEEP_CONN=on; fi
    if ((ka > 0)); then HUBCHAT_API_KEEPALIVE_LINE="keepalive $ka;"; HUBCHAT_API_KEEP_CONN=on; fi
    export HUBCHAT_UPLOAD_BODY_LIMIT="$(( ${MESSAGE_UPLOAD_MAX_SIZE_MB:-10} + 1 ))m"
    export HUBCHAT_NCHAN_MODULE=${HUBCHAT_NCHAN_MODULE:-/usr/lib/nginx/modules/ngx_nchan_module.so}
    [[ -f $HUBCHAT_NCHAN_MODULE ]] || die "nginx's nchan module is missing ($HUBCHAT_NCHAN_MODULE): apt install libnginx-mod-nchan"
    export HUBCHAT_NGINX_USER_LINE=""
    [[ $EUID -eq 0 ]] && HUBCHAT_NGINX_USER_LINE="user root;"
    envsubst "$(printf '${%s} ' HUBCHAT_NGINX_USER_LINE HUBCHAT_NGINX_WORKERS HUBCHAT_RUN_DIR HUBCHAT_ROOT \
        HUBCHAT_LISTEN HUBCHAT_HTTP_PORT HUBCHAT_WEBHOOK_KEEPALIVE_LINE HUBCHAT_API_KEEPALIVE_LINE \
        HUBCHAT_WEBHOOK_KEEP_CONN HUBCHAT_API_KEEP_CONN HUBCHAT_UPLOAD_BODY_LIMIT HUBCHAT_NCHAN_MODULE \
        HUBCHAT_REALTIME_PORT)" \
        <"$HUBCHAT_ROOT/nginx/hubchat.conf.template" >"$HUBCHAT_RUN_DIR/nginx/nginx.conf"
    nginx -t -q -c "$HUBCHAT_RUN_DIR/nginx/nginx.conf" -p "$HUBCHAT_RUN_DIR/nginx" 2>&1 | grep -v -e 'could not open error log' -e 'shared memory for nchan' >&2 || true
}

nginx_start() {
    render_nginx
    local pidfile=$HUBCHAT_RUN_DIR/nginx/nginx.pid
    if pid_alive "$pidfile"; then
        nginx -c "$HUBCHAT_RUN_DIR/nginx/nginx.conf" -p "$HUBCHAT_RUN_DIR/nginx" -s reload
    else
        say "starting nginx on http://$HUBCHAT_LISTEN:$HUBCHAT_HTTP_PORT"
        nginx -c "$HUBCHAT_RUN_DIR/nginx/nginx.conf" -p "$HUBCHAT_RUN_DIR/nginx"
    fi
}

nginx_stop() {
    local pidfile=$HUBCHAT_RUN_DIR/nginx/nginx.pid
    if pid_alive "$pidfile"; then
        nginx -c "$HUBCHAT_RUN_DIR/nginx/nginx.conf" -p "$HUBCHAT_RUN_DIR/nginx" -s quit || true
        for _ in $(seq 1 50); do pid_alive "$pidfile" || break; sleep 0.1; done
    fi
}

wait_for_health() {
    local url="http://$HUBCHAT_LISTEN:$HUBCHAT_HTTP_PORT/api/health"
    for _ in $(seq 1 100); do
        curl -fsS "$url" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "$url did not become healthy; see $LOG_DIR"
}

# ---------------------------------------------------------------- data

migrate_and_seed() {
    say "migrating"
    "$BIN_DIR/hubchat" migrate --schema-dir "$HUBCHAT_ROOT/schema"
    say "seeding the demo tenant"
    local t=$HUBCHAT_TENANT_ID h=$BIN_DIR/hubchat
    "$h" tenant add --id "$t" --name "Demo Shop" >/dev/null
    "$h" agent add --tenant "$t" --email admin@demo.hubchat.local --name "Demo Admin" --role ADMIN >/dev/null
    "$h" agent add --tenant "$t" --email manager@demo.hubchat.local --name "Demo Manager" --role MANAGER >/dev/null
    "$h" agent add --tenant "$t" --email sales@demo.hubchat.local --name "Demo Sales" --role SALES >/dev/null
    "$h" channel add --tenant "$t" --channel LINE --external-id "$LINE_DESTINATION" --name "Demo LINE OA" \
        --secret "$LINE_CHANNEL_SECRET" --access-token "$LINE_CHANNEL_ACCESS_TOKEN" >/dev/null
    "$h" channel add --tenant "$t" --channel FACEBOOK --external-id "$FACEBOOK_PAGE_ID" --name "Demo Page" \
        --secret "$FACEBOOK_APP_SECRET" --access-token "$FACEBOOK_PAGE_ACCESS_TOKEN" \
        --verify-token "$FACEBOOK_VERIFY_TOKEN" >/dev/null
    "$h" channel add --tenant "$t" --channel INSTAGRAM --external-id "$INSTAGRAM_ACCOUNT_ID" --name "Demo Instagram" \
        --secret "$FACEBOOK_APP_SECRET" --access-token "$FACEBOOK_PAGE_ACCESS_TOKEN" \
        --verify-token "$FACEBOOK_VERIFY_TOKEN" >/dev/null
    HUBCHAT_TOKEN=$("$h" token --tenant "$t" --email admin@demo.hubchat.local --ttl-hours 720)
    HUBCHAT_MANAGER_TOKEN=$("$h" token --tenant "$t" --email manager@demo.hubchat.local --ttl-hours 720)
    HUBCHAT_SALES_TOKEN=$("$h" token --tenant "$t" --email sales@demo.hubchat.local --ttl-hours 720)
    export HUBCHAT_TOKEN HUBCHAT_MANAGER_TOKEN HUBCHAT_SALES_TOKEN
}

write_stack_env() {
    local f=$HUBCHAT_RUN_DIR/stack.env
    umask 077
    cat >"$f" <<EOF
# Written by scripts/up: how to reach this stack. Source it: set -a; . $f; set +a
HUBCHAT_URL=http://$HUBCHAT_LISTEN:$HUBCHAT_HTTP_PORT
DATABASE_URL=$DATABASE_URL
HUBCHAT_RUN_DIR=$HUBCHAT_RUN_DIR
HUBCHAT_BIN_DIR=$BIN_DIR
HUBCHAT_TENANT_ID=$HUBCHAT_TENANT_ID
HUBCHAT_TOKEN=$HUBCHAT_TOKEN
HUBCHAT_MANAGER_TOKEN=$HUBCHAT_MANAGER_TOKEN
HUBCHAT_SALES_TOKEN=$HUBCHAT_SALES_TOKEN
HUBCHAT_JWT_SECRET=$HUBCHAT_JWT_SECRET
LINE_CHANNEL_SECRET=$LINE_CHANNEL_SECRET
LINE_CHANNEL_ACCESS_TOKEN=$LINE_CHANNEL_ACCESS_TOKEN
LINE_DESTINATION=$LINE_DESTINATION
FACEBOOK_APP_SECRET=$FACEBOOK_APP_SECRET
FACEBOOK_VERIFY_TOKEN=$FACEBOOK_VERIFY_TOKEN
FACEBOOK_PAGE_ACCESS_TOKEN=$FACEBOOK_PAGE_ACCESS_TOKEN
FACEBOOK_PAGE_ID=$FACEBOOK_PAGE_ID
INSTAGRAM_ACCOUNT_ID=$INSTAGRAM_ACCOUNT_ID
HUBCHAT_HTTP_PORT=$HUBCHAT_HTTP_PORT
HUBCHAT_PG_PORT=$HUBCHAT_PG_PORT
HUBCHAT_SIMULATOR_PORT=$HUBCHAT_SIMULATOR_PORT
WORKER_HEALTH_PORT=$WORKER_HEALTH_PORT
HUBCHAT_REALTIME_PORT=$HUBCHAT_REALTIME_PORT
HUBCHAT_PG_DATA=$PG_DATA
HUBCHAT_MEDIA_DIR=$HUBCHAT_MEDIA_DIR
HUBCHAT_PUBLIC_BASE_URL=$HUBCHAT_PUBLIC_BASE_URL
HUBCHAT_MEDIA_SIGNING_SECRET=$HUBCHAT_MEDIA_SIGNING_SECRET
SIMULATOR_URL=$SIMULATOR_URL
HUBCHAT_REALTIME_PUBLISH_URL=$HUBCHAT_REALTIME_PUBLISH_URL
WORKER_METRICS_URL=http://127.0.0.1:$WORKER_HEALTH_PORT/metrics
WORKER_READY_URL=http://127.0.0.1:$WORKER_HEALTH_PORT/ready
LINE_API_BASE_URL=$LINE_API_BASE_URL
LINE_DATA_API_BASE_URL=$LINE_DATA_API_BASE_URL
META_GRAPH_BASE_URL=$META_GRAPH_BASE_URL
EOF
    umask 022
}

# The whole stack, in dependency order. Safe to run again while it is up: what runs keeps
# running (PostgreSQL, nginx reloads its config), the application processes are replaced so
# that a rebuilt binary takes over.
# A port another program holds would make a later step fail half-way (nginx: "could not bind"), leaving part of
# the stack running; look first. A port held by this stack's own process (up run again while up) is fine.
check_ports() {
    local spec name pidfile port
    for spec in "HUBCHAT_HTTP_PORT:$HUBCHAT_RUN_DIR/nginx/nginx.pid" "HUBCHAT_REALTIME_PORT:$HUBCHAT_RUN_DIR/nginx/nginx.pid" \
                "HUBCHAT_SIMULATOR_PORT:$PID_DIR/simulator.pid" "WORKER_HEALTH_PORT:$PID_DIR/worker.pid"; do
        name=${spec%%:*} pidfile=${spec#*:} port=${!name:-}
        [[ -n $port ]] || continue
        pid_alive "$pidfile" && continue
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            die "port $port ($name) is taken by another program; choose a free one, e.g. $name=$((port + 100)) $0"
        fi
    done
}

stack_up() {
    export HUBCHAT_REALTIME_PUBLISH_URL=http://127.0.0.1:$HUBCHAT_REALTIME_PORT
    install_packages
    check_ports
    ensure_secrets
    if [[ ${HUBCHAT_SKIP_BUILD:-0} == 1 ]]; then locate_binaries; else build_binaries; fi
    pg_start
    migrate_and_seed
    stop_app
    start_simulator
    start_app
    nginx_start
    wait_for_health
    write_stack_env
}

stack_down() {
    nginx_stop
    stop_app
    pg_stop
}
