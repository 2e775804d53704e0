#!/usr/bin/env bash
# The real Apache Kafka broker (KRaft, single node) from Maven Central jars, on 127.0.0.1 only.
#
#   kafka.sh install   resolve the jars into the cache (once per version)
#   kafka.sh start     install if needed, format storage once, start, wait until it answers metadata
#   kafka.sh stop      stop it by PID (SIGTERM, then SIGKILL after 30 s)
#   kafka.sh status    exit 0 when running and answering
#
# Environment (defaults): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_DATA_DIR
# (<repo>/.run/kafka), KAFKA_HEAP (512m), ADPULSE_CACHE_DIR (~/.cache/adpulse), PYTHON (<repo>/.venv/bin/python).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
cache="${ADPULSE_CACHE_DIR:-$HOME/.cache/adpulse}/kafka/$version"
libs="$cache/libs"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
data="${KAFKA_DATA_DIR:-$repo/.run/kafka}"
heap="${KAFKA_HEAP:-512m}"
python="${PYTHON:-$repo/.venv/bin/python}"
pidfile="$data/kafka.pid"

log() { printf '[kafka] %s\n' "$*"; }

install() {
    if [[ -f "$cache/.complete" ]]; then return 0; fi
    log "resolving Apache Kafka $version jars from Maven Central into $libs"
    rm -rf "$libs"
    mkdir -p "$libs"
    mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime
    touch "$cache/.complete"  # only after a complete copy: an interrupted download is redone
}

# Alive and not a zombie (a killed broker may linger unreaped).
pid_alive() { [[ -r "/proc/$1/status" ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }
running() { [[ -f "$pidfile" ]] && pid_alive "$(cat "$pidfile")"; }

# Answers a real metadata request (not just an open port).
answers() {
    "$python" - "$port" 2>/dev/null <<'PY'
import asyncio, sys
from aiokafka.admin import AIOKafkaAdminClient

async def main() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{sys.argv[1]}", request_timeout_ms=3000)
    await admin.start()
    try:
        await admin.describe_cluster()
    finally:
        await admin.close()

try:
    asyncio.run(main())
except Exception:
    sys.exit(1)
PY
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
    install
    mkdir -p "$data"
    if running; then
        if answers; then log "already running (pid $(cat "$pidfile")) on 127.0.0.1:$port"; return 0; fi
        log "pid $(cat "$pidfile") is alive but not answering yet"
    else
        rm -f "$pidfile"
        for p in "$port" "$controller_port"; do
            if port_taken "$p"; then log "port $p is taken by another process: set KAFKA_PORT/KAFKA_CONTROLLER_PORT"; exit 1; fi
        done
        sed -e "s:@PORT@:$port:g" -e "s:@CONTROLLER_PORT@:$controller_port:g" -e "s:@DATA_DIR@:$data:g" \
            "$here/server.properties.in" > "$data/server.properties"
        local started=$SECONDS
        if [[ ! -f "$data/logs/meta.properties" ]]; then
            java -cp "$libs/*" kafka.tools.StorageTool format --standalone --ignore-formatted \
                -t "$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)" \
                -c "$data/server.properties" > "$data/format.out" 2>&1 || { cat "$data/format.out" >&2; exit 1; }
        fi
        setsid java "-Xms128m" "-Xmx$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
            -Djava.awt.headless=true -Dlog4j2.configurationFile="$here/log4j2.properties" \
            -cp "$libs/*" kafka.Kafka "$data/server.properties" > "$data/kafka.out" 2>&1 < /dev/null &
        echo $! > "$pidfile"
        log "started pid $! (log $data/kafka.out), waiting for it to answer"
    fi
    for _ in $(seq 1 120); do
        if answers; then log "ready on 127.0.0.1:$port after $((SECONDS - ${started:-$SECONDS}))s"; return 0; fi
        if ! running; then log "broker exited; last lines:"; tail -n 40 "$data/kafka.out" >&2; rm -f "$pidfile"; exit 1; fi
        sleep 0.5
    done
    log "not answering after 60s; see $data/kafka.out"
    exit 1
}

stop() {
    if ! running; then rm -f "$pidfile"; log "not running"; return 0; fi
    local pid
    pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then log "no clean shutdown in 30s, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$pidfile"
    log "stopped pid $pid"
}

status() {
    if running && answers; then log "running (pid $(cat "$pidfile")) on 127.0.0.1:$port"; return 0; fi
    log "not running"; return 1
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
