-- wrk script for scripts/loadtest.sh: POSTs the JPEG named by $LOADTEST_IMAGE to
-- /api/v1/recommendations as the multipart field `image`, counts answers by status, and stops
-- each thread after $LOADTEST_PER_THREAD answers when that is set. wrk itself runs until its
-- --duration is over even when every thread has stopped, so a thread that stops also writes a
-- file into $LOADTEST_DONE_DIR, and the shell script interrupts wrk once all threads have.
-- `done` prints one line of `key=value` pairs that the shell script reads.

local boundary = "moodreelloadtest7d0e5a"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local path = os.getenv("LOADTEST_IMAGE")
  local file = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
  local photo = file:read("*all")
  file:close()
  wrk.method = "POST"
  wrk.path = "/api/v1/recommendations"
  wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
  wrk.body = "--" .. boundary .. "\r\n"
    .. "Content-Disposition: form-data; name=\"image\"; filename=\"face.jpg\"\r\n"
    .. "Content-Type: image/jpeg\r\n\r\n"
    .. photo .. "\r\n"
    .. "--" .. boundary .. "--\r\n"
  limit = tonumber(os.getenv("LOADTEST_PER_THREAD") or "")
  answered, ok, busy, other = 0, 0, 0, 0
end

function response(status, headers, body)
  answered = answered + 1
  if status == 200 then
    ok = ok + 1
  elseif status == 503 then
    busy = busy + 1
  else
    other = other + 1
    if other <= 3 then
      io.stderr:write("unexpected status " .. status .. ": " .. body:sub(1, 300) .. "\n")
    end
  end
  if limit and answered == limit then
    local dir = os.getenv("LOADTEST_DONE_DIR")
    if dir then
      local marker = io.open(dir .. "/thread-" .. id, "w")
      if marker then marker:close() end
    end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local ok_total, busy_total, other_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    busy_total = busy_total + thread:get("busy")
    other_total = other_total + thread:get("other")
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f "
      .. "ok=%d status_503=%d other_status=%d socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    ok_total, busy_total, other_total, socket_errors))
end
