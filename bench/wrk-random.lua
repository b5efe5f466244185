-- Scenario A and firmware: every request picks a path from PATHS_FILE at random.
--   wrk -t1 -c64 -d10s -s bench/wrk-random.lua http://127.0.0.1:PORT -- PATHS_FILE
-- Requests are pre-formatted in init(), so request() is a table lookup; no response() hook,
-- so wrk does not hand headers and bodies to Lua.
dofile(debug.getinfo(1, "S").source:sub(2):gsub("[^/]*$", "") .. "wrk-common.lua")

local reqs = {}

function init(args)
  reqs = load_requests(args[1])
  n = #reqs
  math.randomseed(1234 + id)
end

function request()
  return reqs[math.random(n)]
end
