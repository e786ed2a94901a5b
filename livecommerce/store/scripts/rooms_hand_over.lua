-- A draining node hands its publication over: the room stays live, without a session or
-- an origin, until its anchor publishes again on another node (rooms_go_live.lua gives it
-- the new session) or the deadline passes (any node's sweep then runs rooms_go_offline.lua
-- with an empty session). No viewer sees an offline step in between.
-- KEYS: room hash. ARGV: session id handed over, deadline (ms).
-- Returns 1 when handed over, 0 when the room is not live with this session (it ended,
-- went offline, or another session took over), -1 when there is no room.
local room_key = KEYS[1]
local session = ARGV[1]
local deadline = ARGV[2]

local status = redis.call('HGET', room_key, 'status')
if not status then
  return -1
end
if status ~= 'live' or redis.call('HGET', room_key, 'live_session') ~= session then
  return 0
end
redis.call('HDEL', room_key, 'live_session', 'origin')
redis.call('HSET', room_key, 'live_until', deadline)
return 1
