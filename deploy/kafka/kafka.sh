#!/usr/bin/env bash
# The real Apache Kafka (KRaft) from Maven Central jars, on 127.0.0.1 only: one node, or a cluster of
# KAFKA_NODES combined broker+controller nodes; PLAINTEXT, or SASL_SSL (KAFKA_SECURITY=sasl_ssl).
#
#   kafka.sh install   resolve the jars into the cache (once per version and pom.xml)
#   kafka.sh start     install if needed, format the storage once, start every node that is not running
#                      in the background, wait until the cluster answers a metadata request with all its
#                      brokers; does nothing if everything already runs
#   kafka.sh stop      stop every node by PID: SIGTERM, SIGKILL after KAFKA_STOP_TIMEOUT seconds
#   kafka.sh status    exit 0 when every node runs and the cluster answers, 1 otherwise
#
# Environment (defaults): KAFKA_NODES (1), KAFKA_SECURITY (plaintext; or sasl_ssl), KAFKA_PORT (9092)
# and KAFKA_CONTROLLER_PORT (9093) (one port, or one per node comma-separated; one port with several
# nodes: node i uses port + 2(i-1)), KAFKA_DATA_DIR (<repo>/.run/kafka), KAFKA_HEAP (512m; 384m per
# node in a cluster), KAFKA_OPTS (extra JVM options), KAFKA_START_TIMEOUT (60; 180 for a cluster),
# KAFKA_STOP_TIMEOUT (30), KAFKA_CDS (1; 0: no class-data sharing archive), ADPULSE_CACHE_DIR
# (~/.cache/adpulse), PYTHON (<repo>/.venv/bin/python, with aiokafka), JAVA_HOME (java on PATH; 17 or
# newer), MAVEN_OPTS (passed to mvn, e.g. -Dmaven.repo.local=...). See README.md next to this file.
#
# <data dir>/client.env holds what a client needs (ADPULSE_KAFKA_BOOTSTRAP and, with sasl_ssl, the
# security settings and the client user's password); deploy/stack.sh reads it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
cache="${ADPULSE_CACHE_DIR:-$HOME/.cache/adpulse}/kafka/$version"
libs="$cache/libs"
marker="$cache/.complete"
cds_dir="$cache/cds"
data="$(realpath -m -- "${KAFKA_DATA_DIR:-$repo/.run/kafka}")"
# Unset, the node count and security are those the data dir was formatted for (so `stop` after
# `KAFKA_NODES=3 ... start` stops all three), else 1 and plaintext.
layout_was="$(cat "$data/layout" 2>/dev/null || true)"
nodes_was=1 security_was=plaintext
if [[ $layout_was =~ ^nodes=([0-9]+)\ security=([a-z_]+)$ ]]; then
    nodes_was="${BASH_REMATCH[1]}" security_was="${BASH_REMATCH[2]}"
fi
nodes="${KAFKA_NODES:-$nodes_was}"
security="${KAFKA_SECURITY:-$security_was}"
stop_timeout="${KAFKA_STOP_TIMEOUT:-30}"
use_cds="${KAFKA_CDS:-1}"
python="${PYTHON:-$repo/.venv/bin/python}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
java_version="" # `java -version`, read by check_java

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

