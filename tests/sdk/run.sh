#!/usr/bin/env bash
# Runs the Python SDK compatibility suite against the release binary.
#
#   bash tests/sdk/run.sh [pytest args...]
#
# MOCKD_BIN: the mockd binary to test (default: target/release/mockd, built if missing).
# PYTHON:    the interpreter that creates the venv (default: python3, 3.9+).
# The venv lives in target/venv-sdk and is reused while requirements.txt is unchanged.
# Exit code: pytest's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

if [ -n "${MOCKD_BIN:-}" ]; then
  case "$MOCKD_BIN" in
    /*) ;;
    *) MOCKD_BIN="$ROOT/$MOCKD_BIN" ;;
  esac
  if [ ! -x "$MOCKD_BIN" ]; then
    echo "tests/sdk/run.sh: MOCKD_BIN=$MOCKD_BIN is not an executable file" >&2
    exit 2
  fi
else
  MOCKD_BIN="$ROOT/target/release/mockd"
  if [ ! -x "$MOCKD_BIN" ]; then
    echo "== building the release binary"
    cargo build --release
  fi
fi
export MOCKD_BIN

VENV="$ROOT/target/venv-sdk"
REQS="$ROOT/tests/sdk/requirements.txt"
STAMP="$VENV/.requirements.sha256"
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
  echo "$want" > "$STAMP"
fi

set +e
"$VENV/bin/python" -m pytest tests/sdk -q "$@"
status=$?
set -e
exit "$status"
