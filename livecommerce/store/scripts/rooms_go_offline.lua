-- A publication ends: the room is no longer live, unless another session took over.
-- KEYS: room hash. ARGV: session id that ended (empty: a room handed over by a draining
-- node, with no session); expired_before (ms, or empty): when given, only if the origin's
-- heartbeat (or the handover's deadline) lapsed before then.
-- Returns 1 when the room went offline (back to 'scheduled'), 0 when this session was
-- not the room's stream (replaced, or the room ended) or its heartbeat is fresh,
-- -1 when there is no room.
local room_key = KEYS[1]
local session = ARGV[1]
local expired_before = ARGV[2]

local status = redis.call('HGET', room_key, 'status')
if not status then
  return -1
end
if status ~= 'live' or (redis.call('HGET', room_key, 'live_session') or '') ~= session then
  return 0
end
if expired_before and expired_before ~= '' then
  local live_until = tonumber(redis.call('HGET', room_key, 'live_until') or '0')
  if live_until >= tonumber(expired_before) then
    return 0
  end
end
redis.call('HSET', room_key, 'status', 'scheduled')
redis.call('HDEL', room_key, 'live_session', 'origin', 'live_until')
return 1