# parse_ports ARRAY NAME VALUE: one port per node, or one port for node 1 and +2 for each next node.
parse_ports() {
    local -n out=$1
    local p i
    IFS=',' read -ra out <<<"$3"
    if ((${#out[@]} == 1 && nodes > 1)); then
        is_port "${out[0]}" || die "$2=$3 is not a port number"
        for ((i = 1; i < nodes; i++)); do out+=($((out[0] + 2 * i))); done
    fi
    ((${#out[@]} == nodes)) || die "$2=$3: expected one port, or $nodes comma-separated ports (KAFKA_NODES=$nodes)"
    for p in "${out[@]}"; do is_port "$p" || die "$2=$3: '$p' is not a port number"; done
}

[[ $nodes =~ ^[1-9]$ ]] || die "KAFKA_NODES=$nodes: expected 1 to 9 (3 for a cluster that survives the loss of a node)"
case $security in plaintext | sasl_ssl) ;; *) die "KAFKA_SECURITY=$security: expected plaintext or sasl_ssl" ;; esac
ports=() cports=()
parse_ports ports KAFKA_PORT "${KAFKA_PORT:-9092}"
parse_ports cports KAFKA_CONTROLLER_PORT "${KAFKA_CONTROLLER_PORT:-9093}"
if (($(printf '%s\n' "${ports[@]}" "${cports[@]}" | sort -u | wc -l) != 2 * nodes)); then
    if ((nodes == 1)); then die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"; fi
    die "KAFKA_PORT=${ports[*]} and KAFKA_CONTROLLER_PORT=${cports[*]}: every port must differ"
fi
[[ -n $version ]] || die "no <kafka.version> in $here/pom.xml"
[[ $data != *[,\\$'\n']* ]] || die "KAFKA_DATA_DIR must not contain a comma, a backslash or a newline"
if ((nodes > 1)); then default_heap=384m default_start=180; else default_heap=512m default_start=60; fi
heap="${KAFKA_HEAP:-$default_heap}"
start_timeout="${KAFKA_START_TIMEOUT:-$default_start}"
[[ $start_timeout =~ ^[0-9]+$ && $stop_timeout =~ ^[0-9]+$ ]] || die "KAFKA_START_TIMEOUT/KAFKA_STOP_TIMEOUT: whole seconds"
heap_mib="$(to_mib "$heap")"
((heap_mib >= 128)) || die "KAFKA_HEAP=$heap is too small (128m at least)"
bootstrap="$(printf '127.0.0.1:%s,' "${ports[@]}")"
bootstrap="${bootstrap%,}"
if ((nodes >= 3)); then replication=3 min_isr=2; else replication=$nodes min_isr=1; fi

# shellcheck source=deploy/kafka/security.sh
source "$here/security.sh"

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

# --- nodes and processes ------------------------------------------------------------------------

# node I: select node I (1-based): its id, ports and directory (the data dir itself for a single node).
node_id=1 port="${ports[0]}" controller_port="${cports[0]}" ndata="$data" pidfile="$data/kafka.pid"
node() {
    node_id=$1
    port="${ports[$1 - 1]}"
    controller_port="${cports[$1 - 1]}"
    if ((nodes == 1)); then ndata="$data"; else ndata="$data/node-$1"; fi
    pidfile="$ndata/kafka.pid"
}

# Alive and not a zombie (a killed broker may linger unreaped).
pid_alive() { [[ -r "/proc/$1/status" ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

# The PID is the selected node's broker (not a PID reused by something else since).
ours() {
    local cmd
    [[ $1 =~ ^[0-9]+$ ]] && pid_alive "$1" || return 1
    cmd="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
    [[ $cmd == *" kafka.Kafka $ndata/server.properties "* ]]
}

pid_of_file() { if [[ -f $pidfile ]]; then cat "$pidfile" 2>/dev/null || true; fi; }

check_python() { [[ -x $python ]] || die "no Python at $python (run 'make install', or set PYTHON to one with aiokafka)"; }

# ready TIMEOUT [--pid PID]...: the cluster answers a metadata request with all its brokers and a
# controller (0), did not in time (1), a PID exited (2). It connects as a client would (client.env).
ready() {
    local timeout=$1
    shift
    "$python" "$here/kafka_ready.py" "$bootstrap" --env-file "$data/client.env" --brokers "$nodes" \
        --timeout "$timeout" "$@"
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_holder() {
    if command -v ss >/dev/null; then ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -n1 || true; fi
}

lock_data() {
    exec 9>"$data/.kafka.lock"
    flock -w $((start_timeout + stop_timeout + 30)) 9 || die "another kafka.sh holds $data/.kafka.lock"
}

# The selected node's server.properties.
render() {
    local text quorum listeners advertised map inter voters="" i
    if ((nodes == 1)); then
        quorum="controller.quorum.bootstrap.servers=127.0.0.1:$controller_port"
    else
        for ((i = 0; i < nodes; i++)); do voters+="$((i + 1))@127.0.0.1:${cports[i]},"; done
        quorum="controller.quorum.voters=${voters%,}"
    fi
    if [[ $security == sasl_ssl ]]; then inter=SASL_SSL; else inter=PLAINTEXT; fi
    listeners="$inter://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port"
    advertised="$inter://127.0.0.1:$port"
    map="$inter:$inter,CONTROLLER:PLAINTEXT"
    text="$(<"$here/server.properties.in")"
    text="${text//@NODE_ID@/"$node_id"}"
    text="${text//@QUORUM@/"$quorum"}"
    text="${text//@LISTENERS@/"$listeners"}"
    text="${text//@ADVERTISED@/"$advertised"}"
    text="${text//@PROTOCOL_MAP@/"$map"}"
    text="${text//@INTER_BROKER@/"$inter"}"
    text="${text//@RF@/"$replication"}"
    text="${text//@MIN_ISR@/"$min_isr"}"
    text="${text//@DATA_DIR@/"$ndata"}"
    printf '%s\n' "$text"
    if [[ $security == sasl_ssl ]]; then security_properties; fi
}

check_java() {
    local line major
    command -v "$java" >/dev/null || die "java not found (Kafka $version needs Java 17 or newer)"
    java_version="$("$java" -version 2>&1)"
    line="$(head -n1 <<<"$java_version")"
    major="$(sed -n 's/.*version "\([0-9]*\).*/\1/p' <<<"$line")"
    ((${major:-0} >= 17)) || die "Kafka $version needs Java 17 or newer, found: $line"
}

# The logs of the selected node's broker started last (server.log is appended to across runs; the PID
# file is written when the broker starts).
show_logs() {
    local f
    for f in "$ndata/kafka.out" "$ndata/server.log"; do
        if [[ -s $f && ($f == */kafka.out || $f -nt $pidfile) ]]; then
            printf -- '--- last lines of %s\n' "$f" && tail -n 30 "$f"
        fi
    done >&2
}

# A random KRaft cluster id: 16 random bytes, URL-safe base64 without padding, not starting with '-'.
# Kept in <data dir>/cluster.id: every node of a cluster is formatted with the same one.
cluster_id() {
    local id
    if [[ -s $data/cluster.id ]]; then
        cat "$data/cluster.id"
        return 0
    fi
    while :; do
        id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        [[ $id != -* ]] && break
    done
    printf '%s\n' "$id" >"$data/cluster.id"
    printf '%s' "$id"
}

# A data dir is formatted for one layout (node count, security): starting it with another fails at once.
check_layout() {
    local want="nodes=$nodes security=$security" have
    if [[ -f $data/layout ]]; then
        have="$(<"$data/layout")"
    elif [[ -f $data/logs/meta.properties ]]; then
        have="nodes=1 security=plaintext" # formatted before the layout file existed
    else
        printf '%s\n' "$want" >"$data/layout"
        return 0
    fi
    [[ $have == "$want" ]] || die "$data holds a Kafka formatted as '$have', not '$want': choose another KAFKA_DATA_DIR (or delete this one)"
    [[ -f $data/layout ]] || printf '%s\n' "$want" >"$data/layout"
}

# What a client needs to connect (ADPULSE_* settings); the password makes it private.
write_client_env() {
    (
        umask 077
        {
            printf 'ADPULSE_KAFKA_BOOTSTRAP=%s\n' "$bootstrap"
            if [[ $security == sasl_ssl ]]; then client_security_env; else echo "ADPULSE_KAFKA_SECURITY_PROTOCOL=PLAINTEXT"; fi
        } >"$data/client.env.tmp"
    )
    mv "$data/client.env.tmp" "$data/client.env"
}

# Class-data sharing: the JVM maps the classes a previous broker loaded from an archive instead of
# loading and verifying them from the jars again (start-up about 1 s faster here). The first broker
# without an archive records one when it exits (ArchiveClassesAtExit: its stop takes a few seconds
# longer); `stop` keeps it only after a clean exit. One archive per JVM build; install drops them.
# Only a single node records one; a cluster's nodes use it.
cds_archive() { printf '%s/broker-%s.jsa' "$cds_dir" "$(sha256sum <<<"$java_version" | cut -c1-16)"; }

# keep_cds yes|no: promote (or drop) the archive recorded by the selected node's broker that has just exited.
keep_cds() {
    local note="$ndata/cds.pending" tmp final
    [[ -f $note ]] || return 0
    tmp="$(<"$note")"
    rm -f "$note"
    final="${tmp%.partial.*}"
    if [[ $1 == yes && -s $tmp && ! -e $final ]]; then mv -n "$tmp" "$final"; fi
    rm -f "$tmp"
}

# --- commands -----------------------------------------------------------------------------------

# prepare_node: for the selected node, either note its running PID or check its ports and write its
# configuration. Sets node_pid (running) or leaves it empty (to launch).
prepare_node() {
    local rendered running_config p
    node_pid=""
    mkdir -p "$ndata"
    rendered="$(render)"
    p="$(pid_of_file)"
    if ours "$p"; then
        running_config="$(cat "$ndata/server.properties" 2>/dev/null || true)"
        if [[ "$(grep '^listeners=' <<<"$running_config")" != "$(grep '^listeners=' <<<"$rendered")" ]]; then
            die "the broker in $ndata (pid $p) listens on other ports than KAFKA_PORT=$port/KAFKA_CONTROLLER_PORT=$controller_port: '$0 stop' it first"
        fi
        [[ $running_config == "$rendered" ]] || log "server.properties.in changed since pid $p started: stop and start to apply it"
        node_pid=$p
        return 0
    fi
    if [[ -n $p || -f $pidfile ]]; then
        log "removing a stale pid file (pid ${p:-?} is not this broker)"
        rm -f "$pidfile"
    fi
    keep_cds no
    for p in "$port" "$controller_port"; do
        if port_taken "$p"; then
            die "127.0.0.1:$p is already in use by another process $(port_holder "$p"); stop it or choose free ports with KAFKA_PORT / KAFKA_CONTROLLER_PORT"
        fi
    done
    (umask 077 && printf '%s\n' "$rendered" >"$ndata/server.properties")
}

# format_node ID: format the selected node's storage (in the background for a cluster).
format_node() {
    local args=(format -t "$1" -c "$ndata/server.properties") cds=()
    ((nodes == 1)) && args+=(--standalone) # a cluster names its voters in controller.quorum.voters
    if [[ $security == sasl_ssl ]]; then mapfile -t -O "${#args[@]}" args < <(scram_args); fi
    [[ $use_cds == 1 && -f $(cds_archive) ]] && cds=("-XX:SharedArchiveFile=$(cds_archive)")
    "$java" -Xmx256m "${cds[@]}" -cp "$libs/*" kafka.tools.StorageTool "${args[@]}" >"$ndata/format.out" 2>&1
}

# launch_node: start the selected node's broker in the background; sets node_pid.
launch_node() {
    local jvm jsa cds=()
    if [[ $use_cds == 1 ]]; then
        jsa="$(cds_archive)"
        if [[ -f $jsa ]]; then
            cds=("-XX:SharedArchiveFile=$jsa")
        elif ((nodes == 1)); then # a cluster's last node may be stopped by SIGKILL (see stop): no archive
            mkdir -p "$cds_dir"
            printf '%s\n' "$jsa.partial.$$" >"$ndata/cds.pending"
            cds=("-XX:ArchiveClassesAtExit=$jsa.partial.$$" "-Xlog:cds*=off") # no "class not archived" lines
        fi
    fi
    jvm=(
        "-Xms$((heap_mib < 256 ? heap_mib : 256))m" "-Xmx${heap_mib}m" -XX:MaxMetaspaceSize=256m
        # Kafka's own G1 settings (kafka-run-class.sh); the JVM sizes GC and JIT threads to the cores.
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
        -XX:+ExplicitGCInvokesConcurrent
        -XX:+ExitOnOutOfMemoryError "-XX:ErrorFile=$ndata/hs_err_pid%p.log"
        "-Xlog:gc*:file=$ndata/gc.log:time,uptime,level,tags:filecount=3,filesize=10M"
        -Djava.awt.headless=true "-Dkafka.logs.dir=$ndata" "-Dlog4j2.configurationFile=$here/log4j2.properties"
        "${cds[@]}"
    )
    # shellcheck disable=SC2206 # KAFKA_OPTS is a list of JVM options, split on spaces on purpose.
    [[ -n ${KAFKA_OPTS:-} ]] && jvm+=($KAFKA_OPTS)
    # Its own session (Ctrl-C in the caller's terminal does not reach it), working directory the
    # node's dir, no inherited lock descriptor.
    (cd "$ndata" && exec setsid "$java" "${jvm[@]}" -cp "$libs/*" kafka.Kafka "$ndata/server.properties" \
        >"$ndata/kafka.out" 2>&1 </dev/null 9>&-) &
    node_pid=$!
    printf '%s\n' "$node_pid" >"$pidfile"
}

start() {
    local t0 t1 t_install t_format="0.0" rc i id launch=() format=() pids=() waits=() failed=0
    t0="$(now)"
    check_python
    install
    t_install="$(since "$t0")"
    mkdir -p "$data"
    lock_data
    check_layout
    if [[ $security == sasl_ssl ]]; then
        load_secrets
        make_certs
    fi
    write_client_env

    for ((i = 1; i <= nodes; i++)); do
        node "$i"
        prepare_node
        if [[ -n $node_pid ]]; then
            pids+=("$node_pid")
        else
            launch+=("$i")
            [[ -f $ndata/logs/meta.properties ]] || format+=("$i")
        fi
    done
    if ((${#launch[@]} == 0)); then
        if ready 0; then
            log "already running (pid ${pids[*]}), bootstrap $bootstrap"
            return 0
        fi
        log "pid ${pids[*]} running but not answering yet; waiting"
    else
        check_java
        if ((${#format[@]})); then
            t1="$(now)"
            id="$(cluster_id)"
            log "formatting the storage of node(s) ${format[*]} (cluster id $id, $security)"
            for i in "${format[@]}"; do
                node "$i"
                format_node "$id" &
                waits+=($!)
            done
            for i in "${!waits[@]}"; do
                if ! wait "${waits[i]}"; then
                    node "${format[i]}"
                    cat "$ndata/format.out" >&2
                    failed=1
                fi
            done
            ((failed == 0)) || die "formatting the storage failed"
            t_format="$(since "$t1")"
        fi
        for i in "${launch[@]}"; do
            node "$i"
            launch_node
            pids+=("$node_pid")
            log "started node $i: pid $node_pid (heap ${heap_mib}m; logs $ndata/server.log, $ndata/kafka.out)"
        done
        log "waiting for $nodes broker(s) to answer on $bootstrap"
    fi

    t1="$(now)"
    rc=0
    ready "$start_timeout" $(printf -- '--pid %s ' "${pids[@]}") || rc=$?
    case $rc in
        0)
            log "ready: bootstrap $bootstrap (pid ${pids[*]}; $security) in $(since "$t0")s (install ${t_install}s, format ${t_format}s, broker $(since "$t1")s)"
            ;;
        2)
            for ((i = 1; i <= nodes; i++)); do
                node "$i"
                if ! ours "$(pid_of_file)"; then show_logs; fi
            done
            log "a broker exited during start-up: stopping the others"
            exec 9>&-
            stop >&2
            die "the broker exited during start-up"
            ;;
        *)
            for ((i = 1; i <= nodes; i++)); do
                node "$i"
                show_logs
            done
            log "not answering on $bootstrap after ${start_timeout}s: stopping"
            exec 9>&-
            stop
            exit 1
            ;;
    esac
}

stop() {
    local i j p t0 clean alive lonely=0 live=() who=()
    [[ -d $data ]] || { log "not running"; return 0; }
    lock_data
    t0="$(now)"
    for ((i = 1; i <= nodes; i++)); do
        node "$i"
        p="$(pid_of_file)"
        if ours "$p"; then
            kill -TERM "$p" 2>/dev/null || true
            live+=("$i") who+=("$p")
        else
            keep_cds no
            if [[ -f $pidfile ]]; then
                rm -f "$pidfile"
                log "node $i not running (removed a stale pid file)"
            fi
        fi
    done
    if ((${#live[@]} == 0)); then
        log "not running"
        return 0
    fi
    # A broker's controlled shutdown waits for the active controller's approval. In a cluster stopped
    # as a whole, the last nodes may outlive the controller quorum (a majority of the nodes) and would
    # wait for ever: 5 s after the quorum is gone they are killed (their logs are checked at the next
    # start; the data written is in the files already).
    for ((i = 0, lonely = 0; i < stop_timeout * 10; i++)); do
        alive=0
        for p in "${who[@]}"; do if pid_alive "$p"; then alive=$((alive + 1)); fi; done
        ((alive == 0)) && break
        if ((nodes > 1 && alive <= nodes / 2)); then
            lonely=$((lonely + 1))
            ((lonely > 50)) && break
        fi
        sleep 0.1
    done
    for i in "${!live[@]}"; do
        node "${live[i]}"
        p="${who[i]}"
        clean=yes
        if pid_alive "$p" && ((lonely > 50)); then
            log "pid $p cannot finish a controlled shutdown without a controller quorum: SIGKILL"
            clean=no
            kill -KILL "$p" 2>/dev/null || true
            for ((j = 0; j < 100; j++)); do pid_alive "$p" || break; sleep 0.1; done
            pid_alive "$p" && die "pid $p still alive after SIGKILL"
        elif pid_alive "$p"; then
            log "pid $p did not shut down within ${stop_timeout}s: SIGKILL"
            clean=no
            kill -KILL "$p" 2>/dev/null || true
            for ((j = 0; j < 100; j++)); do pid_alive "$p" || break; sleep 0.1; done
            pid_alive "$p" && die "pid $p still alive after SIGKILL"
        fi
        rm -f "$pidfile"
        keep_cds "$clean"
    done
    log "stopped pid ${who[*]} in $(since "$t0")s"
}

status() {
    local i p pids=() missing=()
    check_python
    for ((i = 1; i <= nodes; i++)); do
        node "$i"
        p="$(pid_of_file)"
        if ours "$p"; then pids+=("$p"); else missing+=("$i"); fi
    done
    if ((${#pids[@]} == 0)); then
        log "not running (data $data)"
        return 1
    fi
    if ((${#missing[@]})); then
        log "node(s) ${missing[*]} not running (running: pid ${pids[*]})"
        return 1
    fi
    if [[ -f $data/client.env ]] && ready 0; then
        log "running (pid ${pids[*]}), bootstrap $bootstrap, data $data"
        return 0
    fi
    log "pid ${pids[*]} running but not answering on $bootstrap"
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
