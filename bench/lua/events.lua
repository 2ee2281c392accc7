-- wrk script: POST /api/v1/events, one purchase per request, each with a unique event id and order id.
-- Members are "m1".."mN" drawn Zipf-like (rank = floor(N ^ U): P(rank k) ~ 1/k, so a few members are hot and most
-- are cold); with BENCH_HOT_MEMBER set, every event is for that one member and earns a fixed amount.
-- Environment: BENCH_KEY (API key), BENCH_MEMBERS (N), BENCH_RUN (unique prefix), BENCH_OCCURRED_AT (ISO time);
-- BENCH_PREFER, when set, is sent as the Prefer header (respond-async: accepted now, processed later).
local key = os.getenv("BENCH_KEY")
local members = tonumber(os.getenv("BENCH_MEMBERS") or "1000")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local occurred_at = os.getenv("BENCH_OCCURRED_AT")
local hot = os.getenv("BENCH_HOT_MEMBER")
local made = 0
local sent = 0
local headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
if os.getenv("BENCH_PREFER") then headers["Prefer"] = os.getenv("BENCH_PREFER") end

function setup(thread)
  made = made + 1
  thread:set("thread_id", made)
end

function init(args)
  math.randomseed(os.time() * 100 + (thread_id or 0))
end

local function price()
  return string.format("%d.%02d", math.random(3, 29), math.random(0, 99))
end

local function member()
  local rank = math.floor(members ^ math.random())
  if rank < 1 then rank = 1 end
  if rank > members then rank = members end
  return "m" .. rank
end

function request()
  sent = sent + 1
  local id = run .. "-" .. (thread_id or 0) .. "-" .. sent
  local who, lines, shipping
  if hot then
    who = hot
    lines = '[{"sku":"CUP","category":"merch","quantity":1,"unit_price":"10.00"}]'
    shipping = "0"
  else
    who = member()
    lines = '[{"sku":"BEANS-250","category":"coffee-beans","quantity":' .. math.random(1, 3) ..
      ',"unit_price":"' .. price() .. '"},{"sku":"MUG","category":"merch","quantity":1,"unit_price":"' ..
      price() .. '"}]'
    shipping = "3.90"
  end
  local body = '{"id":"e-' .. id .. '","type":"purchase","member_external_id":"' .. who ..
    '","occurred_at":"' .. occurred_at .. '","order_id":"o-' .. id .. '","currency":"EUR","lines":' .. lines ..
    ',"shipping":"' .. shipping .. '"}'
  return wrk.format("POST", "/api/v1/events", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"status_errors":%d,"timeouts":%d,"mean_us":%.1f,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency.mean,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
