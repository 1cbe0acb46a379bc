#!/usr/bin/env bash
# mockd load-test harness: mockd against a reference nginx, one server at a time, on 127.0.0.1.
# What each scenario measures and how to read the table: loadtest/README.md.
#
#   bash loadtest/run.sh [--quick] [--only N[,M...]] [--out FILE]
#
# Exits non-zero only when something failed to run; missed targets are reported, not fatal.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

usage() {
    cat <<'EOF'
Usage: bash loadtest/run.sh [--quick] [--only N[,M...]] [--out FILE]

  --quick        short runs (3 s after a 1 s warm-up) and smaller sizes: about 2 minutes
  --only LIST    run only these scenarios (1-6, comma separated)
  --out FILE     also write the markdown report (machine, table, targets) to FILE

Scenarios: 1 keep-alive, 2 pipelined, 3 delayed, 4 many mocks, 5 control API, 6 whole machine.
EOF
}

QUICK=0
ONLY="1,2,3,4,5,6"
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --only) [ $# -ge 2 ] || { usage >&2; exit 2; }; ONLY=$2; shift ;;
        --only=*) ONLY=${1#*=} ;;
        --out) [ $# -ge 2 ] || { usage >&2; exit 2; }; OUT=$2; shift ;;
        --out=*) OUT=${1#*=} ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
if ! [[ $ONLY =~ ^[1-6](,[1-6])*$ ]]; then
    echo "run.sh: --only takes scenario numbers 1-6, comma separated (got: $ONLY)" >&2
    exit 2
fi
if [ -n "$OUT" ]; then
    case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
fi
wanted() { [[ ",$ONLY," == *",$1,"* ]]; }

if [ "$QUICK" = 1 ]; then
    MODE=quick
    DUR=3         # seconds measured per run
    WARM=1        # seconds of warm-up before each measured run
    DUR_DELAY=5   # delayed runs: long enough for a steady window after the ramp-up
    SS_START=2    # delayed runs: steady window starts this long after wrk
    MANY=100000   # scenario 4: mocks created
else
    MODE=full
    DUR=10
    WARM=3
    DUR_DELAY=12
    SS_START=3
    MANY=1000000
fi
KEY="loadtest-$RANDOM$RANDOM"

# ---------------------------------------------------------------------------- processes

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mockd-loadtest.XXXXXX")
PIDS=""       # every process started here that may still run
FAILED=0      # something failed to run

stop_pid() { # PID: TERM, up to 5 s to exit, then KILL
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

forget_pid() { PIDS=$(echo " $PIDS " | sed "s/ $1 / /g"); }

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local pid
    trap - EXIT INT TERM
    for pid in $PIDS; do stop_pid "$pid"; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

say() { echo "== $*" >&2; }
fail() { echo "run.sh: FAILED: $*" >&2; FAILED=1; }

# ---------------------------------------------------------------------------- tools

NGINX=""
find_nginx() {
    NGINX=$(command -v nginx || true)
    [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
    [ -n "$NGINX" ]
}

has_candidate() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }

install_tools() {
    local pkgs=() sudo=() added_policy=0 rc p i
    command -v wrk >/dev/null || pkgs+=(wrk)
    command -v taskset >/dev/null || pkgs+=(util-linux)
    command -v timeout >/dev/null || pkgs+=(coreutils)
    python3 -c 'import selectors, json, socket' 2>/dev/null || pkgs+=(python3)
    find_nginx || pkgs+=(NGINX)
    [ ${#pkgs[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null; then
        fail "missing tools (${pkgs[*]}) and no apt-get to install them"
        return 1
    fi
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    # apt-get update once, when the package lists are missing or older than a day
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
        say "apt-get update"
        "${sudo[@]}" apt-get update -qq >&2 || { fail "apt-get update"; return 1; }
    fi
    for i in "${!pkgs[@]}"; do
        if [ "${pkgs[$i]}" = NGINX ]; then
            # the server package itself; nginx-light where only that one exists
            pkgs[i]=""
            for p in nginx nginx-light; do
                if has_candidate "$p"; then pkgs[i]=$p; break; fi
            done
            [ -n "${pkgs[$i]}" ] || { fail "no nginx package available"; return 1; }
        fi
    done
    say "installing: ${pkgs[*]}"
    # Installing must not start a system nginx on port 80: a policy-rc.d refusing service
    # starts while apt-get runs, removed afterwards (unless one was there already).
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null &&
            "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d && added_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
    rc=$?
    [ "$added_policy" = 1 ] && "${sudo[@]}" rm -f /usr/sbin/policy-rc.d
    [ $rc = 0 ] || { fail "apt-get install ${pkgs[*]}"; return 1; }
    find_nginx || { fail "nginx not found after install"; return 1; }
}

# ---------------------------------------------------------------------------- /proc figures

children_of() { # PID: its child processes (nginx workers)
    local f out=""
    for f in /proc/"$1"/task/*/children; do
        [ -r "$f" ] && out+=" $(cat "$f" 2>/dev/null)"
    done
    echo "$out"
}

tree_of() { echo "$1 $(children_of "$1")"; }

cpu_ticks() { # PID: utime+stime of the process (all its threads) and its children, in ticks
    local p s total=0 f
    for p in $(tree_of "$1"); do
        s=$(cat /proc/"$p"/stat 2>/dev/null) || continue
        s=${s##*) }
        read -r -a f <<<"$s"
        total=$((total + f[11] + f[12]))
    done
    echo "$total"
}

mem_kib() { # PID FIELD (VmHWM or VmRSS): summed over the process and its children
    local p v total=0
    for p in $(tree_of "$1"); do
        v=$(awk -v k="$2:" '$1 == k { print $2 }' /proc/"$p"/status 2>/dev/null)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

calc() { awk "BEGIN { printf \"$1\", ($2) }"; }   # calc FORMAT EXPR (awk arithmetic)

# ---------------------------------------------------------------------------- pinning

PIN_SERVER="0"
PIN_CLIENT="1"
run_pinned() { # CPULIST CMD...: exec CMD on CPULIST (empty: unpinned)
    local cpus=$1
    shift
    if [ -n "$cpus" ]; then exec taskset -c "$cpus" "$@"; else exec "$@"; fi
}

# ---------------------------------------------------------------------------- servers

SERVER_PID=""
SERVER_PORT=""
SERVER_IDLE_KIB=0

wait_port() { # PORT PID: until PORT accepts connections (10 s at most), PID still alive
    local i
    for i in $(seq 200); do
        kill -0 "$2" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    return 1
}

start_mockd() { # WORKERS CPULIST [extra flags...]
    local workers=$1 cpus=$2 log="$TMP/mockd.log" i
    shift 2
    : >"$log"
    (run_pinned "$cpus" "$MOCKD" --listen 127.0.0.1:0 --api-key "$KEY" --workers "$workers" \
        --shutdown-grace 2 "$@") >"$log" 2>&1 &
    SERVER_PID=$!
    PIDS+=" $SERVER_PID"
    SERVER_PORT=""
    for i in $(seq 200); do
        SERVER_PORT=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$log" | sed 's/.*://')
        [ -n "$SERVER_PORT" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$SERVER_PORT" ]; then
        fail "mockd did not start: $(tail -5 "$log")"
        stop_server
        return 1
    fi
    SERVER_IDLE_KIB=$(mem_kib "$SERVER_PID" VmRSS)
}

start_nginx() { # WORKERS CPULIST
    local workers=$1 cpus=$2 dir="$TMP/nginx" user=""
    rm -rf "$dir"
    mkdir -p "$dir/logs" "$dir/tmp"
    SERVER_PORT=$(python3 "$HERE/lt.py" free-port) || { fail "no free port"; return 1; }
    [ "$(id -u)" = 0 ] && user="user $(id -un) $(id -gn);"
    cat >"$dir/nginx.conf" <<EOF
# reference server generated by loadtest/run.sh
$user
worker_processes $workers;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
worker_rlimit_nofile 65536;
events {
    worker_connections 20000;
}
http {
    access_log off;
    server_tokens off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$SERVER_PORT;
        location /v1/mock/ {
            default_type application/json;
            add_header X-Mock-Id ref always;
            return 202 '{"accepted": true}';
        }
    }
}
EOF
    local early=()
    "$NGINX" -h 2>&1 | grep -q -- ' -e ' && early=(-e "$dir/logs/error.log")
    (run_pinned "$cpus" "$NGINX" "${early[@]}" -p "$dir" -c "$dir/nginx.conf") \
        >"$dir/logs/stdout.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=" $SERVER_PID"
    if ! wait_port "$SERVER_PORT" "$SERVER_PID"; then
        fail "nginx did not start: $(tail -5 "$dir/logs/error.log" "$dir/logs/stdout.log" 2>/dev/null)"
        stop_server
        return 1
    fi
    SERVER_IDLE_KIB=$(mem_kib "$SERVER_PID" VmRSS)
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    stop_pid "$SERVER_PID"
    forget_pid "$SERVER_PID"
    SERVER_PID=""
}

server_alive() {
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        fail "server (pid $SERVER_PID) died; log: $(tail -5 "$TMP/mockd.log" 2>/dev/null)"
        return 1
    fi
}

# ---------------------------------------------------------------------------- wrk

# run_wrk CPULIST DURATION SCRIPT [wrk args...] URL [-- script args]
# Sets W_REQ W_RPS W_P50 W_P99 (ms) W_NON2XX W_SOCK W_CPU (server CPU s per 1e6 requests)
# W_RSS (server peak RSS, MiB) W_OUT (wrk's output file).
WRK_N=0
run_wrk() {
    local cpus=$1 dur=$2 lua=$3 line t0 t1 pid
    shift 3
    WRK_N=$((WRK_N + 1))
    W_OUT="$TMP/wrk.$WRK_N.out"
    cat "$HERE/lua/report.lua" >"$TMP/wrk.$WRK_N.lua"
    [ -n "$lua" ] && cat "$HERE/lua/$lua" >>"$TMP/wrk.$WRK_N.lua"
    t0=$(cpu_ticks "$SERVER_PID")
    (run_pinned "$cpus" timeout -k 5 $((dur + 60)) wrk -d "${dur}s" --latency \
        -s "$TMP/wrk.$WRK_N.lua" "$@") >"$W_OUT" 2>&1 &
    pid=$!
    PIDS+=" $pid"
    wait "$pid"
    forget_pid "$pid"
    t1=$(cpu_ticks "$SERVER_PID")
    W_RSS=$(calc "%.1f" "$(mem_kib "$SERVER_PID" VmHWM) / 1024")
    line=$(grep '^LOADTEST ' "$W_OUT" | tail -1)
    if [ -z "$line" ]; then
        fail "wrk $* gave no result: $(head -c 600 "$W_OUT")"
        return 1
    fi
    local requests duration_us p50_us p99_us connect read write timeout status kv
    for kv in ${line#LOADTEST }; do
        case "${kv%%=*}" in
            requests | duration_us | p50_us | p99_us | connect | read | write | timeout | status)
                printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
        esac
    done
    W_RPS=$(calc "%.0f" "$requests / ($duration_us / 1e6)")
    W_P50=$(calc "%.3f" "$p50_us / 1000")
    W_P99=$(calc "%.3f" "$p99_us / 1000")
    W_NON2XX=$status
    W_SOCK=$((connect + read + write + timeout))
    if [ "$requests" -gt 0 ]; then
        W_CPU=$(calc "%.3f" "($t1 - $t0) / $CLK_TCK / ($requests / 1e6)")
    else
        W_CPU=n/a
        if [ "$WARMING" != 1 ]; then
            fail "wrk $* completed no request: $(head -c 600 "$W_OUT")"
            return 1
        fi
    fi
    server_alive || return 1
    return 0
}

# warm-up (a run that need not complete any request) and its result ignored
WARMING=0
warm_up() { # CPULIST [run_wrk arguments after the duration]
    local cpus=$1 rc
    shift
    WARMING=1
    run_wrk "$cpus" "$WARM" "$@"
    rc=$?
    WARMING=0
    return $rc
}

# warm-up then measured run; same arguments as run_wrk without the duration
bench() {
    warm_up "$@" || return 1
    local cpus=$1
    shift
    run_wrk "$cpus" "$DUR" "$@"
}

# ---------------------------------------------------------------------------- table

HEADER='| # | scenario | server | req/s | p50 ms | p99 ms | non-2xx | sock err | CPU s/Mreq | peak RSS MiB | req/s ÷ nginx | CPU/req ÷ nginx | notes |'
RULE='|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|'
ROWS="$TMP/rows.md"
TARGETS="$TMP/targets.md"
: >"$ROWS"
: >"$TARGETS"

row() { # the cells, in HEADER order
    local IFS='|'
    local line="| $* |"
    line=${line//|/ | }
    line=$(echo "$line" | sed 's/  */ /g; s/^ //; s/ $//')
    echo "$line" >>"$ROWS"
    echo "$line"
}

# results of the last measured run as cells 4..10 (req/s .. peak RSS)
# (NO_LATENCY=1: wrk's latency is not meaningful for the run, see lua/report.lua)
NO_LATENCY=0
cells() {
    if [ "$NO_LATENCY" = 1 ]; then
        echo "$W_RPS|n/a|n/a|$W_NON2XX|$W_SOCK|$W_CPU|$W_RSS"
    else
        echo "$W_RPS|$W_P50|$W_P99|$W_NON2XX|$W_SOCK|$W_CPU|$W_RSS"
    fi
}

ratio() { # A B -> A/B with 2 decimals, n/a when either is missing
    if [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]] && [ "$(calc "%d" "$2 > 0")" = 1 ]; then
        calc "%.2f" "$1 / $2"
    else
        echo "n/a"
    fi
}

target() { # NAME MEASURED OK(1/0/"") TEXT
    local verdict=missed
    [ "$3" = 1 ] && verdict=met
    [ -z "$3" ] && verdict="not measured"
    echo "| $1 | $4 | $2 | $verdict |" >>"$TARGETS"
}
ge() { [[ $1 =~ ^[0-9.]+$ ]] && calc "%d" "$1 >= $2"; }
le() { [[ $1 =~ ^[0-9.]+$ ]] && calc "%d" "$1 <= $2"; }

failed_row() { row "$1" "$2" "$3" FAILED "" "" "" "" "" "" "" "" "${4:-}"; }

# ---------------------------------------------------------------------------- scenarios

S1_RPS=""
V_NOTE=""

# the benchmark response must be the same from both servers: 202 and {"accepted": true}
check_response() { # PATH
    local got
    got=$(python3 "$HERE/lt.py" probe "$SERVER_PORT" "$1" 2>&1)
    if [ "$got" != '202 {"accepted": true}' ]; then
        fail "GET $1 answered: ${got:0:200}"
        return 1
    fi
}

# mockd and nginx, each started with WORKERS on SERVER_CPUS, wrk on CLIENT_CPUS with WRKARGS,
# one mock at PATH; prints both rows with the ratios.
versus() { # NUM NAME WORKERS SERVER_CPUS CLIENT_CPUS LUA "WRK ARGS" [script args...]
    local num=$1 name=$2 workers=$3 scpus=$4 ccpus=$5 lua=$6 wargs=$7
    shift 7
    local id m_cells="" m_rps="" m_cpu="" n_cells="" n_rps="" n_cpu="" sargs=()
    # shellcheck disable=SC2206 # the wrk flags are words on purpose
    local wa=($wargs)
    if start_mockd "$workers" "$scpus"; then
        if ! id=$(python3 "$HERE/lt.py" create-one "$SERVER_PORT" "$KEY" 0); then
            fail "creating the mock for scenario $num"
        elif check_response "/v1/mock/$id"; then
            sargs=()
            [ $# -gt 0 ] && sargs=(-- "$@" "/v1/mock/$id")
            if bench "$ccpus" "$lua" "${wa[@]}" "http://127.0.0.1:$SERVER_PORT/v1/mock/$id" "${sargs[@]}"; then
                m_cells=$(cells) m_rps=$W_RPS m_cpu=$W_CPU
            fi
        fi
        stop_server
    fi
    if start_nginx "$workers" "$scpus"; then
        if check_response /v1/mock/ref; then
            sargs=()
            [ $# -gt 0 ] && sargs=(-- "$@" "/v1/mock/ref")
            if bench "$ccpus" "$lua" "${wa[@]}" "http://127.0.0.1:$SERVER_PORT/v1/mock/ref" "${sargs[@]}"; then
                n_cells=$(cells) n_rps=$W_RPS n_cpu=$W_CPU
            fi
        fi
        stop_server
    fi
    if [ -n "$m_cells" ]; then
        row "$num" "$name" mockd "$m_cells" "$(ratio "$m_rps" "$n_rps")" "$(ratio "$m_cpu" "$n_cpu")" "$V_NOTE"
    else
        failed_row "$num" "$name" mockd
    fi
    if [ -n "$n_cells" ]; then
        row "$num" "$name" nginx "$n_cells" 1.00 1.00 "reference${V_NOTE:+; $V_NOTE}"
    else
        failed_row "$num" "$name" nginx
    fi
    V_RPS_RATIO=$(ratio "$m_rps" "$n_rps")
    V_CPU_RATIO=$(ratio "$m_cpu" "$n_cpu")
    V_M_RPS=$m_rps
}

scenario1() {
    say "1: keep-alive, wrk -t1 -c64, one mock"
    versus 1 "keep-alive c64" 1 "$PIN_SERVER" "$PIN_CLIENT" "" "-t1 -c64"
    S1_RPS=$V_M_RPS
    target "1 keep-alive req/s" "$V_RPS_RATIO× nginx" "$(ge "$V_RPS_RATIO" 1.0)" "≥ 1.0× nginx"
    target "1 keep-alive CPU/req" "$V_CPU_RATIO× nginx" "$(le "$V_CPU_RATIO" 0.5)" "≤ 0.5× nginx"
}

scenario2() {
    say "2: pipelined, 16 requests per write, wrk -t1 -c64"
    NO_LATENCY=1 V_NOTE="16 requests a write; no latency: see README"
    versus 2 "pipelined ×16 c64" 1 "$PIN_SERVER" "$PIN_CLIENT" pipeline.lua "-t1 -c64" 16
    NO_LATENCY=0 V_NOTE=""
    target "2 pipelined req/s" "$V_RPS_RATIO× nginx" "$(ge "$V_RPS_RATIO" 4.0)" "≥ 4× nginx"
}

delayed_run() { # CONNS DELAY_MS P99_LIMIT_MS FRACTION_TARGET
    local conns=$1 delay=$2 p99max=$3 fmin=$4 id rate ideal frac raw p99x notes sampler
    local name="delayed ${delay} ms c$conns"
    if ! start_mockd 1 "$PIN_SERVER"; then failed_row 3 "$name" mockd; return; fi
    if ! id=$(python3 "$HERE/lt.py" create-one "$SERVER_PORT" "$KEY" "$delay"); then
        fail "creating the $delay ms mock"
        failed_row 3 "$name" mockd
        stop_server
        return
    fi
    local url="http://127.0.0.1:$SERVER_PORT/v1/mock/$id"
    if ! warm_up "$PIN_CLIENT" "" -t1 -c"$conns" --timeout 10s "$url"; then
        failed_row 3 "$name" mockd
        stop_server
        return
    fi
    # Server-counted hits in a steady window (a whole number of delays, after the ramp-up and
    # before wrk stops), sampled while the measured run goes on.
    (run_pinned "$PIN_CLIENT" timeout 60 python3 "$HERE/lt.py" hits-rate "$SERVER_PORT" "$KEY" "$id" \
        "$SS_START" "$(calc "%.2f" "$DUR_DELAY - 0.4")" "$(calc "%.3f" "$delay / 1000")") \
        >"$TMP/hits.out" 2>&1 &
    sampler=$!
    PIDS+=" $sampler"
    if ! run_wrk "$PIN_CLIENT" "$DUR_DELAY" "" -t1 -c"$conns" --timeout 10s "$url"; then
        stop_pid "$sampler"
        forget_pid "$sampler"
        failed_row 3 "$name" mockd
        stop_server
        return
    fi
    wait "$sampler"
    forget_pid "$sampler"
    rate=$(sed -n 's/^LOADTEST hits_rate=\([0-9.]*\).*/\1/p' "$TMP/hits.out")
    ideal=$(calc "%.0f" "$conns * 1000 / $delay")
    raw=$(calc "%.3f" "$W_RPS / $ideal")
    if [ -n "$rate" ]; then
        frac=$(calc "%.3f" "$rate / $ideal")
    else
        frac=n/a
        fail "steady-window sampling: $(cat "$TMP/hits.out")"
    fi
    p99x=$(calc "%.2f" "$W_P99 - $delay")
    notes="ideal $ideal/s; steady window (server-counted) $frac of ideal; whole run (wrk) $raw; p99 − delay = $p99x ms"
    row 3 "$name" mockd "$(cells)" n/a n/a "$notes"
    stop_server
    local ok=0
    [ "$(ge "$frac" "$fmin")" = 1 ] && [ "$(le "$W_P99" "$p99max")" = 1 ] && ok=1
    [ "$frac" = n/a ] && ok=""
    target "3 delayed c$conns/${delay} ms" "$frac of ideal, p99 $W_P99 ms" "$ok" "≥ $fmin of ideal, p99 ≤ $p99max ms"
}

scenario3() {
    say "3: delayed mocks (mockd only)"
    delayed_run 1000 50 52 0.99
    local fds
    fds=$(ulimit -n)
    local conns=10000
    if [ "$fds" != unlimited ] && [ "$fds" -lt 10500 ]; then
        conns=$((fds - 500))
        echo "run.sh: open-file limit $fds: the 500 ms run uses c$conns instead of c10000" >&2
    fi
    delayed_run "$conns" 500 505 0.98
    row 3 "delayed" nginx n/a n/a n/a n/a n/a n/a n/a n/a n/a "no delay equivalent"
}

scenario4() {
    local name="many mocks ($MANY)" ids="$TMP/ids.txt" line created failed crate idle after per_mock hit_per_mock
    local one_cells="" one_rps="" one_cpu="" many_cells="" many_rps="" many_cpu="" n_rps="" n_cpu=""
    say "4: $MANY mocks, hits over random ids"
    if start_mockd 1 "$PIN_SERVER"; then
        idle=$SERVER_IDLE_KIB
        (run_pinned "$PIN_CLIENT" timeout 600 python3 "$HERE/lt.py" create "$SERVER_PORT" "$KEY" "$MANY" "$ids") \
            >"$TMP/create.out" 2>&1 &
        local creator=$!
        PIDS+=" $creator"
        wait "$creator"
        forget_pid "$creator"
        line=$(grep '^LOADTEST ' "$TMP/create.out")
        created=$(echo "$line" | sed -n 's/.*created=\([0-9]*\).*/\1/p')
        failed=$(echo "$line" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
        crate=$(echo "$line" | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
        if [ -z "$created" ] || [ "$created" = 0 ]; then
            fail "creating $MANY mocks: $(tail -3 "$TMP/create.out")"
        else
            [ "${failed:-0}" = 0 ] || fail "$failed of $MANY creates were refused"
            after=$(mem_kib "$SERVER_PID" VmRSS)
            per_mock=$(calc "%.0f" "($after - $idle) * 1024 / $created")
            # the same client work against one mock, then against all of them
            if bench "$PIN_CLIENT" random_ids.lua -t1 -c64 "http://127.0.0.1:$SERVER_PORT/" -- "$ids" 1; then
                one_cells=$(cells) one_rps=$W_RPS one_cpu=$W_CPU
            fi
            if bench "$PIN_CLIENT" random_ids.lua -t1 -c64 "http://127.0.0.1:$SERVER_PORT/" -- "$ids"; then
                many_cells=$(cells) many_rps=$W_RPS many_cpu=$W_CPU
                hit_per_mock=$(calc "%.0f" "($(mem_kib "$SERVER_PID" VmRSS) - $idle) * 1024 / $created")
            fi
        fi
        stop_server
    fi
    if [ -n "$many_cells" ] && start_nginx 1 "$PIN_SERVER"; then
        if bench "$PIN_CLIENT" random_ids.lua -t1 -c64 "http://127.0.0.1:$SERVER_PORT/" -- "$ids"; then
            n_rps=$W_RPS n_cpu=$W_CPU
            row 4 "$name, random ids" nginx "$(cells)" 1.00 1.00 "reference, same script"
        else
            failed_row 4 "$name" nginx
        fi
        stop_server
    fi
    if [ -n "$one_cells" ]; then
        row 4 "one of them, same script" mockd "$one_cells" "$(ratio "$one_rps" "$n_rps")" "$(ratio "$one_cpu" "$n_cpu")" "control run for the line below"
    fi
    if [ -n "$many_cells" ]; then
        local vs1 vsone
        vs1=$(ratio "$many_rps" "$S1_RPS")
        [ "$vs1" = n/a ] && vs1="n/a (scenario 1 not run)" || vs1="$vs1×"
        vsone=$(ratio "$many_rps" "$one_rps")
        row 4 "$name, random ids" mockd "$many_cells" "$(ratio "$many_rps" "$n_rps")" "$(ratio "$many_cpu" "$n_cpu")" \
            "$vs1 scenario 1 req/s; $vsone× one mock, same script; RSS/mock $per_mock B after creating, $hit_per_mock B after the hits; idle RSS $(calc "%.1f" "$idle / 1024") MiB; created at $crate/s by the client"
        target "4 many mocks req/s" "$vsone× one mock (same script), $vs1 scenario 1" "$(ge "$vsone" 0.9)" "≥ 0.9× single-mock"
        target "4 RSS per small mock" "$per_mock B after creating ($hit_per_mock B once hit)" "$(le "$per_mock" 500)" "≤ 500 B"
        target "4 idle RSS" "$(calc "%.1f" "$idle / 1024") MiB" "$(le "$idle" 16384)" "≤ 16 MiB"
    else
        failed_row 4 "$name" mockd
        target "4 many mocks" "-" "" "see the table"
    fi
}

scenario5() {
    local id c_cells="" c_rps="" g_cells=""
    say "5: control API (mockd only)"
    if start_mockd 1 "$PIN_SERVER" --max-mocks 20000000; then
        if bench "$PIN_CLIENT" create.lua -t1 -c64 -H "X-API-Key: $KEY" "http://127.0.0.1:$SERVER_PORT/v1/mocks"; then
            c_cells=$(cells) c_rps=$W_RPS
        fi
        if id=$(python3 "$HERE/lt.py" create-one "$SERVER_PORT" "$KEY" 0); then
            if bench "$PIN_CLIENT" "" -t1 -c64 -H "X-API-Key: $KEY" "http://127.0.0.1:$SERVER_PORT/v1/mocks/$id"; then
                g_cells=$(cells)
            fi
        else
            fail "creating the mock for scenario 5"
        fi
        stop_server
    fi
    if [ -n "$c_cells" ]; then
        row 5 "control: create (~200 B body)" mockd "$c_cells" n/a n/a "POST /v1/mocks, keep-alive c64"
    else
        failed_row 5 "control: create" mockd
    fi
    if [ -n "$g_cells" ]; then
        row 5 "control: get metadata" mockd "$g_cells" n/a n/a "GET /v1/mocks/ID with the key"
    else
        failed_row 5 "control: get metadata" mockd
    fi
    row 5 "control API" nginx n/a n/a n/a n/a n/a n/a n/a n/a n/a "no equivalent"
    target "5 creates/s, one worker" "${c_rps:-n/a}/s" "$(ge "${c_rps:-x}" 50000)" "≥ 50,000/s"
}

scenario6() {
    say "6: whole machine, 2 workers unpinned, wrk -t2 -c128"
    versus 6 "whole machine c128" 2 "" "" "" "-t2 -c128"
}

# ---------------------------------------------------------------------------- main

install_tools || exit 1
find_nginx || { fail "nginx missing"; exit 1; }

NCPU=$(nproc)
if [ "$NCPU" -lt 2 ]; then
    echo "run.sh: only $NCPU CPU: server and wrk are not pinned" >&2
    PIN_SERVER=""
    PIN_CLIENT=""
fi

# c10000 needs that many descriptors in wrk and in the server
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

say "building mockd (release)"
if ! (cd "$ROOT" && cargo build --release --quiet ${MOCKD_FEATURES:+--features "$MOCKD_FEATURES"}) >&2; then
    fail "cargo build --release"
    exit 1
fi
MOCKD="${CARGO_TARGET_DIR:-$ROOT/target}/release/mockd"
[ -x "$MOCKD" ] || { fail "no binary at $MOCKD"; exit 1; }

REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ] && REV="$REV (with uncommitted changes)"
MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
HEAD_MD="$TMP/head.md"
{
    echo "# mockd load test ($MODE mode)"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "- machine: $NCPU CPUs ($(nproc --all) online), ${MODEL:-unknown CPU}, kernel $(uname -r)"
    echo "- mockd $REV; $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'); $(wrk -v 2>&1 | head -1 | awk '{ print "wrk " $2 }')"
    echo "- runs: ${DUR} s measured after ${WARM} s warm-up (delayed: ${DUR_DELAY} s); server on CPU ${PIN_SERVER:-any}, wrk on CPU ${PIN_CLIENT:-any} (scenario 6 unpinned); open-file limit $(ulimit -n)"
    echo
} >"$HEAD_MD"
cat "$HEAD_MD"
echo "$HEADER"
echo "$RULE"

wanted 1 && scenario1
wanted 2 && scenario2
wanted 3 && scenario3
wanted 4 && scenario4
wanted 5 && scenario5
wanted 6 && scenario6

SUMMARY="$TMP/summary.md"
{
    cat "$HEAD_MD"
    echo "## Results"
    echo
    echo "$HEADER"
    echo "$RULE"
    cat "$ROWS"
    echo
    echo "CPU s/Mreq: server CPU seconds (user+system, all threads and worker processes) per million requests."
    echo "Latency percentiles are wrk's (with its coordinated-omission correction); none for pipelined runs. non-2xx is wrk's count of responses with status ≥ 400."
    echo
    echo "## Targets"
    echo
    echo "| target | wanted | measured | verdict |"
    echo "|---|---|---|---|"
    cat "$TARGETS"
} >"$SUMMARY"
echo
echo "================================================================ summary"
echo
cat "$SUMMARY"
if [ -n "$OUT" ]; then
    cp "$SUMMARY" "$OUT" || fail "writing $OUT"
fi

if [ "$FAILED" != 0 ]; then
    echo "run.sh: something failed to run (see FAILED above)" >&2
    exit 1
fi
exit 0
