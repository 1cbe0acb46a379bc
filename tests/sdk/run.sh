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

. "$ROOT/tests/lib.sh"
resolve_mockd_bin tests/sdk/run.sh

VENV="$ROOT/target/venv-sdk"
ensure_venv "$VENV" "$ROOT/tests/sdk/requirements.txt"

set +e
"$VENV/bin/python" -m pytest tests/sdk -q "$@"
status=$?
set -e
exit "$status"
