"""What the published SDK puts on the wire, captured by a tiny local socket listener (not mockd).

mockd's router is built around these bytes (the literal ``{mock_id}`` template in the path,
percent-encoded by httpx, with the id in the ``mock_id`` query parameter). If a future httpx or
SDK changed them, this file says so before the server tests do.
"""

from __future__ import annotations

import socket
import threading
from typing import List

import pytest
from toolkitapi import Webhook

MOCK_ID = "AbC_-09xyzAbC_-09xyzAB"


class Recorder:
    """Accepts connections, records each request's bytes, answers ``200 {}`` and closes."""

    def __init__(self) -> None:
        self.requests: List[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(body) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                self.requests.append(head + b"\r\n\r\n" + body)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
                )

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def recorded():
    rec = Recorder()
    client = Webhook(api_key="wire-key", base_url=rec.url)
    yield client, rec
    client.close()
    rec.close()


def head_lines(raw: bytes) -> List[bytes]:
    return raw.partition(b"\r\n\r\n")[0].split(b"\r\n")


def header(raw: bytes, name: bytes):
    for line in head_lines(raw)[1:]:
        key, _, value = line.partition(b":")
        if key.lower() == name.lower():
            return value.strip()
    return None


@pytest.mark.parametrize(
    "call,request_line",
    [
        (lambda w: w.get_mock(MOCK_ID),
         b"GET /v1/mocks/%7Bmock_id%7D?mock_id=" + MOCK_ID.encode() + b" HTTP/1.1"),
        (lambda w: w.delete_mock(MOCK_ID),
         b"DELETE /v1/mocks/%7Bmock_id%7D?mock_id=" + MOCK_ID.encode() + b" HTTP/1.1"),
        (lambda w: w.hit_mock(MOCK_ID),
         b"DELETE /v1/mock/%7Bmock_id%7D?mock_id=" + MOCK_ID.encode() + b" HTTP/1.1"),
        (lambda w: w.hit_mock_3(MOCK_ID),
         b"POST /v1/mock/%7Bmock_id%7D?mock_id=" + MOCK_ID.encode() + b" HTTP/1.1"),
        (lambda w: w.hit_mock_7(MOCK_ID),
         b"GET /v1/mock/%7Bmock_id%7D?mock_id=" + MOCK_ID.encode() + b" HTTP/1.1"),
        (lambda w: w.status(), b"GET /v1/status HTTP/1.1"),
        (lambda w: w.root__get(), b"GET /v1/ HTTP/1.1"),
        (lambda w: w.create_mock(body={"status_code": 202}), b"POST /v1/mocks HTTP/1.1"),
    ],
    ids=["get_mock", "delete_mock", "hit_mock", "hit_mock_3", "hit_mock_7", "status",
         "root__get", "create_mock"],
)
def test_request_line_and_credentials(recorded, call, request_line):
    client, rec = recorded
    assert call(client) == {}
    assert len(rec.requests) == 1
    raw = rec.requests[0]
    assert head_lines(raw)[0] == request_line
    assert header(raw, b"X-API-Key") == b"wire-key"
    assert header(raw, b"Accept") == b"application/json"
    assert header(raw, b"Authorization") is None


def test_create_sends_compact_json_without_none_values(recorded):
    client, rec = recorded
    client.create_mock(body={"status_code": 202, "name": None, "body": '{"accepted": true}'})
    raw = rec.requests[0]
    assert header(raw, b"Content-Type") == b"application/json"
    assert raw.partition(b"\r\n\r\n")[2] == b'{"status_code":202,"body":"{\\"accepted\\": true}"}'


def test_create_without_body_sends_an_empty_request_body(recorded):
    """``create_mock()``: Content-Length 0 and no Content-Type (mockd must accept it; README)."""
    client, rec = recorded
    client.create_mock()
    raw = rec.requests[0]
    assert head_lines(raw)[0] == b"POST /v1/mocks HTTP/1.1"
    assert header(raw, b"Content-Length") == b"0"
    assert header(raw, b"Content-Type") is None
    assert raw.endswith(b"\r\n\r\n")


def test_post_hit_sends_an_empty_body(recorded):
    client, rec = recorded
    client.hit_mock_3(MOCK_ID)
    raw = rec.requests[0]
    assert header(raw, b"Content-Length") == b"0"
    assert raw.endswith(b"\r\n\r\n")


@pytest.mark.parametrize("name", ["hit_mock_2", "hit_mock_4", "hit_mock_5", "hit_mock_6"])
def test_broken_hit_methods_send_nothing(recorded, name):
    client, rec = recorded
    with pytest.raises(AttributeError):
        getattr(client, name)(MOCK_ID)
    # A request, had one been made, would be recorded before the client saw any answer.
    client.status()
    assert [head_lines(r)[0] for r in rec.requests] == [b"GET /v1/status HTTP/1.1"]
