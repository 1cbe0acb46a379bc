"""Fixtures for the Python SDK compatibility suite.

One real mockd (the release binary) serves the whole session: it listens on port 0 with two API
keys, and the fixture reads the port from the line it prints. Tests reach it only through the
published SDK's ``Webhook`` client, used exactly as shipped.
"""

from __future__ import annotations

import os
import pathlib
import queue
import re
import signal
import subprocess
import threading
from typing import Iterator, List

import pytest
from toolkitapi import Webhook

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

KEY_1 = "sdk-suite-key-one"
KEY_2 = "sdk-suite-key-two"
WRONG_KEY = "sdk-suite-key-nobody-has"

# Startup is quick; this only bounds a binary that hangs before printing its address.
STARTUP_TIMEOUT_S = 30.0
# Nothing is in flight at teardown, so shutdown is quick; the server's grace period is 35 s.
SHUTDOWN_TIMEOUT_S = 60.0

LISTENING = re.compile(r"listening on (http://[^\s]+)")


def _mockd_bin() -> pathlib.Path:
    raw = os.environ.get("MOCKD_BIN") or "target/release/mockd"
    path = pathlib.Path(raw)
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def _drain(stream, lines: List[str], first: "queue.Queue[str]") -> None:
    """Reads a child's output to its end (so the pipe never fills), handing every line on."""
    for line in stream:
        lines.append(line)
        first.put(line)
    first.put("")  # EOF


@pytest.fixture(scope="session")
def mockd_process() -> Iterator[dict]:
    binary = _mockd_bin()
    if not binary.is_file():
        pytest.exit(
            f"mockd binary not found at {binary}; run `cargo build --release` or set MOCKD_BIN",
            returncode=2,
        )
    # The binary reads MOCKD_* settings from its environment; the suite's settings are the flags.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKD_")}
    proc = subprocess.Popen(
        [
            str(binary),
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            KEY_1,
            "--api-key",
            KEY_2,
            "--workers",
            "2",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    out_lines: List[str] = []
    err_lines: List[str] = []
    out_q: "queue.Queue[str]" = queue.Queue()
    threads = [
        threading.Thread(target=_drain, args=(proc.stdout, out_lines, out_q), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr, err_lines, queue.Queue()), daemon=True),
    ]
    for t in threads:
        t.start()

    base_url = None
    try:
        while base_url is None:
            try:
                line = out_q.get(timeout=STARTUP_TIMEOUT_S)
            except queue.Empty:
                raise RuntimeError(
                    f"mockd printed no listening line within {STARTUP_TIMEOUT_S} s"
                ) from None
            if line == "":
                proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
                raise RuntimeError(
                    f"mockd exited with {proc.returncode} before listening; "
                    f"stdout={''.join(out_lines)!r} stderr={''.join(err_lines)!r}"
                )
            match = LISTENING.search(line)
            if match:
                base_url = match.group(1)
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise

    info = {"base_url": base_url, "proc": proc, "stdout": out_lines, "stderr": err_lines}
    yield info

    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"mockd did not stop within {SHUTDOWN_TIMEOUT_S} s of SIGTERM")
    for t in threads:
        t.join(timeout=5)
    assert code == 0, (
        f"mockd exited with {code} after SIGTERM; "
        f"stdout={''.join(out_lines)!r} stderr={''.join(err_lines)!r}"
    )


@pytest.fixture(scope="session")
def base_url(mockd_process: dict) -> str:
    """``http://127.0.0.1:PORT`` of the running mockd."""
    return mockd_process["base_url"]


@pytest.fixture
def webhook(base_url: str) -> Iterator[Webhook]:
    """The SDK client with key 1."""
    with Webhook(api_key=KEY_1, base_url=base_url) as client:
        yield client


@pytest.fixture
def webhook_key2(base_url: str) -> Iterator[Webhook]:
    """The SDK client with key 2 (another owner)."""
    with Webhook(api_key=KEY_2, base_url=base_url) as client:
        yield client


@pytest.fixture
def webhook_wrong_key(base_url: str) -> Iterator[Webhook]:
    """The SDK client with a key the server does not know."""
    with Webhook(api_key=WRONG_KEY, base_url=base_url) as client:
        yield client


@pytest.fixture
def make_webhook(base_url: str) -> Iterator:
    """Factory for extra key-1 clients (one per thread in concurrency tests)."""
    made: List[Webhook] = []

    def make(api_key: str = KEY_1) -> Webhook:
        client = Webhook(api_key=api_key, base_url=base_url)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
