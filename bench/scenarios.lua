-- Every benchmark scenario, for wrk: `BENCH_SCENARIO=<name> BENCH_DATA=<data.lua>
-- BENCH_OUT=<result.json> wrk -s bench/scenarios.lua http://127.0.0.1:PORT`.
--
-- bench/run.py writes BENCH_DATA (tokens, property ids and owners, dates) and reads BENCH_OUT:
-- wrk's own summary plus a count of responses per HTTP status, summed over wrk's threads.

local scenario = os.getenv("BENCH_SCENARIO")
local data = dofile(os.getenv("BENCH_DATA"))
local out_path = os.getenv("BENCH_OUT")
-- Write scenarios take slots (property, dates) from a sequence that never repeats within a
-- run: each phase (warm-up, measured) passes its own base so their stays cannot collide.
local sequence_base = tonumber(os.getenv("BENCH_SEQUENCE_BASE") or "0")
local storm_day = tonumber(os.getenv("BENCH_STORM_DAY") or "0")

-- wrk loads this script once per thread plus once for setup(); only setup() sees every thread.
local thread_total = tonumber(os.getenv("BENCH_THREADS"))
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

local json_headers = { ["Content-Type"] = "application/json" }

local function authorized(token)
  return { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
end

local function pick(list)
  return list[math.random(#list)]
end

local function iso(day)
  -- `day` is a day number relative to data.today_epoch_day.
  return os.date("!%Y-%m-%d", (data.today_epoch_day + day) * 86400)
end

local function not_found()
  return wrk.format("GET", "/api/no-such-path/")
end

local function health()
  return wrk.format("GET", "/api/health/")
end

local function list_page_one()
  return wrk.format("GET", "/api/properties/")
end

local function list_random_page()
  return wrk.format("GET", "/api/properties/?page=" .. math.random(data.max_page))
end

local function url_word(text)
  return (text:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function list_city_price()
  local low = math.random(20, 400)
  return wrk.format("GET", string.format(
    "/api/properties/?location=%s&min_price=%d&max_price=%d",
    url_word(pick(data.cities).name), low, low + math.random(20, 100)))
end

local function availability_search()
  local start = math.random(1, 330)
  return wrk.format("GET", string.format(
    "/api/properties/?location=%s&check_in=%s&check_out=%s",
    url_word(pick(data.cities).name), iso(start), iso(start + math.random(1, 7))))
end

local function search_city_guests_price()
  local low = math.random(20, 400)
  return wrk.format("GET", string.format(
    "/api/properties/?city=%s&guests=%d&min_price=%d&max_price=%d",
    url_word(pick(data.cities).name), math.random(1, 6), low, low + math.random(20, 100)))
end

local function search_bounds()
  -- About the seed's spread of a city: 0.1 degree around its centre.
  local city = pick(data.cities)
  return wrk.format("GET", string.format(
    "/api/properties/?bounds=%.4f,%.4f,%.4f,%.4f",
    city.lat - 0.05, city.lng - 0.05, city.lat + 0.05, city.lng + 0.05))
end

local function search_near()
  local city = pick(data.cities)
  return wrk.format("GET", string.format(
    "/api/properties/?near=%.4f,%.4f&radius_km=3&ordering=distance",
    city.lat + (math.random() - 0.5) * 0.04, city.lng + (math.random() - 0.5) * 0.04))
end

local function search_amenities()
  return wrk.format("GET", "/api/properties/?amenities=pool,wifi")
end

local function search_city_dates_guests()
  local start = math.random(1, 330)
  return wrk.format("GET", string.format(
    "/api/properties/?city=%s&check_in=%s&check_out=%s&guests=%d",
    url_word(pick(data.cities).name), iso(start), iso(start + math.random(1, 7)),
    math.random(1, 4)))
end

local function detail()
  return wrk.format("GET", "/api/properties/" .. math.random(data.min_id, data.max_id) .. "/")
end

local function detail_signed_in()
  -- What a logged-in front end sends: the same read, with a guest's access token.
  return wrk.format("GET", "/api/properties/" .. math.random(data.min_id, data.max_id) .. "/",
    authorized(pick(data.accounts).token))
end

local function detail_popular()
  -- Ranks drawn log-uniformly (Zipf with s = 1, continuous approximation): rank r is asked
  -- about 1/r as often as rank 1, as a few listings draw most of the views in real traffic.
  local span = data.max_id - data.min_id + 1
  local rank = math.floor(span ^ math.random())
  return wrk.format("GET", "/api/properties/" .. (data.min_id + rank - 1) .. "/")
end

local counter = 0

local function next_slot()
  -- Slot k of this thread: thread-interleaved, so threads never share a slot.
  local slot = sequence_base + counter * thread_total + thread_index
  counter = counter + 1
  return slot
end

local function register()
  local slot = next_slot()
  local name = string.format("b%s_%d", data.run_id, slot)
  return wrk.format("POST", "/api/register/", json_headers, string.format(
    '{"username": "%s", "email": "%s@bench.example.com", "password": "bench-Password-123"}',
    name, name))
end

local function login()
  return wrk.format("POST", "/api/login/", json_headers, string.format(
    '{"username": "%s", "password": "%s"}', pick(data.login_usernames), data.password))
end

local function create_property()
  local account = pick(data.accounts)
  return wrk.format("POST", "/api/properties/", authorized(account.token), string.format(
    '{"title": "Bench loft %d", "description": "Created by the benchmark.", ' ..
    '"price_per_night": %d.50, "location": "%s", "availability": true}',
    math.random(1000000), math.random(20, 500), pick(data.cities)))
end

local function create_booking()
  -- Every slot is a distinct (property, week) pair: property index cycles fastest, then the
  -- week moves on, so no two requests of a run ask for the same property's same nights.
  local slot = next_slot()
  local count = #data.bookable_ids
  local index = (slot * 7919) % count + 1  -- 7919 is prime and does not divide the count
  local week = math.floor(slot / count)
  local property_id = data.bookable_ids[index]
  local owner_id = data.bookable_owners[index]
  local account = pick(data.accounts)
  while account.id == owner_id do
    account = pick(data.accounts)
  end
  local check_in = data.free_from_day + week * 7
  return wrk.format("POST", "/api/bookings/", authorized(account.token), string.format(
    '{"property_id": %d, "check_in": "%s", "check_out": "%s"}',
    property_id, iso(check_in), iso(check_in + 3)))
end

local function quote()
  -- A guest's quote for a random listing and stay (rates: rules, fees, taxes on a fifth).
  local start = math.random(1, 330)
  return wrk.format("GET", string.format(
    "/api/properties/%d/quote/?check_in=%s&check_out=%s&guests=%d",
    math.random(data.min_id, data.max_id), iso(start), iso(start + math.random(1, 7)),
    math.random(1, 2)))
end

local function booking_storm()
  return wrk.format("POST", "/api/bookings/", authorized(pick(data.storm_accounts).token),
    string.format('{"property_id": %d, "check_in": "%s", "check_out": "%s"}',
      data.storm_property_id, iso(storm_day), iso(storm_day + 3)))
end

local function mixed()
  -- 80% reads, 15% bookings, 5% logins.
  local roll = math.random(100)
  if roll <= 20 then return list_page_one()
  elseif roll <= 40 then return list_random_page()
  elseif roll <= 55 then return detail()
  elseif roll <= 70 then return list_city_price()
  elseif roll <= 80 then return availability_search()
  elseif roll <= 95 then return create_booking()
  else return login()
  end
end

local builders = {
  not_found = not_found,
  health = health,
  list_page_one = list_page_one,
  list_random_page = list_random_page,
  list_city_price = list_city_price,
  availability_search = availability_search,
  search_city_guests_price = search_city_guests_price,
  search_bounds = search_bounds,
  search_near = search_near,
  search_amenities = search_amenities,
  search_city_dates_guests = search_city_dates_guests,
  detail = detail,
  detail_signed_in = detail_signed_in,
  detail_popular = detail_popular,
  quote = quote,
  register = register,
  login = login,
  create_property = create_property,
  create_booking = create_booking,
  booking_storm = booking_storm,
  mixed = mixed,
}
local build = builders[scenario]
if build == nil then
  error("unknown BENCH_SCENARIO " .. tostring(scenario))
end

function init(args)
  statuses = {}
  math.randomseed(os.time() * 1000 + thread_index)
end

function request()
  return build()
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local by_status = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local errors = summary.errors
  local file = assert(io.open(out_path, "w"))
  file:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "stdev": %.1f, ' ..
    '"p50": %d, "p90": %d, "p95": %d, "p99": %d, "p999": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.timeout, errors.status,
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency:percentile(99.9), table.concat(parts, ", ")))
  file:close()
end
