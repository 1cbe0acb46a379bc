#!/usr/bin/env bash
# Property-based API testing of mockd against its own OpenAPI document.
#
#   bash tests/schemathesis/run.sh [extra schemathesis run args...]
#
# Starts the binary on a free port with API key k1, then runs schemathesis against
# http://HOST:PORT/v1/openapi.json: examples, coverage, fuzzing and stateful phases (the stateful
# one follows the document's links: create -> read / stats / hit -> delete). schemathesis.toml
# selects the checks: not_a_server_error, status_code_conformance, content_type_conformance,
# response_schema_conformance and response_headers_conformance, with served_as_configured
# (hooks.py) in place of not_a_server_error on the serving path, whose statuses are the mocks'.
#
# MOCKD_BIN:         the mockd binary to test (default: target/release/mockd, built if missing).
# PYTHON:            the interpreter that creates the venv (default: python3, 3.9+).
# SCHEMA_EXAMPLES:   examples per operation and phase (default: 150: about a minute here).
# SCHEMA_SEED:       the generation seed (default: fixed, so runs repeat; "random" for a new one).
# The venv lives in target/venv-schema and is reused while requirements.txt is unchanged.
# Exit code: schemathesis's (0 when every check passed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/schemathesis"
cd "$ROOT"

. "$ROOT/tests/lib.sh"
resolve_mockd_bin tests/schemathesis/run.sh

VENV="$ROOT/target/venv-schema"
ensure_venv "$VENV" "$HERE/requirements.txt"

# Start mockd; its first stdout lines say where it listens. A FIFO hands them over as they are
# written, so there is nothing to poll for.
WORK="$(mktemp -d)"
MOCKD_PID=""
DRAIN_PID=""
cleanup() {
  if [ -n "$MOCKD_PID" ] && kill -0 "$MOCKD_PID" 2>/dev/null; then
    kill -TERM "$MOCKD_PID" 2>/dev/null || true
    wait "$MOCKD_PID" 2>/dev/null || true
  fi
  if [ -n "$DRAIN_PID" ]; then
    wait "$DRAIN_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkfifo "$WORK/stdout"
"$MOCKD_BIN" --listen 127.0.0.1:0 --api-key k1 >"$WORK/stdout" 2>"$WORK/stderr" &
MOCKD_PID=$!
exec 3<"$WORK/stdout"
BASE=""
while IFS= read -r -t 30 line <&3; do
  echo "mockd: $line"
  if [[ "$line" =~ listening\ on\ (http://[^[:space:]]+) ]]; then
    BASE="${BASH_REMATCH[1]}"
    break
  fi
done
if [ -z "$BASE" ]; then
  echo "tests/schemathesis/run.sh: mockd did not say where it listens" >&2
  cat "$WORK/stderr" >&2 || true
  exit 1
fi
# Keep reading what mockd prints, so a later write never blocks or breaks.
cat <&3 >"$WORK/mockd.log" &
DRAIN_PID=$!
exec 3<&-

SEED_ARGS=(--seed "${SCHEMA_SEED:-20261204}")
if [ "${SCHEMA_SEED:-}" = "random" ]; then
  SEED_ARGS=()
fi

echo "== schemathesis against $BASE/v1/openapi.json"
set +e
SCHEMATHESIS_HOOKS="$HERE/hooks.py" "$VENV/bin/schemathesis" \
  --config-file "$HERE/schemathesis.toml" \
  run "$BASE/v1/openapi.json" \
  --header "X-API-Key: k1" \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "${SCHEMA_EXAMPLES:-150}" \
  "${SEED_ARGS[@]}" \
  --no-color \
  "$@"
status=$?
set -e
if ! kill -0 "$MOCKD_PID" 2>/dev/null; then
  echo "tests/schemathesis/run.sh: mockd exited during the run" >&2
  cat "$WORK/stderr" >&2 || true
  status=1
fi
exit "$status"
