-- wrk script of the gateway benchmark (tools/bench/wrk.py): stop after N responses (`wrk ...
-- -- N`; a few already in flight on other connections may still be counted), then print the run's figures as one JSON line for the harness to read.
-- wrk runs for a duration; SIGINT ends it early and it reports the time actually taken.
local ffi = require("ffi")
ffi.cdef("int getpid(void); int kill(int pid, int sig);")
local SIGINT = 2
local limit = 0
local seen = 0

function init(args)
  limit = tonumber(args[1]) or 0
end

function response(status, headers, body)
  seen = seen + 1
  if seen == limit then
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), SIGINT)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"socket_errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
