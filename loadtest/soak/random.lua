-- wrk script for soak.sh: GETs spread over the mock ids in a file (script arg: FILE), and a
-- machine-readable summary line at the end.
local reqs, n

function init(args)
   local file = assert(io.open(args[1], "r"))
   reqs, n = {}, 0
   for id in file:lines() do
      if id ~= "" then
         n = n + 1
         reqs[n] = wrk.format(nil, "/v1/mock/" .. id)
      end
   end
   file:close()
   assert(n > 0, "no ids in " .. args[1])
end

function request()
   return reqs[math.random(n)]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "SOAKWRK requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d status=%d p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
      latency:percentile(50), latency:percentile(99), latency.max))
end
