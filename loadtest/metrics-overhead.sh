#!/usr/bin/env bash
# What counting costs: keep-alive scenario 1 of run.sh with the metrics counters compiled in
# (the shipped build) and compiled out (`--features uncounted`), alternated ROUNDS times in one
# session, server on CPU 0 and wrk on CPU 1 as in run.sh.
#
#   bash loadtest/metrics-overhead.sh [ROUNDS]        (default 3; each round ~1 minute)
#
# Prints each run's mockd req/s and server CPU seconds per million requests, the medians, and
# the overhead: (counted − uncounted) / uncounted for CPU per request, and the req/s ratio.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${1:-3}
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || { echo "metrics-overhead.sh: ROUNDS must be 1-99" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

mockd_row() { # FILE: "req/s cpu" of mockd's scenario-1 row
    awk -F'|' '$2 ~ /^ *1 *$/ && $4 ~ /mockd/ { gsub(/ /, "", $5); gsub(/ /, "", $10); print $5, $10 }' "$1"
}

for i in $(seq "$ROUNDS"); do
    for variant in counted uncounted; do
        if [ "$variant" = counted ]; then
            bash "$HERE/run.sh" --only 1 --out "$TMP/$variant.$i.md" >/dev/null
        else
            CARGO_TARGET_DIR="$ROOT/target/uncounted" MOCKD_FEATURES=uncounted \
                bash "$HERE/run.sh" --only 1 --out "$TMP/$variant.$i.md" >/dev/null
        fi
        read -r rps cpu < <(mockd_row "$TMP/$variant.$i.md")
        echo "round $i $variant: $rps req/s, $cpu CPU s/Mreq"
        echo "$rps $cpu" >>"$TMP/$variant.all"
    done
done

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
c_rps=$(cut -d' ' -f1 "$TMP/counted.all" | median)
u_rps=$(cut -d' ' -f1 "$TMP/uncounted.all" | median)
c_cpu=$(cut -d' ' -f2 "$TMP/counted.all" | median)
u_cpu=$(cut -d' ' -f2 "$TMP/uncounted.all" | median)
echo
echo "| build | median req/s | median CPU s/Mreq |"
echo "|---|--:|--:|"
echo "| counted (shipped) | $c_rps | $c_cpu |"
echo "| uncounted | $u_rps | $u_cpu |"
awk -v cr="$c_rps" -v ur="$u_rps" -v cc="$c_cpu" -v uc="$u_cpu" 'BEGIN {
    printf "\nmetrics overhead: CPU per request %+.1f%%, req/s ratio %.3f\n", (cc - uc) / uc * 100, cr / ur }'
