-- raw.lua - wrk script that sends pre-built requests byte for byte (used by
-- bench/s3-bench.sh, where the requests are SigV4-signed beforehand).
--
-- usage: wrk -t2 -c16 -d8s -s raw.lua http://HOST:PORT -- MODE REQFILE NTHREADS [BODYFILE]
--   REQFILE is a Lua file that returns a table of strings, each the complete
--   request line and headers of one request, ending in "\r\n\r\n".
--   BODYFILE (optional): its bytes are sent after every request's headers
--   (the same body for all requests; the headers carry its length/digest).
--   MODE random: every request is a random entry (GET hits);
--   MODE seq:    thread t sends entries t, t+T, t+2T, ... (T threads), so no
--                entry is sent twice (PUT of new keys). Past the end it wraps
--                around and counts the re-sent entries as "reused". (wrk calls
--                request() once at start-up to check it: thread 1 skips entry 1.)
-- wrk's own request building (wrk.format) is not used: what goes on the wire
-- is exactly what was signed.
-- At the end prints one line:
--   RESULT requests=N duration_us=N rps=F p50_us=N p90_us=N p99_us=N max_us=N
--          status_err=N conn_err=N read_err=N write_err=N timeout_err=N bytes=N reused=N
-- (status_err = responses with status > 399, as wrk counts them.)

local reqs, n, mode, body = nil, 0, "random", nil
local tid, nthreads, counter = 1, 1, 0
reused = 0   -- global: done() reads it with thread:get

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  mode = args[1] or "random"
  reqs = dofile(args[2])
  n = #reqs
  assert(n > 0, "empty request file " .. tostring(args[2]))
  nthreads = tonumber(args[3]) or 1   -- wrk runs setup/init thread by thread: pass -t
  if args[4] and args[4] ~= "" then
    local f = assert(io.open(args[4], "rb"), "cannot open body file " .. args[4])
    body = f:read("*a")
    f:close()
  end
  tid = tonumber(wrk.thread:get("tid")) or 1
  local addr = tonumber(tostring({}):match("0x(%x+)") or "0", 16) or 0
  math.randomseed((os.time() + addr + tid * 7919) % 2147483647)
  for _ = 1, 10 do math.random() end
end

function request()
  local r
  if mode == "seq" then
    local i = (tid - 1) + nthreads * counter
    counter = counter + 1
    if i >= n then reused = reused + 1 end
    r = reqs[(i % n) + 1]
  else
    r = reqs[math.random(n)]
  end
  if body then return r .. body end
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  local ru = 0
  for _, t in ipairs(threads) do ru = ru + (tonumber(t:get("reused")) or 0) end
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "status_err=%d conn_err=%d read_err=%d write_err=%d timeout_err=%d bytes=%d reused=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout, summary.bytes, ru))
end
