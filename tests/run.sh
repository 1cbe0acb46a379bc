#!/usr/bin/env bash
# Runs every test of mockd: Rust unit and integration tests, then the suites that drive the
# release binary from outside (published Python SDK, schemathesis against the OpenAPI document,
# the dashboard in headless Chromium).
# Needs: cargo, python3 (3.11+) with venv. Installs Python packages into target/.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test"
cargo test

echo "== release binary"
cargo build --release
export MOCKD_BIN="$PWD/target/release/mockd"

for suite in tests/sdk/run.sh tests/schemathesis/run.sh tests/ui/run.sh; do
  if [ -f "$suite" ]; then
    echo "== $suite"
    bash "$suite"
  fi
done
echo "== all test suites passed"
