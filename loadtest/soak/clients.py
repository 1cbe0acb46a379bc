#!/usr/bin/env python3
"""Clients for loadtest/soak.sh (Python 3.11 standard library only; 127.0.0.1 only).

  clients.py setup   PORT KEY OUTDIR              create the long-lived mocks (wrk targets, samples)
  clients.py steady  PORT DURATION OUTDIR         well-behaved keep-alive clients; latency
  clients.py hits    PORT KEY DURATION OUTDIR     exact, counted hits on the sample mocks
  clients.py control PORT KEY DURATION OUTDIR     create / get / hit / delete loop; short-TTL mocks
  clients.py abuse   PORT DURATION OUTDIR         slowloris, half-open, garbage, pipelined floods
  clients.py metrics PORT KEY                     print /metrics

Every role stops by itself after DURATION seconds (and every loop is also bounded in count), then
writes OUTDIR/<role>.json with its counts.
"""

import asyncio
import json
import os
import random
import sys
import time

HOST = "127.0.0.1"
LONG_TTL = 172800  # the longest allowed; with --test-only-ttl-unit-ms 50 it is 2.4 hours
SHORT_TTL = 60  # 3 s at 50 ms per unit
SAMPLES = 20


# ---------------------------------------------------------------------------- HTTP over asyncio


class Conn:
    """One keep-alive HTTP/1.1 connection that reads Content-Length framed responses."""

    def __init__(self, reader, writer):
        self.r, self.w = reader, writer

    @classmethod
    async def open(cls, port, timeout=5.0):
        r, w = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
        return cls(r, w)

    async def request(self, method, path, key=None, body=None, head_only=False, timeout=10.0):
        h = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n"
        if key:
            h += f"X-API-Key: {key}\r\n"
        data = b""
        if body is not None:
            data = body.encode() if isinstance(body, str) else body
            h += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        self.w.write(h.encode() + b"\r\n" + data)
        await self.w.drain()
        return await asyncio.wait_for(self.read_response(head_only), timeout)

    async def read_response(self, head_only=False):
        while True:
            head = await self.r.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            if status != 100:
                break
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = b""
        if length and not head_only and status not in (204, 304):
            body = await self.r.readexactly(length)
        return status, body, close

    def close(self):
        try:
            self.w.close()
        except Exception:
            pass


async def one(port, method, path, key=None, body=None):
    c = await Conn.open(port)
    try:
        return await c.request(method, path, key, body)
    finally:
        c.close()


def write_result(outdir, role, result):
    with open(os.path.join(outdir, role + ".json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)


def err_kind(e):
    return type(e).__name__


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))]


# ---------------------------------------------------------------------------- roles


async def setup(port, key, outdir):
    """Long-lived mocks: 50 wrk targets and the sample mocks of the hit-count check."""
    ids = {"wrk": [], "samples": [], "steady": []}
    for i in range(50):
        st, body, _ = await one(port, "POST", "/v1/mocks", key,
                                json.dumps({"body": f"wrk target {i}", "ttl_seconds": LONG_TTL}))
        assert st == 201, (st, body)
        ids["wrk"].append(json.loads(body)["mock"]["mock_id"])
    for i in range(SAMPLES):
        spec = {"body": f"sample {i}", "ttl_seconds": LONG_TTL, "status_code": 200 + (i % 3)}
        st, body, _ = await one(port, "POST", "/v1/mocks", key, json.dumps(spec))
        assert st == 201, (st, body)
        ids["samples"].append(json.loads(body)["mock"]["mock_id"])
    for i in range(4):
        spec = {"body": "steady", "ttl_seconds": LONG_TTL, "delay_ms": [0, 0, 0, 5][i]}
        st, body, _ = await one(port, "POST", "/v1/mocks", key, json.dumps(spec))
        assert st == 201, (st, body)
        ids["steady"].append(json.loads(body)["mock"]["mock_id"])
    with open(os.path.join(outdir, "ids.json"), "w") as f:
        json.dump(ids, f)
    with open(os.path.join(outdir, "wrk_ids.txt"), "w") as f:
        f.write("\n".join(ids["wrk"]) + "\n")


def load_ids(outdir):
    with open(os.path.join(outdir, "ids.json")) as f:
        return json.load(f)


async def steady(port, duration, outdir):
    """16 well-behaved keep-alive clients, ~50 requests/s each; every latency recorded."""
    ids = [i for i in load_ids(outdir)["steady"]]
    undelayed = ids[:3]
    lat = []
    errors = {}
    served = 0
    end = time.monotonic() + duration

    async def client(n):
        nonlocal served
        c = None
        for _ in range(1_000_000):
            if time.monotonic() >= end:
                break
            try:
                if c is None:
                    c = await Conn.open(port)
                mid = undelayed[n % len(undelayed)]
                t0 = time.monotonic()
                st, body, close = await c.request("GET", f"/v1/mock/{mid}")
                dt = time.monotonic() - t0
                if st != 200 or body != b"steady":
                    errors[f"status_{st}"] = errors.get(f"status_{st}", 0) + 1
                else:
                    served += 1
                    lat.append(dt)
                if close:
                    c.close()
                    c = None
            except Exception as e:  # noqa: BLE001 - every failure is counted by kind
                errors[err_kind(e)] = errors.get(err_kind(e), 0) + 1
                if c:
                    c.close()
                c = None
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.02)
        if c:
            c.close()

    await asyncio.gather(*(client(n) for n in range(16)))
    lat.sort()
    write_result(outdir, "steady", {
        "requests": served,
        "errors": errors,
        "p50_ms": round(1000 * (percentile(lat, 50) or 0), 3),
        "p99_ms": round(1000 * (percentile(lat, 99) or 0), 3),
        "max_ms": round(1000 * (lat[-1] if lat else 0), 3),
    })


