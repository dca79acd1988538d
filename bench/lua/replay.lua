-- Replays the requests of a plan file round robin, one line per request:
-- METHOD <tab> PATH <tab> BODY (BODY may be empty). Each wrk thread starts at its
-- own offset. A response counts as failed when its status is not 200 or its body
-- holds a GraphQL error or a user error ("errors" / "code"); done() prints one
-- JSON line with the counts and the latency distribution (microseconds).
--
-- usage: wrk ... -s replay.lua URL -- PLAN_FILE

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("offset", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local function split_tabs(line)
  local first = line:find("\t", 1, true)
  local second = line:find("\t", first + 1, true)
  return line:sub(1, first - 1), line:sub(first + 1, second - 1), line:sub(second + 1)
end

function init(args)
  local plan = assert(io.open(args[1], "r"))
  requests = {}
  for line in plan:lines() do
    local method, path, body = split_tabs(line)
    local headers = {}
    -- Production mode requires authentication: the runner passes the header in.
    local authorization = os.getenv("BENCH_AUTHORIZATION")
    if authorization then
      headers["Authorization"] = authorization
    end
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
  plan:close()
  assert(#requests > 0, "the plan file holds no request")
  -- Threads start far apart in the plan (7919 is prime).
  position = ((offset or 0) * 7919) % #requests
  sent = 0
  failed = 0
  first_failure = ""
end

function request()
  position = position % #requests + 1
  sent = sent + 1
  return requests[position]
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) or body:find('"code"', 1, true) then
    failed = failed + 1
    if first_failure == "" then
      first_failure = status .. " " .. body:sub(1, 300)
    end
  end
end

local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

function done(summary, latency, _requests)
  local total_sent, total_failed, failure = 0, 0, ""
  for _, thread in ipairs(threads) do
    total_sent = total_sent + thread:get("sent")
    total_failed = total_failed + thread:get("failed")
    if failure == "" then
      failure = thread:get("first_failure")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "sent": %d, "failed": %d, "duration_us": %d,'
      .. ' "socket_errors": %d, "status_errors": %d, "timeouts": %d,'
      .. ' "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "first_failure": %s}\n',
    summary.requests, total_sent, total_failed, summary.duration,
    errors.connect + errors.read + errors.write, errors.status, errors.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(90)),
    math.floor(latency:percentile(99)), math.floor(latency.max),
    json_string(failure)))
end
