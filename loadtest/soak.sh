#!/usr/bin/env bash
# Bounded mixed soak of the release mockd on 127.0.0.1:
#
#   bash loadtest/soak.sh [--duration SECS] [--keep DIR]      (default 600 s; 60 s is a quick run)
#
# One server (2 workers, --test-only-ttl-unit-ms 50 so ttl_seconds 60 lasts 3 s, short idle,
# header, body and write timeouts) under, all at once for the whole duration:
#   - wrk: 32 keep-alive connections hitting 50 live mocks (as fast as it can, niced);
#   - 16 well-behaved keep-alive clients at ~50 req/s each, whose latency is the one reported;
#   - a hit-count client hitting 20 sample mocks a counted number of times (GET/HEAD/POST);
#   - a control-API client creating (3 s TTL), reading, hitting and deleting mocks continuously,
#     letting half of them expire and checking that deleted and expired ones are gone;
#   - abusive clients: slowloris heads, half-open connections that never send, garbage bytes,
#     pipelined floods that never read.
# Reports requests served, errors by kind (clients and /metrics), hit_count exactness, RSS and open
# fds at start/middle/end, and the well-behaved p99. Exits non-zero if hit counts differ, the
# server dies, RSS grows more than 10% from middle to end, or a connection handler panicked.
# Clients: loadtest/soak/ (Python 3.11 standard library, wrk script).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SOAK="$HERE/soak"