async def hits(port, key, duration, outdir):
    """Hits each sample mock a counted number of times; only responses received count. A mock
    whose request failed without a response is marked uncertain (the server may have counted it)."""
    samples = load_ids(outdir)["samples"]
    counted = {m: 0 for m in samples}
    uncertain = set()
    errors = {}
    end = time.monotonic() + duration - 2  # leave time for the final reads

    async def client(n):
        c = None
        rng = random.Random(n)
        for _ in range(1_000_000):
            if time.monotonic() >= end:
                break
            mid = samples[rng.randrange(len(samples))]
            method = rng.choice(["GET", "GET", "HEAD", "POST"])
            try:
                if c is None:
                    c = await Conn.open(port)
                body = "x" * rng.randrange(0, 64) if method == "POST" else None
                st, _, close = await c.request(method, f"/v1/mock/{mid}", body=body,
                                               head_only=(method == "HEAD"))
                if 200 <= st < 300:
                    counted[mid] += 1
                else:
                    errors[f"status_{st}"] = errors.get(f"status_{st}", 0) + 1
                if close:
                    c.close()
                    c = None
            except Exception as e:  # noqa: BLE001
                errors[err_kind(e)] = errors.get(err_kind(e), 0) + 1
                uncertain.add(mid)
                if c:
                    c.close()
                c = None
            await asyncio.sleep(0.002)
        if c:
            c.close()

    await asyncio.gather(*(client(n) for n in range(8)))
    await asyncio.sleep(0.5)
    mismatches = []
    checked = []
    for mid in samples:
        st, body, _ = await one(port, "GET", f"/v1/mocks/{mid}", key)
        server = json.loads(body)["mock"]["hit_count"] if st == 200 else None
        checked.append({"id": mid, "client": counted[mid], "server": server, "uncertain": mid in uncertain})
        if server != counted[mid] and mid not in uncertain:
            mismatches.append(checked[-1])
    write_result(outdir, "hits", {
        "requests": sum(counted.values()),
        "errors": errors,
        "samples": checked,
        "mismatches": mismatches,
        "uncertain": len(uncertain),
    })


async def control(port, key, duration, outdir):
    """Creates short-lived mocks (3 s) continuously; reads, hits and deletes some, lets the rest
    expire, and checks that expired ones are gone."""
    counts = {}
    errors = {}
    end = time.monotonic() + duration
    expiring = []  # (deadline, id)

    def bump(k, n=1):
        counts[k] = counts.get(k, 0) + n

    async def worker(n):
        c = None
        rng = random.Random(1000 + n)
        for _ in range(1_000_000):
            if time.monotonic() >= end:
                break
            try:
                if c is None:
                    c = await Conn.open(port)
                spec = {"body": "c" * rng.randrange(0, 2000), "ttl_seconds": SHORT_TTL,
                        "headers": {"X-Soak": str(n)}, "status_code": rng.choice([200, 201, 404, 500])}
                st, body, _ = await c.request("POST", "/v1/mocks", key, json.dumps(spec))
                bump(f"create_{st}")
                if st != 201:
                    continue
                mid = json.loads(body)["mock"]["mock_id"]
                st, _, _ = await c.request("GET", f"/v1/mock/{mid}")
                bump(f"hit_{st}")
                st, _, _ = await c.request("GET", f"/v1/mocks/{mid}", key)
                bump(f"get_{st}")
                if rng.random() < 0.5:
                    st, _, _ = await c.request("DELETE", f"/v1/mocks/{mid}", key)
                    bump(f"delete_{st}")
                    st, _, _ = await c.request("GET", f"/v1/mock/{mid}")
                    bump(f"hit_after_delete_{st}")
                else:
                    expiring.append((time.monotonic() + 3.5, mid))
                if rng.random() < 0.05:
                    st, _, _ = await c.request("GET", "/v1/mocks?limit=20", key)
                    bump(f"list_{st}")
                # expired ones must be gone
                now = time.monotonic()
                while expiring and expiring[0][0] <= now:
                    _, old = expiring.pop(0)
                    st, _, _ = await c.request("GET", f"/v1/mock/{old}")
                    bump(f"hit_after_expiry_{st}")
            except Exception as e:  # noqa: BLE001
                errors[err_kind(e)] = errors.get(err_kind(e), 0) + 1
                if c:
                    c.close()
                c = None
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.01)
        if c:
            c.close()

    await asyncio.gather(*(worker(n) for n in range(4)))
    wrong = counts.get("hit_after_expiry_200", 0) + counts.get("hit_after_delete_200", 0)
    write_result(outdir, "control", {"counts": counts, "errors": errors,
                                     "served_after_delete_or_expiry": wrong})


