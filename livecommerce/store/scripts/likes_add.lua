-- Add a batch of likes from several users of one room, in one step. Each user's likes
-- first pass the user's budget (a token bucket shared by all of the user's sockets on
-- every node); likes over it are dropped. Of the likes kept, the viewers' ones (not the
-- anchor's or staff's) count for discovery up to a cap per user per window.
-- KEYS: counters hash, engagement hash, then one like-budget hash per user (in ARGV's
--       order).
-- ARGV: budget burst, budget refill per second, discovery cap per user per window,
--       engagement slot length (ms), engagement slots in the window, then per user:
--       likes sent, of which from a viewer (not the anchor or staff).
-- Returns {the room's like total, likes kept, likes counted for discovery}.
local counters_key = KEYS[1]
local engagement_key = KEYS[2]
local burst = tonumber(ARGV[1])
local refill_per_ms = tonumber(ARGV[2]) / 1000
local discovery_cap = tonumber(ARGV[3])
local slot_ms = tonumber(ARGV[4])
local slots = tonumber(ARGV[5])
local FIRST_USER_ARG = 6

--! include engagement

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window_ms = slots * slot_ms
-- After this long untouched, a budget is full again and the counting window over: the
-- key is then worth no more than a missing one.
local idle_ms = math.max(window_ms, math.ceil(burst / refill_per_ms))

local kept_total = 0
local counted_total = 0
for index = 3, #KEYS do
  local budget_key = KEYS[index]
  local arg = FIRST_USER_ARG + (index - 3) * 2
  local sent = tonumber(ARGV[arg])
  local from_viewer = tonumber(ARGV[arg + 1])
  local state = redis.call('HMGET', budget_key, 'tokens', 'at', 'counted', 'since')
  local tokens = burst
  if state[1] then
    local idle = math.max(0, now - tonumber(state[2]))
    tokens = math.min(burst, tonumber(state[1]) + idle * refill_per_ms)
  end
  local kept = math.min(sent, math.floor(tokens))
  local counted = tonumber(state[3] or '0')
  local since = tonumber(state[4] or '0')
  if now - since >= window_ms then
    counted = 0
    since = now
  end
  local for_discovery = math.max(0, math.min(kept, from_viewer, discovery_cap - counted))
  redis.call('HSET', budget_key, 'tokens', string.format('%.4f', tokens - kept), 'at', now,
    'counted', counted + for_discovery, 'since', since)
  redis.call('PEXPIRE', budget_key, idle_ms)
  kept_total = kept_total + kept
  counted_total = counted_total + for_discovery
end

local total = tonumber(redis.call('HGET', counters_key, 'likes') or '0')
if kept_total > 0 then
  total = redis.call('HINCRBY', counters_key, 'likes', kept_total)
end
if counted_total > 0 then
  count_engagement(engagement_key, 'likes', counted_total, now, slot_ms, slots)
end
return {total, kept_total, counted_total}