DURATION=600
KEEP=""
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) [ $# -ge 2 ] || { echo "soak.sh: --duration needs SECS" >&2; exit 2; }; DURATION=$2; shift ;;
        --duration=*) DURATION=${1#*=} ;;
        --keep) [ $# -ge 2 ] || { echo "soak.sh: --keep needs DIR" >&2; exit 2; }; KEEP=$2; shift ;;
        --keep=*) KEEP=${1#*=} ;;
        -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "soak.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
if ! [[ $DURATION =~ ^[0-9]+$ ]] || [ "$DURATION" -lt 20 ] || [ "$DURATION" -gt 86400 ]; then
    echo "soak.sh: --duration must be whole seconds from 20 to 86400 (got: $DURATION)" >&2
    exit 2
fi

KEY="soak-$RANDOM$RANDOM"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mockd-soak.XXXXXX")
PIDS=""

stop_pid() { # PID: TERM, up to 5 s, then KILL
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

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local pid
    trap - EXIT INT TERM
    for pid in $PIDS; do stop_pid "$pid"; done
    if [ -n "$KEEP" ]; then
        mkdir -p "$KEEP" && cp -r "$WORK"/. "$KEEP"/ && echo "soak.sh: run files kept in $KEEP" >&2
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "soak.sh: interrupted" >&2; exit 130' INT TERM

say() { echo "== $*" >&2; }

# ---------------------------------------------------------------------------- tools
if ! command -v wrk >/dev/null; then
    say "installing wrk"
    if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq wrk >&2 || { echo "soak.sh: cannot install wrk" >&2; exit 2; }
fi
python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null || { echo "soak.sh: needs python3 >= 3.11" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

say "building mockd (release)"
(cd "$ROOT" && cargo build --release --quiet) >&2 || { echo "soak.sh: build failed" >&2; exit 2; }
MOCKD="${CARGO_TARGET_DIR:-$ROOT/target}/release/mockd"

# ---------------------------------------------------------------------------- server
FLAGS=(--listen 127.0.0.1:0 --workers 2 --test-only-ttl-unit-ms 50 --idle-timeout 5 --header-timeout 2
       --body-timeout 2 --write-timeout 5 --shutdown-grace 2)
"$MOCKD" "${FLAGS[@]}" --api-key "$KEY" >"$WORK/mockd.log" 2>&1 &
SERVER=$!
PIDS="$SERVER"
PORT=""
for _ in $(seq 200); do
    PORT=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$WORK/mockd.log" | sed 's/.*://')
    [ -n "$PORT" ] && break
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.05
done
[ -n "$PORT" ] || { echo "soak.sh: mockd did not start: $(tail -5 "$WORK/mockd.log")" >&2; exit 2; }
say "mockd pid $SERVER on port $PORT; soaking for ${DURATION}s"

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVER/status" 2>/dev/null || echo 0; }
fds() { find "/proc/$SERVER/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
sample_json() { echo "{\"t\": $1, \"rss_kib\": $(rss_kib), \"fds\": $(fds)}"; }

python3 "$SOAK/clients.py" setup "$PORT" "$KEY" "$WORK" || { echo "soak.sh: setup failed" >&2; exit 2; }
python3 "$SOAK/clients.py" metrics "$PORT" "$KEY" >"$WORK/metrics.start.txt"
START_SAMPLE=$(sample_json 0)

# ---------------------------------------------------------------------------- clients
launch() { # NAME CMD...: run bounded by DURATION + 60 s
    local name=$1
    shift
    timeout -k 5 $((DURATION + 60)) "$@" >"$WORK/$name.out" 2>&1 &
    PIDS="$PIDS $!"
}
launch wrk nice -n 10 wrk -t1 -c32 -d"${DURATION}s" --timeout 5s -s "$SOAK/random.lua" \
    "http://127.0.0.1:$PORT/" -- "$WORK/wrk_ids.txt"
launch steady python3 "$SOAK/clients.py" steady "$PORT" "$DURATION" "$WORK"
launch hits python3 "$SOAK/clients.py" hits "$PORT" "$KEY" "$DURATION" "$WORK"
launch control python3 "$SOAK/clients.py" control "$PORT" "$KEY" "$DURATION" "$WORK"
launch abuse python3 "$SOAK/clients.py" abuse "$PORT" "$DURATION" "$WORK"

# ---------------------------------------------------------------------------- sampling
MIDDLE=""
END=""
PEAK=0
ALIVE=1
: >"$WORK/samples.csv"
echo "t,rss_kib,fds" >>"$WORK/samples.csv"
for t in $(seq 1 "$DURATION"); do
    sleep 1
    if ! kill -0 "$SERVER" 2>/dev/null; then
        ALIVE=0
        echo "soak.sh: mockd died at t=${t}s: $(tail -5 "$WORK/mockd.log")" >&2
        break
    fi
    r=$(rss_kib)
    [ "$r" -gt "$PEAK" ] && PEAK=$r
    [ $((t % 5)) = 0 ] && echo "$t,$r,$(fds)" >>"$WORK/samples.csv"
    [ "$t" = $((DURATION / 2)) ] && MIDDLE=$(sample_json "$t")
    [ "$t" = $((DURATION - 2)) ] && END=$(sample_json "$t")
    [ $((t % 30)) = 0 ] && say "t=${t}s RSS $((r / 1024)) MiB, fds $(fds)"
done

# wait for the clients (each is bounded by its own duration and by timeout)
for pid in $PIDS; do
    [ "$pid" = "$SERVER" ] && continue
    wait "$pid" 2>/dev/null
done
PIDS="$SERVER"
kill -0 "$SERVER" 2>/dev/null || ALIVE=0
if [ "$ALIVE" = 1 ]; then
    python3 "$SOAK/clients.py" metrics "$PORT" "$KEY" >"$WORK/metrics.end.txt" || true
fi
grep -i -E 'panic|error' "$WORK/mockd.log" | head -5 >&2 || true

cat >"$WORK/samples.json" <<EOF
{"start": $START_SAMPLE, "middle": ${MIDDLE:-null}, "end": ${END:-null}, "peak_rss_kib": $PEAK}
EOF
cat >"$WORK/info.json" <<EOF
{"duration": $DURATION, "pid": $SERVER, "alive_at_end": $([ "$ALIVE" = 1 ] && echo true || echo false),
 "flags": "${FLAGS[*]}"}
EOF
echo
python3 "$SOAK/report.py" "$WORK"
RC=$?
echo "(RSS/fd samples every 5 s: samples.csv in the run files; --keep DIR keeps them)"
exit $RC
