-- Replay a list of HTTP requests through wrk, each request sent exactly once (see bench/wrk.py).
--
-- wrk -t N -c N -d DEADLINE -s replay.lua URL -- REQUESTS OUT LABEL EXPECT N
--
-- REQUESTS holds records "<length>\n<raw HTTP/1.1 request of that many bytes>", written by
-- bench/wrk.py. Every thread has exactly one connection, so request() and response() alternate
-- within a thread and each request's latency is measured here, not taken from wrk's histogram
-- (which wrk "corrects" for coordinated omission). Thread k of N sends records k, k+N, k+2N, ...
-- When a thread has the responses to all its records it stops and touches OUT.done<k>, so that
-- the bench can end wrk (whose main thread otherwise sleeps until DEADLINE). done() writes OUT
-- (counts, statuses, socket errors, a few error samples, as JSON) and OUT.lat (the latencies in
-- microseconds, one a line).
--
-- A 2xx body is checked when EXPECT (a Lua pattern) is not empty: a body without a match counts
-- as a mismatch. LABEL (e.g. "POST /Users") names the requests in error samples.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } replay_timespec;
int clock_gettime(int clk_id, replay_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local SAMPLES = 5
local timespec = ffi.new("replay_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

-- Main state: setup() numbers the threads, done() gathers what they counted.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- Thread state. Globals, so that done() can read them with thread:get().

tid = tid or 0
out_path = nil
sent, responses, lost, mismatches = 0, 0, 0, 0
first_us, last_us, finished = 0, 0, false
statuses, samples, latencies = {}, {}, {}

local records = {}
local mine = 0
local label, expect = "", nil
local verify_pending = false
local sent_us = 0

function init(args)
  out_path, label = args[2], args[3] or ""
  if args[4] and args[4] ~= "" then
    expect = args[4]
  end
  local nthreads = tonumber(args[5]) or 1
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  local pos, i = 1, 0
  while pos <= #data do
    local nl = data:find("\n", pos, true)
    local len = tonumber(data:sub(pos, nl - 1))
    if i % nthreads == tid then
      records[#records + 1] = data:sub(nl + 1, nl + len)
    end
    pos, i = nl + len + 1, i + 1
  end
  mine = #records
  -- wrk calls request() once on thread 0 before the run to check the request; it is not sent.
  verify_pending = tid == 0
end

local function sample(text)
  if #samples < SAMPLES then
    samples[#samples + 1] = text
  end
end

local function finish_when_complete()
  if responses + lost >= mine and not finished then
    finished, last_us = true, now_us()
    local flag = io.open(out_path .. ".done" .. tid, "w")
    if flag then
      flag:close()
    end
    wrk.thread:stop()
  end
end

function request()
  if verify_pending then
    verify_pending = false
    return records[1]
  end
  if sent > responses + lost then
    -- The connection's request got no response (a socket error, then a reconnect): count it
    -- lost rather than send it twice.
    lost = lost + 1
    sample(label .. " -> no response (socket error), not sent again")
    finish_when_complete()
  end
  if sent >= mine then
    return "" -- nothing left: the connection stays quiet
  end
  sent = sent + 1
  sent_us = now_us()
  if sent == 1 then
    first_us = sent_us
  end
  return records[sent]
end

function response(status, headers, body)
  latencies[#latencies + 1] = now_us() - sent_us
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status < 200 or status > 299 then
    sample(label .. " -> " .. status .. ": " .. body:sub(1, 300))
  elseif expect ~= nil and not body:find(expect) then
    mismatches = mismatches + 1
    sample(label .. " -> " .. status .. " without " .. expect .. ": " .. body:sub(1, 200))
  end
  finish_when_complete()
end

-- done(): JSON by hand (wrk's Lua has no JSON library).

local function quote(s)
  local escaped = tostring(s):gsub('[%c"\\]', function(c)
    if c == '"' then
      return '\\"'
    elseif c == "\\" then
      return "\\\\"
    end
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. escaped .. '"'
end

local function int(n)
  return string.format("%d", n)
end

function done(summary, latency, requests)
  local total = { sent = 0, responses = 0, lost = 0, mismatches = 0 }
  local total_statuses, all_samples, lat = {}, {}, {}
  local first, last, all_finished = nil, nil, true
  for _, thread in ipairs(threads) do
    for name in pairs(total) do
      total[name] = total[name] + (thread:get(name) or 0)
    end
    for status, count in pairs(thread:get("statuses") or {}) do
      total_statuses[status] = (total_statuses[status] or 0) + count
    end
    for _, text in ipairs(thread:get("samples") or {}) do
      if #all_samples < SAMPLES then
        all_samples[#all_samples + 1] = text
      end
    end
    for _, us in ipairs(thread:get("latencies") or {}) do
      lat[#lat + 1] = int(us)
    end
    local t0, t1 = thread:get("first_us") or 0, thread:get("last_us") or 0
    if t0 > 0 and (first == nil or t0 < first) then
      first = t0
    end
    if t1 > 0 and (last == nil or t1 > last) then
      last = t1
    end
    all_finished = all_finished and thread:get("finished")
  end
  local out = threads[1]:get("out_path")
  local parts = {}
  local function add(key, value)
    parts[#parts + 1] = quote(key) .. ":" .. value
  end
  add("requests", int(summary.requests))
  add("duration_us", int(summary.duration))
  add("first_us", int(first or 0))
  add("last_us", int(last or 0))
  add("finished", all_finished and "true" or "false")
  for name, value in pairs(total) do
    add(name, int(value))
  end
  local errs = {}
  for _, name in ipairs({ "connect", "read", "write", "timeout", "status" }) do
    errs[#errs + 1] = quote(name) .. ":" .. int(summary.errors[name])
  end
  add("socket_errors", "{" .. table.concat(errs, ",") .. "}")
  local st = {}
  for status, count in pairs(total_statuses) do
    st[#st + 1] = quote(status) .. ":" .. int(count)
  end
  add("statuses", "{" .. table.concat(st, ",") .. "}")
  local sm = {}
  for _, text in ipairs(all_samples) do
    sm[#sm + 1] = quote(text)
  end
  add("error_samples", "[" .. table.concat(sm, ",") .. "]")
  local f = assert(io.open(out .. ".lat", "w"))
  f:write(table.concat(lat, "\n"), "\n")
  f:close()
  f = assert(io.open(out, "w"))
  f:write("{" .. table.concat(parts, ",") .. "}\n")
  f:close()
end
