-- wrk script for bench/run: spreads requests over a list of checkout sessions, checks every
-- response it times (status and a marker in the body), prints one machine-readable line, and
-- exits non-zero if any response failed its check.
--
--   wrk ... -s bench/wrk.lua <url> -- <scenario> [ids-file] [api-key]
--
-- Scenarios: hello (GET /, 200 "Hello"), page (GET /checkout/{id}, 200 data-amount-total),
-- qr (GET /checkout/{id}/qr.png, 200 and the PNG signature), create (POST
-- /v1/checkout_sessions, 201 "checkout_session_id"). Every scenario, hello included, runs the
-- same kind of response() check, so the ratio to the ceiling compares like with like.

local scenario, ids_file, api_key
local requests_list = {}
local next_index = 1
local counter = 0
local threads = {}

-- Per thread: counts of checked and failed responses, and the first failure seen.
checked = 0
failures = 0
first_failure = ""

local expect_status, marker

local function read_ids(path)
  local ids = {}
  for line in io.lines(path) do
    local id = line:match("^(%S+)")
    if id then ids[#ids + 1] = id end
  end
  return ids
end

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  scenario, ids_file, api_key = args[1], args[2], args[3]
  if scenario == "hello" then
    expect_status, marker = 200, "Hello"
    requests_list[1] = wrk.format("GET", "/")
  elseif scenario == "page" or scenario == "qr" then
    expect_status = 200
    marker = scenario == "page" and "data-amount-total" or "\137PNG\r\n\26\n"
    local suffix = scenario == "qr" and "/qr.png" or ""
    for i, sid in ipairs(read_ids(ids_file)) do
      requests_list[i] = wrk.format("GET", "/checkout/" .. sid .. suffix)
    end
    if #requests_list == 0 then error("no session ids in " .. tostring(ids_file)) end
    -- Each thread starts at its own place in the list, then goes round it.
    next_index = (id * 7919) % #requests_list + 1
  elseif scenario == "create" then
    expect_status, marker = 201, '"checkout_session_id"'
    wrk.method = "POST"
    wrk.path = "/v1/checkout_sessions"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["X-API-KEY"] = api_key
  else
    error("unknown scenario " .. tostring(scenario))
  end
end

function request()
  if scenario == "create" then
    counter = counter + 1
    local body = '{"amount":' .. (1000 + counter % 50000) .. ',"currency_code":"XOF",' ..
      '"title":"Pagne wax","quantity":1,"allow_quantity":true,' ..
      '"metadata":{"order":"T' .. id .. '-' .. counter .. '"}}'
    return wrk.format(nil, nil, nil, body)
  end
  local r = requests_list[next_index]
  next_index = next_index % #requests_list + 1
  return r
end

function response(status, headers, body)
  checked = checked + 1
  local ok = status == expect_status and body ~= nil
  if ok then
    if scenario == "qr" then
      ok = body:sub(1, 8) == marker
    else
      ok = body:find(marker, 1, true) ~= nil
    end
  end
  if not ok then
    failures = failures + 1
    if first_failure == "" then
      first_failure = status .. " " .. (body or ""):sub(1, 200):gsub("%s+", " ")
    end
  end
end

function done(summary, latency, requests)
  local total_checked, total_failures, first = 0, 0, ""
  for _, t in ipairs(threads) do
    total_checked = total_checked + t:get("checked")
    total_failures = total_failures + t:get("failures")
    local f = t:get("first_failure")
    if first == "" and f ~= "" then first = f end
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "RESULT requests=%d checked=%d failures=%d socket_errors=%d rps=%.1f p50_us=%d p99_us=%d\n",
    summary.requests, total_checked, total_failures, socket_errors,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99)))
  if first ~= "" then
    io.write("FIRST_FAILURE " .. first .. "\n")
  end
  if total_failures > 0 or socket_errors > 0 or total_checked == 0 then
    io.write(string.format("FAILED: %d of %d responses failed their check, %d socket errors\n",
      total_failures, total_checked, socket_errors))
    io.flush()
    os.exit(1)
  end
end
