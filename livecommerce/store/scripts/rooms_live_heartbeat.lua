-- The origin node says its session still streams the room: push live_until forward.
-- KEYS: room hash. ARGV: session id, live_until (ms).
-- Returns 1 when refreshed, 0 when the room is not live with this session any more
-- (it ended, went offline, or another session took over): the origin stops streaming.
local room_key = KEYS[1]
local session = ARGV[1]
local live_until = ARGV[2]

if redis.call('HGET', room_key, 'status') ~= 'live'
    or redis.call('HGET', room_key, 'live_session') ~= session then
  return 0
end
redis.call('HSET', room_key, 'live_until', live_until)
return 1
