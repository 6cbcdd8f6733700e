-- POSTs JSON bodies read from a file (one body per line), cycling through them, and
-- prints one machine-readable summary line that bench/src/bin/http.rs parses.
--
--   wrk -t1 -c64 -d5s --latency -s bench/wrk/bodies.lua URL -- BODIES_FILE [BEARER_KEY]
--
-- Requests are formatted once in init(), so the script costs wrk almost nothing per
-- request and the load generator is the same for every server it drives.

local requests = {}
local count = 0
local next_index = 1

function init(args)
  local path = args[1]
  if path == nil then
    error("usage: wrk ... -s bodies.lua URL -- BODIES_FILE [BEARER_KEY]")
  end
  local headers = { ["Content-Type"] = "application/json" }
  if args[2] ~= nil and args[2] ~= "" then
    headers["Authorization"] = "Bearer " .. args[2]
  end
  for line in io.lines(path) do
    if #line > 0 then
      count = count + 1
      requests[count] = wrk.format("POST", nil, headers, line)
    end
  end
  if count == 0 then
    error("no bodies in " .. path)
  end
  -- Each thread starts somewhere else in the list.
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  next_index = math.random(count)
end

function request()
  local r = requests[next_index]
  next_index = next_index % count + 1
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "KEUZE_WRK requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
