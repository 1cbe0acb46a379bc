#!/usr/bin/env bash
# End-to-end test of the dashboard (GET /ui) in a real headless Chromium.
#
#   bash tests/ui/run.sh
#
# MOCKD_BIN:  the mockd binary to test (default: target/release/mockd, built if missing).
# CHROMIUM:   the browser (default: /usr/bin/chromium; installed with apt-get when missing).
# UPDATE_README_SCREENSHOT=1: also rewrite tests/ui/dashboard.png (20 mocks under load).
#
# Installs playwright-core (the driver only, no browser download) from tests/ui/package-lock.json
# into target/ui-node, starts mockd on a free port with three API keys, runs
# tests/ui/dashboard.test.cjs with node's test runner, and stops mockd. Screenshots go to
# target/ui/. Exit code: the test runner's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# ---- browser
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$CHROMIUM" = /usr/bin/chromium ] && command -v apt-get >/dev/null; then
    echo "== installing chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "tests/ui/run.sh: no browser at CHROMIUM=$CHROMIUM" >&2
    exit 2
  fi
fi
export CHROMIUM

# ---- node and the driver
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "== installing nodejs and npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
NODE_DIR="$ROOT/target/ui-node"
STAMP="$NODE_DIR/.lock.sha256"
want="$(cat tests/ui/package.json tests/ui/package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -d "$NODE_DIR/node_modules/playwright-core" ] || [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
  echo "== installing playwright-core into target/ui-node"
  mkdir -p "$NODE_DIR"
  cp tests/ui/package.json tests/ui/package-lock.json "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$STAMP"
fi
export NODE_PATH="$NODE_DIR/node_modules"

# ---- server binary
. "$ROOT/tests/lib.sh"
resolve_mockd_bin tests/ui/run.sh

# ---- start mockd on a free port; its first stdout line says where it listens
export MOCKD_KEYS="ui-key-$$-1,ui-key-$$-2,ui-key-$$-3"
IFS=, read -r k1 k2 k3 <<<"$MOCKD_KEYS"
mkdir -p target/ui
fifo="$(mktemp -u "${TMPDIR:-/tmp}/mockd-ui.XXXXXX")"
mkfifo "$fifo"
"$MOCKD_BIN" --listen 127.0.0.1:0 --api-key "$k1" --api-key "$k2" --api-key "$k3" >"$fifo" 2>&1 &
MOCKD_PID=$!
stop() {
  kill -TERM "$MOCKD_PID" 2>/dev/null || true
  wait "$MOCKD_PID" 2>/dev/null || true
}
trap stop EXIT
exec 3<"$fifo"
rm -f "$fifo"

MOCKD_URL=""
while IFS= read -r -t 30 line <&3; do
  echo "mockd: $line"
  if [[ "$line" =~ listening\ on\ (http://[^ ]+) ]]; then
    MOCKD_URL="${BASH_REMATCH[1]}"
    break
  fi
done
# The rest of its output goes to a log (read, so that mockd never blocks on a full pipe).
cat <&3 >target/ui/mockd.log &
exec 3<&-
if [ -z "$MOCKD_URL" ]; then
  echo "tests/ui/run.sh: mockd did not say where it listens" >&2
  exit 1
fi
export MOCKD_URL

echo "== dashboard test against $MOCKD_URL"
set +e
node --test tests/ui/dashboard.test.cjs
status=$?
set -e
exit "$status"
