-- Shared by wrk-random.lua and wrk-once.lua (loaded with dofile): a monotonic clock, thread
-- registration, and done(), which prints one line "WRKJSON {...}" that run.js parses.

local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Thread-local results read back by done(); the "once" script fills them in.
id = 0
n = 0
got = 0
non2xx = 0
t_first = 0
t_last = 0
finished = false

--- The request paths of PATHS_FILE as pre-formatted requests; with `nthreads`, only every
--- nthreads-th line starting at this thread's id.
function load_requests(file, nthreads)
  local reqs, i = {}, 0
  for line in io.lines(file) do
    if line ~= "" then
      if not nthreads or (i % nthreads) == id then reqs[#reqs + 1] = wrk.format("GET", line) end
      i = i + 1
    end
  end
  return reqs
end

local function num(x) return string.format("%.0f", x or 0) end

function done(summary, latency, requests)
  local first, last, total_got, total_n, total_non2xx, all_finished = nil, 0, 0, 0, 0, true
  for _, t in ipairs(threads) do
    local tf = t:get("t_first") or 0
    local tl = t:get("t_last") or 0
    if tf > 0 and (first == nil or tf < first) then first = tf end
    if tl > last then last = tl end
    total_got = total_got + (t:get("got") or 0)
    total_n = total_n + (t:get("n") or 0)
    total_non2xx = total_non2xx + (t:get("non2xx") or 0)
    if not t:get("finished") then all_finished = false end
  end
  local window = 0
  if first and last > first then window = last - first end
  local e = summary.errors
  io.write("WRKJSON {",
    '"requests":', num(summary.requests),
    ',"duration_us":', num(summary.duration),
    ',"bytes":', num(summary.bytes),
    ',"errors":{"connect":', num(e.connect), ',"read":', num(e.read), ',"write":', num(e.write), ',"status":', num(e.status), ',"timeout":', num(e.timeout), '}',
    ',"latency_us":{"mean":', num(latency.mean), ',"p50":', num(latency:percentile(50)), ',"p90":', num(latency:percentile(90)), ',"p99":', num(latency:percentile(99)), ',"max":', num(latency.max), '}',
    ',"once":{"planned":', num(total_n), ',"responses":', num(total_got), ',"non2xx":', num(total_non2xx), ',"window_us":', num(window), ',"finished":', tostring(all_finished), '}',
    "}\n")
end
