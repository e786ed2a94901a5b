-- A publication starts: the room becomes live with this session as its stream.
-- KEYS: room hash. ARGV: started_at (ms), session id, origin URL (the node serving it),
-- live_until (ms: the origin's heartbeat must push it forward before then).
-- Returns 1 when the room went live, 0 when it was live already (the session is
-- replaced), -1 when there is no room, -2 when the room has ended.
local room_key = KEYS[1]
local started_at = ARGV[1]
local session = ARGV[2]
local origin = ARGV[3]
local live_until = ARGV[4]

local status = redis.call('HGET', room_key, 'status')
if not status then
  return -1
end
if status == 'ended' then
  return -2
end
redis.call('HSET', room_key, 'live_session', session, 'origin', origin, 'live_until', live_until)
if status == 'live' then
  return 0
end
redis.call('HSET', room_key, 'status', 'live', 'started_at', started_at)
return 1
