#!/usr/bin/env python3
"""Summarizes a soak run from its work directory (written by loadtest/soak.sh); exits 1 when a
check failed: hit counts differ, the server died, RSS grew more than 10% from middle to end, or a
connection handler panicked."""
import json
import os
import re
import sys

d = sys.argv[1]


def load(name, default=None):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return default
    with open(p) as f:
        return json.load(f) if name.endswith(".json") else f.read()


def metrics(text):
    out = {}
    for line in (text or "").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        try:
            out[name] = float(value)
        except ValueError:
            pass
    return out


info = load("info.json", {})
samples = load("samples.json", {})
m0, m1 = metrics(load("metrics.start.txt")), metrics(load("metrics.end.txt"))
wrk_text = load("wrk.out", "") or ""
wrk = {}
line = [l for l in wrk_text.splitlines() if l.startswith("SOAKWRK ")]
if line:
    wrk = {k: int(v) for k, v in (kv.split("=") for kv in line[-1].split()[1:])}
steady, hits, control, abuse = (load(f"{r}.json", {}) for r in ("steady", "hits", "control", "abuse"))

failures = []
print(f"soak: {info.get('duration')} s, mockd pid {info.get('pid')}, flags: {info.get('flags')}")
print()
print("requests served")
serve_total = sum(v for k, v in m1.items() if k.startswith("mockd_serve_requests_total"))
control_total = sum(v for k, v in m1.items() if k.startswith("mockd_control_requests_total"))
print(f"  server: {int(serve_total)} serving requests, {int(control_total)} control-API requests")
if wrk:
    secs = wrk["duration_us"] / 1e6
    print(f"  wrk (keep-alive, 32 connections, 50 live mocks): {wrk['requests']} requests, "
          f"{wrk['requests'] / secs:.0f}/s, p50 {wrk['p50_us'] / 1000:.2f} ms, p99 {wrk['p99_us'] / 1000:.2f} ms, "
          f"socket errors connect/read/write/timeout {wrk['connect']}/{wrk['read']}/{wrk['write']}/{wrk['timeout']}, "
          f"non-2xx {wrk['status']}")
else:
    print("  wrk: no result")
    failures.append("wrk gave no result")
print(f"  well-behaved clients (16 keep-alive, ~50 req/s each): {steady.get('requests')} requests, "
      f"p50 {steady.get('p50_ms')} ms, p99 {steady.get('p99_ms')} ms, max {steady.get('max_ms')} ms, "
      f"errors {steady.get('errors')}")
print(f"  hit-count client: {hits.get('requests')} requests, errors {hits.get('errors')}")
print(f"  control client: {control.get('counts')}, errors {control.get('errors')}")
print()
print("abusive clients")
for k, v in sorted((abuse.get("counts") or {}).items()):
    print(f"  {k}: {v}")
print()
print("server errors by kind (/metrics, end of run)")
for k, v in sorted(m1.items()):
    if k.startswith("mockd_protocol_errors_total") or k in (
            "mockd_connections_shed_total", "mockd_connection_panics_total",
            "mockd_mocks_created_total", "mockd_mocks_deleted_total", "mockd_mocks_expired_total",
            "mockd_mocks_live", "mockd_serve_unknown_total", "mockd_connections_accepted_total",
            "mockd_connections_open"):
        print(f"  {k}: {int(v)}")
if m1.get("mockd_connection_panics_total", 0) > 0:
    failures.append(f"{int(m1['mockd_connection_panics_total'])} connection handler panics")
if control.get("served_after_delete_or_expiry"):
    failures.append(f"{control['served_after_delete_or_expiry']} hits on deleted or expired mocks got 200")
print()
print("hit_count exactness")
mism = hits.get("mismatches")
for s in hits.get("samples", []):
    flag = "" if s["client"] == s["server"] else ("  (uncertain: a request failed mid-flight)" if s["uncertain"] else "  MISMATCH")
    print(f"  {s['id']}: client {s['client']}, server {s['server']}{flag}")
if mism is None:
    failures.append("hit-count client gave no result")
elif mism:
    failures.append(f"{len(mism)} sample mocks' hit_count differ from the counted hits")
print()
print("process")
for label in ("start", "middle", "end"):
    s = samples.get(label)
    if s:
        print(f"  {label:6} (t={s['t']:>4} s): RSS {s['rss_kib'] / 1024:.1f} MiB, open fds {s['fds']}")
mid, end = samples.get("middle"), samples.get("end")
if mid and end:
    growth = (end["rss_kib"] - mid["rss_kib"]) / mid["rss_kib"] * 100
    print(f"  RSS middle -> end: {growth:+.1f}%  (peak {samples.get('peak_rss_kib', 0) / 1024:.1f} MiB)")
    if growth > 10:
        failures.append(f"RSS grew {growth:.1f}% from middle to end")
else:
    failures.append("no middle/end RSS sample")
if not info.get("alive_at_end"):
    failures.append("the server died during the run")
print()
if failures:
    print("SOAK FAILED: " + "; ".join(failures))
    sys.exit(1)
print("SOAK PASSED")
