-- wrk script for `python3 dev.py bench` (bench/load.py sets everything through the environment).
--
--   BENCH_COOKIE       Cookie header of a signed-in session ("" for none)
--   BENCH_USER_AGENT   the User-Agent the session signed in with
--   BENCH_CSRF         that session's CSRF token, sent as X-CSRFToken on writes
--   BENCH_READ_PATH    path of the GET requests
--   BENCH_WRITE_PATH   path of the POST requests
--   BENCH_BODIES       file with one JSON request body per line, used in turn by the POSTs
--   BENCH_WRITE_EVERY  0: only GETs; 1: only POSTs; 10: every 10th request a POST (90/10)
--   BENCH_REPORT       where done() writes its summary as JSON
--
-- Each thread numbers its own requests, so a run sends the same sequence every time.

local cookie = os.getenv("BENCH_COOKIE") or ""
local csrf = os.getenv("BENCH_CSRF") or ""
local user_agent = os.getenv("BENCH_USER_AGENT") or "scholia-bench"
local read_path = os.getenv("BENCH_READ_PATH") or "/"
local write_path = os.getenv("BENCH_WRITE_PATH") or "/"
local bodies_file = os.getenv("BENCH_BODIES") or ""
local write_every = tonumber(os.getenv("BENCH_WRITE_EVERY") or "0")
local report_file = os.getenv("BENCH_REPORT")

local bodies = {}
if bodies_file ~= "" then
  for line in io.lines(bodies_file) do
    bodies[#bodies + 1] = line
  end
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end

local counter = 0
local read_headers = {}
local write_headers = {}

function init(args)
  -- As a browser asks: gzip is taken where the server offers it (the reading page does).
  read_headers["Accept-Encoding"] = "gzip"
  read_headers["User-Agent"] = user_agent
  write_headers["User-Agent"] = user_agent
  -- Threads start at different bodies: two threads never post the same span at once.
  counter = (thread_id or 0) * 1000
  if cookie ~= "" then
    read_headers["Cookie"] = cookie
    write_headers["Cookie"] = cookie
  end
  write_headers["X-CSRFToken"] = csrf
  write_headers["Content-Type"] = "application/json"
  write_headers["Accept"] = "application/json"
end

function request()
  counter = counter + 1
  if write_every > 0 and counter % write_every == 0 then
    local body = bodies[math.floor(counter / write_every) % #bodies + 1]
    return wrk.format("POST", write_path, write_headers, body)
  end
  return wrk.format("GET", read_path, read_headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  local out = io.open(report_file, "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"min": %d, "max": %d, "mean": %.1f, "stdev": %.1f, '
      .. '"p50": %d, "p90": %d, "p99": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)
  ))
  out:close()
end
