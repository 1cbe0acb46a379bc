# Shared by the suites that drive the release binary from outside (tests/*/run.sh); sourced,
# with ROOT set to the repository root.

# resolve_mockd_bin SUITE: sets and exports MOCKD_BIN — the given one (relative paths taken from
# ROOT; exit 2 if it is not executable), else target/release/mockd, built when missing.
resolve_mockd_bin() {
  if [ -n "${MOCKD_BIN:-}" ]; then
    case "$MOCKD_BIN" in
      /*) ;;
      *) MOCKD_BIN="$ROOT/$MOCKD_BIN" ;;
    esac
    if [ ! -x "$MOCKD_BIN" ]; then
      echo "$1: MOCKD_BIN=$MOCKD_BIN is not an executable file" >&2
      exit 2
    fi
  else
    MOCKD_BIN="$ROOT/target/release/mockd"
    if [ ! -x "$MOCKD_BIN" ]; then
      echo "== building the release binary"
      (cd "$ROOT" && cargo build --release)
    fi
  fi
  export MOCKD_BIN
}

# ensure_venv DIR REQUIREMENTS: a venv at DIR (interpreter: $PYTHON, default python3) with the
# requirements installed; reinstalled only when the requirements file changes.
ensure_venv() {
  local venv=$1 reqs=$2 stamp="$1/.requirements.sha256" want
  if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
  fi
  want="$(sha256sum "$reqs" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs"
    echo "$want" >"$stamp"
  fi
}
