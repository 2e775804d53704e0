#!/usr/bin/env bash
# The local stack on one machine: Kafka (KRaft, from Maven Central), the development ClickHouse HTTP
# endpoint over the embedded engine, topics, migrations, the aggregator and the API (and `adpulse deliver`
# when ADPULSE_SOURCE_POSTBACKS, _META_CAPI, _TIKTOK_EVENTS or _GA4 is set).
#
#   deploy/stack.sh up      start everything in the background, wait until /readyz, print addresses
#   deploy/stack.sh run     up, then stay in the foreground; Ctrl-C stops everything it started
#   deploy/stack.sh down    stop everything by PID (API, aggregator, ClickHouse endpoint, Kafka)
#
# Everything listens on 127.0.0.1. Environment (defaults): ADPULSE_RUN_DIR (<repo>/.run),
# KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), CLICKHOUSE_DEV_PORT (8123), ADPULSE_PORT (8000),
# ADPULSE_REDIRECT_ALLOWLIST (localhost,127.0.0.1), PYTHON (<repo>/.venv/bin/python); KAFKA_SECURITY
# (plaintext; sasl_ssl) and KAFKA_NODES (1; 3) reach deploy/kafka/kafka.sh, whose client.env (bootstrap
# servers and, with sasl_ssl, the SASL user, password and CA file) every adpulse process then reads.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run_dir="${ADPULSE_RUN_DIR:-$repo/.run}"
python="${PYTHON:-$repo/.venv/bin/python}"
export KAFKA_PORT="${KAFKA_PORT:-9092}"
export KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
export KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$run_dir/kafka}"
export PYTHON="$python"
ch_port="${CLICKHOUSE_DEV_PORT:-8123}"
export ADPULSE_HOST="${ADPULSE_HOST:-127.0.0.1}"
export ADPULSE_PORT="${ADPULSE_PORT:-8000}"
export ADPULSE_CLICKHOUSE_URL="${ADPULSE_CLICKHOUSE_URL:-http://default:@127.0.0.1:$ch_port/adpulse}"
export ADPULSE_REDIRECT_ALLOWLIST="${ADPULSE_REDIRECT_ALLOWLIST:-localhost,127.0.0.1}"

log() { printf '[stack] %s\n' "$*"; }

# A process is alive when it exists and is not a zombie (killed children may linger unreaped).
pid_alive() { [[ -r "/proc/$1/status" ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }
alive() { [[ -f "$1" ]] && pid_alive "$(cat "$1")"; }

# wait_http URL SECONDS NAME PIDFILE: poll until URL answers 2xx, or fail (showing the log).
wait_http() {
    local url="$1" limit="$2" name="$3" pidfile="$4" start=$SECONDS
    until "$python" -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url" 2>/dev/null; do
        if ! alive "$pidfile"; then
            log "$name exited; last lines of its log:"; tail -n 30 "$run_dir/$name.log" >&2 || true; return 1
        fi
        if (( SECONDS - start > limit )); then log "$name not answering at $url after ${limit}s"; return 1; fi
        sleep 0.2
    done
}

# start NAME CMD...: run CMD in the background (own process group), PID in $run_dir/NAME.pid.
start() {
    local name="$1"; shift
    local pidfile="$run_dir/$name.pid"
    if alive "$pidfile"; then log "$name already running (pid $(cat "$pidfile"))"; return 0; fi
    # A leader killed with SIGKILL can leave its children behind (granian's workers): end its group.
    [[ -f "$pidfile" ]] && kill -KILL -- "-$(cat "$pidfile")" 2>/dev/null || true
    setsid "$@" >"$run_dir/$name.log" 2>&1 < /dev/null &
    echo $! >"$pidfile"
    log "$name started (pid $!, log $run_dir/$name.log)"
}

stop() {
    local name="$1" pidfile="$run_dir/$1.pid" pid
    if ! alive "$pidfile"; then
        [[ -f "$pidfile" ]] && kill -KILL -- "-$(cat "$pidfile")" 2>/dev/null || true  # orphans of a killed leader
        rm -f "$pidfile"; return 0
    fi
    pid="$(cat "$pidfile")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true  # the whole process group
    for _ in $(seq 1 100); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then log "$name did not stop in 10s, killing"; kill -KILL -- "-$pid" 2>/dev/null || true; fi
    rm -f "$pidfile"
    log "$name stopped"
}

up() {
    mkdir -p "$run_dir"
    "$repo/deploy/kafka/kafka.sh" start
    set -a  # ADPULSE_KAFKA_BOOTSTRAP and the security settings of the broker just started
    # shellcheck source=/dev/null
    . "$KAFKA_DATA_DIR/client.env"
    set +a
    start clickhouse "$python" -m adpulse.cli clickhouse-dev --path "$run_dir/clickhouse-data" --host 127.0.0.1 --port "$ch_port" --readonly-user bi
    wait_http "http://127.0.0.1:$ch_port/ping" 60 clickhouse "$run_dir/clickhouse.pid"
    "$python" -m adpulse.cli topics
    "$python" -m adpulse.cli migrate
    start aggregator "$python" -m adpulse.cli aggregate
    start api "$python" -m adpulse.cli api
    # Conversions delivered onward (issue 13): only when a delivery target is configured.
    if [[ -n "${ADPULSE_SOURCE_POSTBACKS:-}${ADPULSE_META_CAPI:-}${ADPULSE_TIKTOK_EVENTS:-}${ADPULSE_GA4:-}" ]]; then
        start deliver "$python" -m adpulse.cli deliver
    fi
    wait_http "http://$ADPULSE_HOST:$ADPULSE_PORT/readyz" 60 api "$run_dir/api.pid"
    cat <<EOT
[stack] ready:
  API (pixel /i, click /c, postback /postback, KPIs /v1/kpis)  http://$ADPULSE_HOST:$ADPULSE_PORT
  Kafka bootstrap ($ADPULSE_KAFKA_SECURITY_PROTOCOL)                    $ADPULSE_KAFKA_BOOTSTRAP
  ClickHouse HTTP (development/test only, embedded engine)     http://127.0.0.1:$ch_port  database adpulse
  logs and PIDs                                                $run_dir
EOT
}

down() {
    stop deliver
    stop api
    stop aggregator
    stop clickhouse
    "$repo/deploy/kafka/kafka.sh" stop
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    run)
        trap 'down; exit 0' INT TERM
        up || { down; exit 1; }
        log "running; Ctrl-C (or 'make stop') stops everything"
        while alive "$run_dir/api.pid" && alive "$run_dir/aggregator.pid"; do sleep 1; done
        log "a component exited; stopping the rest"; down; exit 1 ;;
    *) echo "usage: $0 up|run|down" >&2; exit 2 ;;
esac
