-- Pipelining: each write carries DEPTH copies of a GET of PATH (script args: DEPTH PATH).
-- wrk parses the string once at start, sees DEPTH requests in it, and then expects DEPTH
-- responses per write; it counts every response, so its Requests/sec needs no correction.
local req

function init(args)
   local depth = tonumber(args[1]) or 16
   local path = args[2] or wrk.path
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(nil, path)
   end
   req = table.concat(r)
end

function request()
   return req
end
