#!/usr/bin/env bash
# The real Apache Kafka broker (KRaft, single node) from Maven Central jars, on 127.0.0.1 only.
#
#   kafka.sh install   resolve the jars into the cache (once per version and pom.xml)
#   kafka.sh start     install if needed, format the storage once, start in the background, wait until
#                      the broker answers a metadata request; does nothing if it already runs
#   kafka.sh stop      stop it by PID: SIGTERM, SIGKILL after KAFKA_STOP_TIMEOUT seconds
#   kafka.sh status    exit 0 when it runs and answers, 1 otherwise
#
# Environment (defaults): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_DATA_DIR
# (<repo>/.run/kafka), KAFKA_HEAP (512m, the maximum heap), KAFKA_OPTS (extra JVM options),
# KAFKA_START_TIMEOUT (60), KAFKA_STOP_TIMEOUT (30), KAFKA_CDS (1; 0: no class-data sharing archive),
# ADPULSE_CACHE_DIR (~/.cache/adpulse), PYTHON (<repo>/.venv/bin/python, with aiokafka), JAVA_HOME
# (java on PATH; 17 or newer), MAVEN_OPTS (passed to mvn, e.g. -Dmaven.repo.local=...).
# See README.md next to this file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
cache="${ADPULSE_CACHE_DIR:-$HOME/.cache/adpulse}/kafka/$version"
libs="$cache/libs"
marker="$cache/.complete"
cds_dir="$cache/cds"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
data="$(realpath -m -- "${KAFKA_DATA_DIR:-$repo/.run/kafka}")"
heap="${KAFKA_HEAP:-512m}"
start_timeout="${KAFKA_START_TIMEOUT:-60}"
stop_timeout="${KAFKA_STOP_TIMEOUT:-30}"
use_cds="${KAFKA_CDS:-1}"
python="${PYTHON:-$repo/.venv/bin/python}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
java_version="" # `java -version`, read by check_java
pidfile="$data/kafka.pid"
bootstrap="127.0.0.1:$port"

log() { printf '[kafka] %s\n' "$*"; }
die() { printf '[kafka] error: %s\n' "$*" >&2; exit 1; }

# Wall-clock microseconds, and the seconds since such a mark (one decimal).
now() { printf '%s' "${EPOCHREALTIME//[!0-9]/}"; }
since() { local us=$(($(now) - $1)); printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000)); }

to_mib() {
    [[ $1 =~ ^([0-9]+)([kKmMgG]?)$ ]] || die "KAFKA_HEAP=$1: expected a size such as 512m or 1g"
    case "${BASH_REMATCH[2]}" in
        k | K) echo $((BASH_REMATCH[1] / 1024)) ;;
        g | G) echo $((BASH_REMATCH[1] * 1024)) ;;
        m | M) echo $((BASH_REMATCH[1])) ;;
        *) echo $((BASH_REMATCH[1] / 1048576)) ;;
    esac
}

