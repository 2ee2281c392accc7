-- wrk script: GET /api/v1/members/{id} for members "m1".."mN" drawn Zipf-like (see events.lua).
-- Environment: BENCH_KEY (API key), BENCH_MEMBERS (N).
local key = os.getenv("BENCH_KEY")
local members = tonumber(os.getenv("BENCH_MEMBERS") or "1000")
local made = 0
local headers = { ["Authorization"] = "Bearer " .. key }

function setup(thread)
  made = made + 1
  thread:set("thread_id", made)
end

function init(args)
  math.randomseed(os.time() * 100 + (thread_id or 0))
end

function request()
  local rank = math.floor(members ^ math.random())
  if rank < 1 then rank = 1 end
  if rank > members then rank = members end
  return wrk.format("GET", "/api/v1/members/m" .. rank, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"status_errors":%d,"timeouts":%d,"mean_us":%.1f,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency.mean,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
