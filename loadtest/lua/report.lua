-- Prepended to every wrk script the harness runs: one machine-readable line at the end.
--
-- requests counts responses: wrk counts one per parsed response, pipelined or not.
-- status counts responses with a status >= 400.
-- p50/p99 are wrk's own percentiles: one sample per write (with pipelining, until the last
-- response of the batch), after wrk's coordinated-omission correction (synthetic samples
-- added below every sample >= 2 x duration / (requests / connections)). With pipelining
-- that interval is per response, not per batch, so the corrected histogram is meaningless
-- there (percentiles of 0 included): run.sh does not report latency for pipelined runs.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "LOADTEST requests=%.0f duration_us=%.0f p50_us=%.0f p99_us=%.0f " ..
      "connect=%.0f read=%.0f write=%.0f timeout=%.0f status=%.0f\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99),
      e.connect, e.read, e.write, e.timeout, e.status))
end
