-- End a room: status becomes 'ended' once; ending an ended room changes nothing.
-- KEYS: room hash. ARGV: ended_at (ms).
-- Returns 1 when this call ended it, 0 when it was already ended, -1 when there is no room.
local room_key = KEYS[1]
local ended_at = ARGV[1]

local status = redis.call('HGET', room_key, 'status')
if not status then
  return -1
end
if status == 'ended' then
  return 0
end
redis.call('HSET', room_key, 'status', 'ended', 'ended_at', ended_at)
return 1
