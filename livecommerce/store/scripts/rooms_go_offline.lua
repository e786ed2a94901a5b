-- A publication ends: the room is no longer live, unless another session took over.
-- KEYS: room hash. ARGV: session id that ended.
-- Returns 1 when the room went offline (back to 'scheduled'), 0 when this session was
-- not the room's stream (replaced, or the room ended), -1 when there is no room.
local room_key = KEYS[1]
local session = ARGV[1]

local status = redis.call('HGET', room_key, 'status')
if not status then
  return -1
end
if status ~= 'live' or redis.call('HGET', room_key, 'live_session') ~= session then
  return 0
end
redis.call('HSET', room_key, 'status', 'scheduled')
redis.call('HDEL', room_key, 'live_session', 'origin')
return 1
