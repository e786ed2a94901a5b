-- Enter a user in a giveaway, once, while it is open by the store's clock; the user
-- must not be banned and must meet its eligibility: watched the room long enough (the
-- server's measure), placed an order in the room, typed the keyword in chat.
-- KEYS: giveaway hash, entrants set, keyword typers set, watch hash, room buyers set,
--       bans hash, room counters hash, the room's entrants' visitor set and HyperLogLog
--       (analytics), room's other buyers set (auction winners, replay buyers).
-- ARGV: user, analytics (lib/analytics.lua's exact_max; '' = off).
-- Returns {outcome, entrants}: outcome is "entered", "repeat" (entered before) or the
-- refusal; entrants is the number of entrants.
local giveaway_key = KEYS[1]
local entrants_key = KEYS[2]
local said_key = KEYS[3]
local watch_key = KEYS[4]
local buyers_key = KEYS[5]
local bans_key = KEYS[6]
local counters_key = KEYS[7]
local entrants_set_key = KEYS[8]
local entrants_hll_key = KEYS[9]
local other_buyers_key = KEYS[10]
local user = ARGV[1]
local analytics = ARGV[2]

--! include analytics

local g = redis.call('HMGET', giveaway_key, 'state', 'ends_at', 'watch_s', 'buyers_only',
  'keyword')
if not g[1] then
  return {'giveaway_not_found', 0}
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if g[1] ~= 'open' or now >= tonumber(g[2]) then
  return {'giveaway_ended', 0}
end
if redis.call('HEXISTS', bans_key, user) == 1 then
  return {'banned', 0}
end
if redis.call('SISMEMBER', entrants_key, user) == 1 then
  return {'repeat', redis.call('SCARD', entrants_key)}
end
local watch_s = tonumber(g[3])
if watch_s > 0 and tonumber(redis.call('HGET', watch_key, user) or '0') < watch_s then
  return {'watch_time_short', 0}
end
if g[4] == '1' and redis.call('SISMEMBER', buyers_key, user) == 0 and
   redis.call('SISMEMBER', other_buyers_key, user) == 0 then
  return {'buyers_only', 0}
end
if g[5] ~= '' and redis.call('SISMEMBER', said_key, user) == 0 then
  return {'keyword_required', 0}
end
redis.call('SADD', entrants_key, user)
redis.call('HINCRBY', counters_key, 'giveaway_entries', 1)
analytics_visitor(entrants_set_key, entrants_hll_key, user, analytics)
return {'entered', redis.call('SCARD', entrants_key)}
