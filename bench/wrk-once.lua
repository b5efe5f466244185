-- Scenario B: every path of PATHS_FILE exactly once, then stop.
--   wrk -tT -c64 -d120s -s bench/wrk-once.lua http://127.0.0.1:PORT -- PATHS_FILE DONE_DIR T
-- Thread k of T sends lines k, k+T, k+2T, ... in file order (run.js shuffles the file). A
-- connection that finds its thread's list exhausted is parked by delay(); when the thread's
-- last response is in, it records the time, stops, and touches DONE_DIR/done-<k>, so run.js
-- can end wrk (SIGINT) instead of waiting for -d. The rate is the threads' own monotonic
-- window, first request built to last response received, not wrk's -d duration.
dofile(debug.getinfo(1, "S").source:sub(2):gsub("[^/]*$", "") .. "wrk-common.lua")

local reqs = {}
local sent = 0
local done_dir = nil
-- wrk calls request() once on thread 0 before the run, to verify it (script_verify_request);
-- that call must not use up a path.
local verified = false

function init(args)
  reqs = load_requests(args[1], tonumber(args[3] or "1"))
  done_dir = args[2]
  n = #reqs
end

function request()
  if id == 0 and not verified then
    verified = true
    return reqs[1] or ""
  end
  if sent >= n then return "" end
  if sent == 0 then t_first = now_us() end
  sent = sent + 1
  return reqs[sent]
end

function delay()
  if sent >= n then return 3600000 end
  return 0
end

function response(status, headers, body)
  got = got + 1
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  if got == n and not finished then
    finished = true
    t_last = now_us()
    if done_dir then
      local f = io.open(done_dir .. "/done-" .. id, "w")
      if f then f:write(tostring(got)) f:close() end
    end
    wrk.thread:stop()
  end
end