is_port() { [[ $1 =~ ^[0-9]+$ ]] && (($1 > 0 && $1 < 65536)); }
is_port "$port" || die "KAFKA_PORT=$port is not a port number"
is_port "$controller_port" || die "KAFKA_CONTROLLER_PORT=$controller_port is not a port number"
[[ $port != "$controller_port" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"
[[ -n $version ]] || die "no <kafka.version> in $here/pom.xml"
[[ $data != *[,\\$'\n']* ]] || die "KAFKA_DATA_DIR must not contain a comma, a backslash or a newline"
[[ $start_timeout =~ ^[0-9]+$ && $stop_timeout =~ ^[0-9]+$ ]] || die "KAFKA_START_TIMEOUT/KAFKA_STOP_TIMEOUT: whole seconds"
heap_mib="$(to_mib "$heap")"
((heap_mib >= 128)) || die "KAFKA_HEAP=$heap is too small (128m at least)"

# --- install ------------------------------------------------------------------------------------

# The cache is keyed by the Kafka version; the marker holds the pom's digest, written only after
# a complete copy, so an interrupted download (or a changed pom) is done again.
installed() { [[ -d $libs && -f $marker && "$(<"$marker")" == "$1" ]]; }

install() {
    local want t0 tmp="$cache/libs.partial" old="$cache/libs.old.$$"
    want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
    installed "$want" && return 0
    command -v mvn >/dev/null || die "mvn not found: Maven 3 fetches Kafka from Maven Central"
    mkdir -p "$cache"
    exec 8>"$cache/.lock"
    flock -w 900 8 || die "another install holds $cache/.lock"
    if ! installed "$want"; then
        t0="$(now)"
        log "resolving Apache Kafka $version jars from Maven Central into $libs"
        rm -rf "$tmp" "$marker"
        if ! mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
            -DoutputDirectory="$tmp" >"$cache/install.log" 2>&1; then
            cat "$cache/install.log" >&2
            die "Maven could not resolve the jars (log: $cache/install.log)"
        fi
        [[ -f "$tmp/kafka_2.13-$version.jar" ]] || die "kafka_2.13-$version.jar missing after the copy"
        # Swap rather than delete first: a broker already running from $libs keeps finding its jars.
        if [[ -d $libs ]]; then mv "$libs" "$old"; fi
        mv "$tmp" "$libs"
        rm -rf "$old" "$cds_dir"  # class-data archives name the old jars
        printf '%s\n' "$want" >"$marker.tmp" && mv "$marker.tmp" "$marker"
        log "installed $(find "$libs" -name '*.jar' | wc -l) jars ($(du -sh "$libs" | cut -f1)) in $(since "$t0")s"
    fi
    exec 8>&-
}

# --- processes ----------------------------------------------------------------------------------

# Alive and not a zombie (a killed broker may linger unreaped).
pid_alive() { [[ -r "/proc/$1/status" ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

# The PID is this data dir's broker (not a PID reused by something else since).
ours() {
    local cmd
    [[ $1 =~ ^[0-9]+$ ]] && pid_alive "$1" || return 1
    cmd="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
    [[ $cmd == *" kafka.Kafka $data/server.properties "* ]]
}

pid_of_file() { if [[ -f $pidfile ]]; then cat "$pidfile" 2>/dev/null || true; fi; }
running() { ours "$(pid_of_file)"; }

# ready TIMEOUT [PID]: the broker answers a metadata request (0), did not in time (1), PID exited (2).
check_python() { [[ -x $python ]] || die "no Python at $python (run 'make install', or set PYTHON to one with aiokafka)"; }
ready() {
    "$python" "$here/kafka_ready.py" "$bootstrap" --timeout "$1" ${2:+--pid "$2"}
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_holder() {
    if command -v ss >/dev/null; then ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -n1 || true; fi
}

lock_data() {
    exec 9>"$data/.kafka.lock"
    flock -w $((start_timeout + stop_timeout + 30)) 9 || die "another kafka.sh holds $data/.kafka.lock"
}

render() {
    local text
    text="$(<"$here/server.properties.in")"
    text="${text//@PORT@/"$port"}"
    text="${text//@CONTROLLER_PORT@/"$controller_port"}"
    text="${text//@DATA_DIR@/"$data"}"
    printf '%s\n' "$text"
}

check_java() {
    local line major
    command -v "$java" >/dev/null || die "java not found (Kafka $version needs Java 17 or newer)"
    java_version="$("$java" -version 2>&1)"
    line="$(head -n1 <<<"$java_version")"
    major="$(sed -n 's/.*version "\([0-9]*\).*/\1/p' <<<"$line")"
    ((${major:-0} >= 17)) || die "Kafka $version needs Java 17 or newer, found: $line"
}

# The logs of the broker started last (server.log is appended to across runs; the PID file is
# written when the broker starts).
show_logs() {
    local f
    for f in "$data/kafka.out" "$data/server.log"; do
        if [[ -s $f && ($f == */kafka.out || $f -nt $pidfile) ]]; then
            printf -- '--- last lines of %s\n' "$f" && tail -n 30 "$f"
        fi
    done >&2
}

# A random KRaft cluster id: 16 random bytes, URL-safe base64 without padding, not starting with '-'.
cluster_id() {
    local id
    while :; do
        id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        [[ $id != -* ]] && break
    done
    printf '%s' "$id"
}

# Class-data sharing: the JVM maps the classes a previous broker loaded from an archive instead of
# loading and verifying them from the jars again (start-up about 1 s faster here). The first broker
# without an archive records one when it exits (ArchiveClassesAtExit: its stop takes a few seconds
# longer); `stop` keeps it only after a clean exit. One archive per JVM build; install drops them.
cds_archive() { printf '%s/broker-%s.jsa' "$cds_dir" "$(sha256sum <<<"$java_version" | cut -c1-16)"; }

# keep_cds yes|no: promote (or drop) the archive recorded by the broker that has just exited.
keep_cds() {
    local note="$data/cds.pending" tmp final
    [[ -f $note ]] || return 0
    tmp="$(<"$note")"
    rm -f "$note"
    final="${tmp%.partial.*}"
    if [[ $1 == yes && -s $tmp && ! -e $final ]]; then mv -n "$tmp" "$final"; fi
    rm -f "$tmp"
}

# --- commands -----------------------------------------------------------------------------------

start() {
    local t0 t1 t_install t_format="0.0" pid rc jvm rendered running_config id jsa="" cds=()
    t0="$(now)"
    check_python
    install
    t_install="$(since "$t0")"
    mkdir -p "$data"
    lock_data
    rendered="$(render)"

    pid="$(pid_of_file)"
    if ours "$pid"; then
        running_config="$(cat "$data/server.properties" 2>/dev/null || true)"
        if [[ "$(grep '^listeners=' <<<"$running_config")" != "$(grep '^listeners=' <<<"$rendered")" ]]; then
            die "the broker in $data (pid $pid) listens on other ports than KAFKA_PORT=$port/KAFKA_CONTROLLER_PORT=$controller_port: '$0 stop' it first"
        fi
        [[ $running_config == "$rendered" ]] || log "server.properties.in changed since pid $pid started: stop and start to apply it"
        if ready 0; then
            log "already running (pid $pid), bootstrap $bootstrap"
            return 0
        fi
        log "pid $pid is running but not answering yet; waiting"
    else
        if [[ -n $pid || -f $pidfile ]]; then
            log "removing a stale pid file (pid ${pid:-?} is not this broker)"
            rm -f "$pidfile"
        fi
        keep_cds no
        check_java
        cds=()
        if [[ $use_cds == 1 ]]; then
            jsa="$(cds_archive)"
            [[ -f $jsa ]] && cds=("-XX:SharedArchiveFile=$jsa")
        fi
        for p in "$port" "$controller_port"; do
            if port_taken "$p"; then
                die "127.0.0.1:$p is already in use by another process $(port_holder "$p"); stop it or choose free ports with KAFKA_PORT / KAFKA_CONTROLLER_PORT"
            fi
        done
        printf '%s\n' "$rendered" >"$data/server.properties"

        if [[ ! -f "$data/logs/meta.properties" ]]; then
            t1="$(now)"
            id="$(cluster_id)"
            log "formatting the storage in $data/logs (cluster id $id)"
            if ! "$java" -Xmx256m "${cds[@]}" -cp "$libs/*" kafka.tools.StorageTool format --standalone -t "$id" \
                -c "$data/server.properties" >"$data/format.out" 2>&1; then
                cat "$data/format.out" >&2
                die "formatting the storage failed"
            fi
            t_format="$(since "$t1")"
        fi

        jvm=(
            "-Xms$((heap_mib < 256 ? heap_mib : 256))m" "-Xmx${heap_mib}m" -XX:MaxMetaspaceSize=256m
            # Kafka's own G1 settings (kafka-run-class.sh); the JVM sizes GC and JIT threads to the cores.
            -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
            -XX:+ExplicitGCInvokesConcurrent
            -XX:+ExitOnOutOfMemoryError "-XX:ErrorFile=$data/hs_err_pid%p.log"
            "-Xlog:gc*:file=$data/gc.log:time,uptime,level,tags:filecount=3,filesize=10M"
            -Djava.awt.headless=true "-Dkafka.logs.dir=$data" "-Dlog4j2.configurationFile=$here/log4j2.properties"
        )
        if [[ $use_cds == 1 && ${#cds[@]} -eq 0 ]]; then
            mkdir -p "$cds_dir"
            printf '%s\n' "$jsa.partial.$$" >"$data/cds.pending"
            cds=("-XX:ArchiveClassesAtExit=$jsa.partial.$$" "-Xlog:cds*=off") # no "class not archived" lines
        fi
        jvm+=("${cds[@]}")
        # shellcheck disable=SC2206 # KAFKA_OPTS is a list of JVM options, split on spaces on purpose.
        [[ -n ${KAFKA_OPTS:-} ]] && jvm+=($KAFKA_OPTS)

        # Its own session (Ctrl-C in the caller's terminal does not reach it), working directory the
        # data dir, no inherited lock descriptor.
        (cd "$data" && exec setsid "$java" "${jvm[@]}" -cp "$libs/*" kafka.Kafka "$data/server.properties" \
            >"$data/kafka.out" 2>&1 </dev/null 9>&-) &
        pid=$!
        printf '%s\n' "$pid" >"$pidfile"
        log "started pid $pid (heap ${heap_mib}m; logs $data/server.log, $data/kafka.out); waiting for it to answer"
    fi

    t1="$(now)"
    rc=0
    ready "$start_timeout" "$pid" || rc=$?
    case $rc in
        0)
            log "ready: bootstrap $bootstrap (pid $pid) in $(since "$t0")s (install ${t_install}s, format ${t_format}s, broker $(since "$t1")s)"
            ;;
        2)
            show_logs
            rm -f "$pidfile"
            keep_cds no
            die "the broker exited during start-up"
            ;;
        *)
            show_logs
            log "not answering on $bootstrap after ${start_timeout}s: stopping it"
            exec 9>&-
            stop
            exit 1
            ;;
    esac
}

stop() {
    local pid t0 clean i
    [[ -d $data ]] || { log "not running"; return 0; }
    lock_data
    pid="$(pid_of_file)"
    if ! ours "$pid"; then
        keep_cds no
        if [[ -f $pidfile ]]; then
            rm -f "$pidfile"
            log "not running (removed a stale pid file)"
        else
            log "not running"
        fi
        return 0
    fi
    t0="$(now)"
    clean=yes
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < stop_timeout * 10; i++)); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then
        log "pid $pid did not shut down within ${stop_timeout}s: SIGKILL"
        clean=no
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do pid_alive "$pid" || break; sleep 0.1; done
        pid_alive "$pid" && die "pid $pid still alive after SIGKILL"
    fi
    rm -f "$pidfile"
    keep_cds "$clean"
    log "stopped pid $pid in $(since "$t0")s"
}

status() {
    local pid
    check_python
    pid="$(pid_of_file)"
    if ours "$pid"; then
        if ready 0; then
            log "running (pid $pid), bootstrap $bootstrap, data $data"
            return 0
        fi
        log "pid $pid is running but not answering on $bootstrap"
        return 1
    fi
    log "not running (data $data)"
    return 1
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: $0 install|start|stop|status" >&2
        exit 2
        ;;
esac
