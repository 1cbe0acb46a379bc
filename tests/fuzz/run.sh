#!/usr/bin/env bash
# Fuzzes mockd's request path and create-body validation with libFuzzer, on the stable toolchain.
#
#   bash tests/fuzz/run.sh [SECONDS]      # each target for SECONDS (default 60)
#   bash tests/fuzz/run.sh --replay       # only replay the seed corpus (no fuzzer)
#
# The fuzzer is libFuzzer through the `libfuzzer-sys` crate (fetched by cargo; its C++ part is
# built with the system C++ compiler, installed with apt-get if missing). Coverage comes from the
# stable codegen flags `-C passes=sancov-module` and `-C llvm-args=-sanitizer-coverage-*`, so no
# nightly toolchain, no RUSTC_BOOTSTRAP and no cargo subcommand is needed. (No AddressSanitizer:
# mockd forbids unsafe code, so memory errors are not what is hunted; panics, hangs and broken
# properties are.)
#
# Per target: the seed corpus corpus/<target>/ is copied into work/<target>/corpus/ (grown by the
# fuzzer, never committed), crashes go to work/<target>/crashes/. libFuzzer runs in fork mode with
# -ignore_crashes=1, so a known crash does not end the run; every distinct crash is listed at the
# end. Exit status: 0 when no crash was found, 1 otherwise, 2 when something failed to run.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"

SECS=60
REPLAY_ONLY=0
case "${1:-}" in
    "") ;;
    --replay) REPLAY_ONLY=1 ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *)
        if [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ] && [ "$1" -le 86400 ]; then
            SECS=$1
        else
            echo "run.sh: SECONDS must be a whole number from 1 to 86400 (got: $1)" >&2
            exit 2
        fi
        ;;
esac

say() { echo "== $*" >&2; }

PIDS=""
cleanup() {
    local pid
    trap - EXIT INT TERM
    for pid in $PIDS; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

say "replaying the seed corpus (cargo test --release)"
REPLAY_RC=0
mkdir -p work
cargo test --release >work/replay.log 2>&1 || REPLAY_RC=$?
grep -E '^(test result|http:|create:)|inputs failed|^/' work/replay.log || true
if [ "$REPLAY_RC" != 0 ]; then
    say "corpus replay FAILED (see above; full output: tests/fuzz/work/replay.log)"
fi
if [ "$REPLAY_ONLY" = 1 ]; then
    exit $((REPLAY_RC == 0 ? 0 : 1))
fi

# ---- the fuzzer
if ! command -v c++ >/dev/null 2>&1; then
    say "installing a C++ compiler for libFuzzer"
    if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq g++ >&2 ||
        { echo "run.sh: cannot install g++" >&2; exit 2; }
fi
HOST=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
say "building the fuzz targets (libFuzzer, $HOST)"
# --target keeps RUSTFLAGS off build scripts and proc macros.
if ! cargo build --release --features libfuzzer --bins --target "$HOST" --target-dir target/libfuzzer >&2; then
    echo "run.sh: build failed" >&2
    exit 2
fi
unset RUSTFLAGS
BIN="target/libfuzzer/$HOST/release"

TOTAL_CRASHES=0
SUMMARY=""
for target in http create; do
    work="work/$target"
    mkdir -p "$work/corpus" "$work/crashes"
    cp -n corpus/"$target"/* "$work/corpus/" 2>/dev/null || true
    before=$(find "$work/crashes" -type f | wc -l)
    dict=()
    [ -f "$target.dict" ] && dict=(-dict="$target.dict")
    say "fuzzing $target for ${SECS}s"
    # Bounded twice: libFuzzer's own -max_total_time and an outer timeout.
    timeout -k 10 $((SECS + 120)) "$BIN/fuzz_$target" "$work/corpus" "${dict[@]}" \
        -max_total_time="$SECS" -max_len=4096 -timeout=20 -rss_limit_mb=4096 \
        -fork=1 -ignore_crashes=1 -artifact_prefix="$work/crashes/" >"$work/log" 2>&1 &
    pid=$!
    PIDS="$PIDS $pid"
    wait "$pid"
    rc=$?
    PIDS=${PIDS// $pid/}
    line=$(grep -E '^#[0-9]+: cov:' "$work/log" | tail -1)
    execs=$(echo "$line" | sed -n 's/^#\([0-9]*\):.*/\1/p')
    cov=$(echo "$line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    corp=$(echo "$line" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    after=$(find "$work/crashes" -type f | wc -l)
    new=$((after - before))
    TOTAL_CRASHES=$((TOTAL_CRASHES + after))
    SUMMARY+="$target: ${execs:-?} executions in ${SECS}s, coverage ${cov:-?}, corpus ${corp:-?}, crash files ${after} (${new} new), libFuzzer exit $rc"$'\n'
    for f in "$work"/crashes/*; do
        [ -f "$f" ] || continue
        msg=$("$BIN/fuzz_$target" "$f" 2>&1 | grep -A3 'panicked at' | sed -n '2,4p' | cut -c1-300)
        SUMMARY+="  $f: ${msg//$'\n'/ | }"$'\n'
    done
done

echo
echo "================ fuzz summary"
printf '%s' "$SUMMARY"
[ "$REPLAY_RC" = 0 ] || echo "corpus replay: FAILED"
if [ "$TOTAL_CRASHES" -gt 0 ] || [ "$REPLAY_RC" != 0 ]; then
    exit 1
fi
exit 0
