-- End a room: status becomes 'ended' once, and in the same step every sale of the room
-- that has not ended yet ends at that moment: stopped_at = the room's end, state
-- 'ended' (a sale whose end had passed just gets its state). Buys refused from then on
-- (sales_reserve.lua reads stopped_at); reservations already taken stay payable until
-- they expire, as after a stop. Ending an ended room changes nothing.
-- KEYS: room hash, the room's sales zset, then each sale's hash (sale_count of them; the
--       caller lists them from the zset).
-- ARGV: ended_at (ms), sale_count.
-- Returns 1 when this call ended it, 0 when it was already ended, -1 when there is no room,
-- -2 when the room has another number of sales than the caller listed (list again).
local room_key = KEYS[1]
local sales_key = KEYS[2]
local ended_at = ARGV[1]
local sale_count = tonumber(ARGV[2] or '0')

local status = redis.call('HGET', room_key, 'status')
if not status then
  return -1
end
if status == 'ended' then
  return 0
end
if sales_key and redis.call('ZCARD', sales_key) ~= sale_count then
  return -2
end
for i = 1, sale_count do
  local sale_key = KEYS[2 + i]
  local sale = redis.call('HMGET', sale_key, 'state', 'ends_at', 'stopped_at')
  if sale[1] and sale[1] ~= 'ended' and (sale[3] or '') == '' then
    if tonumber(sale[2]) > tonumber(ended_at) then
      redis.call('HSET', sale_key, 'state', 'ended', 'stopped_at', ended_at)
    else
      redis.call('HSET', sale_key, 'state', 'ended')
    end
  end
end
redis.call('HSET', room_key, 'status', 'ended', 'ended_at', ended_at)
return 1
