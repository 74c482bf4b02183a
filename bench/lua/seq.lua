-- seq.lua - wrk script: GET PREFIX<i> for i = 0, 1, 2, ... without repeats
-- across threads (thread t takes i = t-1, t-1+T, ...), so every request
-- of a tier benchmark is a first read (a disk miss on a reader whose disk
-- started empty). Wraps around after N keys: more requests than N mean
-- some were second reads (the caller checks).
--
-- usage: wrk -t2 -c16 -d5s -s seq.lua http://HOST:PORT -- PREFIX N
local prefix, n, counter, tid, nthreads = "/", 1, 0, 1, 1
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  prefix = args[1]
  n = tonumber(args[2])
  tid = tonumber(wrk.thread:get("tid"))
  nthreads = #threads > 0 and #threads or tonumber(args[3] or "2")
end

function request()
  local i = (tid - 1) + nthreads * counter
  counter = counter + 1
  return wrk.format("GET", prefix .. (i % n))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d status_err=%d conn_err=%d " ..
    "timeout_err=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50),
    latency:percentile(99), latency.max, e.status, e.connect, e.timeout))
end
