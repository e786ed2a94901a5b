-- Move a sale to the state its times (or a stop) call for, once; say what changed.
-- KEYS: sale hash. ARGV: stop ("1" to stop the sale now).
-- Returns {change, next_at}: change is "started", "ended" or "" (nothing);
-- next_at is when the state changes next (ms), 0 when it never will.
local sale_key = KEYS[1]
local stop = ARGV[1] == '1'

local sale = redis.call('HMGET', sale_key, 'state', 'starts_at', 'ends_at')
if not sale[1] then
  return {'missing', 0}
end
local state = sale[1]
local starts_at = tonumber(sale[2])
local ends_at = tonumber(sale[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

if state == 'ended' then
  return {'', 0}
end
if stop or now >= ends_at then
  redis.call('HSET', sale_key, 'state', 'ended')
  if stop then
    redis.call('HSET', sale_key, 'stopped_at', now)
  end
  return {'ended', 0}
end
if state == 'scheduled' and now >= starts_at then
  redis.call('HSET', sale_key, 'state', 'open')
  return {'started', ends_at}
end
if state == 'scheduled' then
  return {'', starts_at}
end
return {'', ends_at}
