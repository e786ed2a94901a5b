-- Drop (open for claims) or end a voucher, once; say what changed.
-- KEYS: voucher hash. ARGV: action ("drop" or "end").
-- Returns {change}: "dropped", "ended", "" (nothing: already in that state or past it)
-- or "missing" (no such voucher).
local voucher_key = KEYS[1]
local action = ARGV[1]

local state = redis.call('HGET', voucher_key, 'state')
if not state then
  return {'missing'}
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if action == 'drop' and state == 'ready' then
  redis.call('HSET', voucher_key, 'state', 'live', 'dropped_at', now)
  return {'dropped'}
end
if action == 'end' and state ~= 'ended' then
  redis.call('HSET', voucher_key, 'state', 'ended', 'ended_at', now)
  return {'ended'}
end
return {''}
