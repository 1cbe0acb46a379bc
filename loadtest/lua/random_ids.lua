-- GETs spread uniformly over the mock ids in a file, one id a line (script args: FILE [LIMIT]).
-- With LIMIT the first LIMIT ids only (LIMIT 1 is the same client work against one mock).
-- The requests are built once in init, so request() is a table lookup.
local reqs, n

function init(args)
   local file = assert(io.open(args[1], "r"))
   local limit = tonumber(args[2])
   reqs, n = {}, 0
   for id in file:lines() do
      if id ~= "" then
         n = n + 1
         reqs[n] = wrk.format(nil, "/v1/mock/" .. id)
         if limit and n >= limit then break end
      end
   end
   file:close()
   assert(n > 0, "no ids in " .. args[1])
   math.randomseed(os.time())
end

function request()
   return reqs[math.random(n)]
end