async def abuse(port, duration, outdir):
    """Slowloris heads, half-open connections, garbage, and pipelined floods that never read."""
    ids = load_ids(outdir)
    target = ids["wrk"][0]
    counts = {}
    end = time.monotonic() + duration

    def bump(k, n=1):
        counts[k] = counts.get(k, 0) + n

    async def first_status(r, limit):
        try:
            line = await asyncio.wait_for(r.readline(), limit)
            return line[9:12].decode() if line.startswith(b"HTTP/1.1 ") else ("eof" if not line else "junk")
        except asyncio.TimeoutError:
            return "no_answer"
        except Exception as e:  # noqa: BLE001
            return err_kind(e)

    async def slowloris(n):
        head = f"GET /v1/mock/{target} HTTP/1.1\r\nHost: x\r\nX-Slow: " + "s" * 500
        for _ in range(100_000):
            if time.monotonic() >= end:
                return
            try:
                r, w = await asyncio.open_connection(HOST, port)
            except Exception as e:  # noqa: BLE001
                bump("slowloris_connect_" + err_kind(e))
                await asyncio.sleep(0.5)
                continue
            bump("slowloris_connections")
            reader_task = asyncio.ensure_future(first_status(r, 10))
            for ch in head:
                if reader_task.done() or time.monotonic() >= end:
                    break
                try:
                    w.write(ch.encode())
                    await w.drain()
                except Exception:  # noqa: BLE001
                    break
                await asyncio.sleep(0.3)
            status = await reader_task if reader_task.done() or time.monotonic() < end else "stopped"
            if not reader_task.done():
                reader_task.cancel()
            bump(f"slowloris_got_{status}")
            w.close()

    async def half_open(n):
        for _ in range(100_000):
            if time.monotonic() >= end:
                return
            try:
                r, w = await asyncio.open_connection(HOST, port)
            except Exception as e:  # noqa: BLE001
                bump("half_open_connect_" + err_kind(e))
                await asyncio.sleep(0.5)
                continue
            bump("half_open_connections")
            status = await first_status(r, max(0.1, end - time.monotonic()))
            bump(f"half_open_got_{status}")
            w.close()

    async def garbage(n):
        rng = random.Random(n)
        for _ in range(1_000_000):
            if time.monotonic() >= end:
                return
            try:
                r, w = await asyncio.open_connection(HOST, port)
                w.write(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096))))
                await w.drain()
                status = await first_status(r, 5)
                bump(f"garbage_got_{status}")
                w.close()
            except Exception as e:  # noqa: BLE001
                bump("garbage_" + err_kind(e))
            await asyncio.sleep(0.02)

    async def flood(n):
        req = f"GET /v1/mock/{target} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * 500
        for _ in range(100_000):
            if time.monotonic() >= end:
                return
            try:
                r, w = await asyncio.open_connection(HOST, port)
            except Exception as e:  # noqa: BLE001
                bump("flood_connect_" + err_kind(e))
                await asyncio.sleep(0.5)
                continue
            bump("flood_connections")
            t0 = time.monotonic()
            try:
                for _ in range(2000):
                    if time.monotonic() >= end:
                        break
                    w.write(req)
                    await asyncio.wait_for(w.drain(), 20)
                bump("flood_sent_all_without_a_stall")
            except asyncio.TimeoutError:
                bump("flood_write_stalled")
            except Exception as e:  # noqa: BLE001 - the server dropped us: expected
                bump("flood_dropped_" + err_kind(e))
                counts["flood_drop_seconds_max"] = max(counts.get("flood_drop_seconds_max", 0),
                                                       round(time.monotonic() - t0, 2))
            w.transport.abort()
            await asyncio.sleep(0.2)

    tasks = [slowloris(i) for i in range(40)] + [half_open(i) for i in range(60)]
    tasks += [garbage(i) for i in range(2)] + [flood(i) for i in range(2)]
    await asyncio.gather(*tasks)
    write_result(outdir, "abuse", {"counts": counts})


async def metrics(port, key):
    st, body, _ = await one(port, "GET", "/metrics", key)
    sys.stdout.write(body.decode())


def main():
    role = sys.argv[1] if len(sys.argv) > 1 else ""
    a = sys.argv[2:]
    if role == "setup":
        coro = setup(int(a[0]), a[1], a[2])
    elif role == "steady":
        coro = steady(int(a[0]), float(a[1]), a[2])
    elif role == "hits":
        coro = hits(int(a[0]), a[1], float(a[2]), a[3])
    elif role == "control":
        coro = control(int(a[0]), a[1], float(a[2]), a[3])
    elif role == "abuse":
        coro = abuse(int(a[0]), float(a[1]), a[2])
    elif role == "metrics":
        coro = metrics(int(a[0]), a[1])
    else:
        sys.exit(__doc__)
    asyncio.run(coro)


if __name__ == "__main__":
    main()
