#!/usr/bin/env python3
"""Small HTTP helpers for loadtest/run.sh (standard library only, 127.0.0.1 only).

  lt.py free-port
  lt.py probe PORT PATH                         -> prints the status and the body of one GET
  lt.py create-one PORT KEY DELAY_MS            -> prints the new mock's id
  lt.py create PORT KEY COUNT OUTFILE           -> creates COUNT mocks, writes their ids
  lt.py hits-rate PORT KEY ID START STOP PERIOD -> server-counted hits/s in a steady window

Every line meant for run.sh starts with "LOADTEST ".
"""

import json
import selectors
import socket
import sys
import time

HOST = "127.0.0.1"
SMALL_MOCK = '{"status_code":202,"body":"{\\"accepted\\": true}","delay_ms":%d,"ttl_seconds":172800}'


def die(msg):
    print("lt.py: " + msg, file=sys.stderr)
    sys.exit(1)


def request(port, method, path, key=None, body=b"", timeout=10.0):
    """One request on a fresh connection; returns (status, body bytes)."""
    head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n" % (method, path, HOST, port)
    if key is not None:
        head += "X-API-Key: %s\r\n" % key
    if body:
        head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(head.encode() + b"\r\n" + body)
        buf = bytearray()
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            status, resp_body, _ = parse_one(buf, 0)
            if status is not None:
                return status, resp_body
    status, resp_body, _ = parse_one(buf, 0)
    if status is None:
        die("incomplete response to %s %s" % (method, path))
    return status, resp_body


def parse_one(buf, pos):
    """Parses one Content-Length framed response at pos: (status, body, next_pos) or Nones."""
    he = buf.find(b"\r\n\r\n", pos)
    if he < 0:
        return None, None, pos
    head = bytes(buf[pos:he])
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
            break
    end = he + 4 + length
    if end > len(buf):
        return None, None, pos
    return status, bytes(buf[he + 4:end]), end


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        print(s.getsockname()[1])


def probe(port, path):
    status, body = request(port, "GET", path)
    print(status, body.decode(errors="replace"))


def create_one(port, key, delay_ms):
    status, body = request(port, "POST", "/v1/mocks", key, (SMALL_MOCK % delay_ms).encode())
    if status != 201:
        die("create returned %d: %r" % (status, body[:200]))
    print(json.loads(body)["mock"]["mock_id"])


def create_many(port, key, count, outfile, conns=4, depth=64):
    """Creates COUNT small mocks over CONNS keep-alive connections, DEPTH pipelined requests
    per write, and writes the ids from the 201 bodies to OUTFILE."""
    body = (SMALL_MOCK % 0).encode()
    one = ("POST /v1/mocks HTTP/1.1\r\nHost: %s:%d\r\nX-API-Key: %s\r\n"
           "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
           % (HOST, port, key, len(body))).encode() + body
    marker = b'"mock_id":"'
    sel = selectors.DefaultSelector()
    state = {}
    for _ in range(conns):
        s = socket.create_connection((HOST, port), timeout=30)
        state[s] = {"buf": bytearray(), "out": 0}
        sel.register(s, selectors.EVENT_READ)
    ids, failed, first_failure = [], 0, None
    to_send = count
    t0 = time.monotonic()

    def refill(s, st):
        nonlocal to_send
        n = min(depth, to_send)
        if n > 0:
            s.sendall(one * n)
            st["out"] = n
            to_send -= n

    for s, st in state.items():
        refill(s, st)
    while any(st["out"] for st in state.values()):
        for key_, _ in sel.select(timeout=30):
            s = key_.fileobj
            st = state[s]
            chunk = s.recv(1 << 20)
            if not chunk:
                die("server closed a connection after %d creates" % len(ids))
            st["buf"] += chunk
            buf, pos = st["buf"], 0
            while st["out"]:
                status, rbody, nxt = parse_one(buf, pos)
                if status is None:
                    break
                pos = nxt
                st["out"] -= 1
                if status == 201:
                    i = rbody.find(marker) + len(marker)
                    ids.append(rbody[i:rbody.index(b'"', i)].decode())
                else:
                    failed += 1
                    if first_failure is None:
                        first_failure = "%d %r" % (status, rbody[:200])
            del buf[:pos]
            if not st["out"]:
                refill(s, st)
    secs = time.monotonic() - t0
    for s in state:
        s.close()
    with open(outfile, "w") as f:
        f.write("\n".join(ids))
        f.write("\n")
    if first_failure:
        print("lt.py: first failed create: " + first_failure, file=sys.stderr)
    print("LOADTEST created=%d failed=%d seconds=%.3f rate=%.0f"
          % (len(ids), failed, secs, len(ids) / secs if secs > 0 else 0))


def hit_count(port, key, mock_id):
    status, body = request(port, "GET", "/v1/mocks/" + mock_id, key)
    if status != 200:
        die("metadata returned %d: %r" % (status, body[:200]))
    return json.loads(body)["mock"]["hit_count"]


def hits_rate(port, key, mock_id, start, stop, period):
    """Samples the mock's hit_count at START s from now and again a whole number of PERIODs
    later, no later than STOP s from now: the server-counted rate in a window that leaves out
    the client's ramp-up and the requests still in flight when it stops."""
    t0 = time.monotonic()

    def sample():
        a = time.monotonic()
        h = hit_count(port, key, mock_id)
        b = time.monotonic()
        return (a + b) / 2, h

    time.sleep(max(0.0, t0 + start - time.monotonic()))
    ta, ha = sample()
    k = int((t0 + stop - ta) // period)
    if k < 1:
        die("window too short for period %.3f" % period)
    time.sleep(max(0.0, ta + k * period - time.monotonic()))
    tb, hb = sample()
    print("LOADTEST hits_rate=%.1f window_s=%.3f hits=%d" % ((hb - ha) / (tb - ta), tb - ta, hb - ha))


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    cmd, a = argv[1], argv[2:]
    if cmd == "free-port":
        free_port()
    elif cmd == "probe" and len(a) == 2:
        probe(int(a[0]), a[1])
    elif cmd == "create-one" and len(a) == 3:
        create_one(int(a[0]), a[1], int(a[2]))
    elif cmd == "create" and len(a) == 4:
        create_many(int(a[0]), a[1], int(a[2]), a[3])
    elif cmd == "hits-rate" and len(a) == 6:
        hits_rate(int(a[0]), a[1], a[2], float(a[3]), float(a[4]), float(a[5]))
    else:
        die(__doc__)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main(sys.argv)
