-- Delete an ended room's keys once it has been ended long enough, its outbox is empty and
-- no reservation is open; otherwise change nothing.
-- KEYS: room hash, reservations, outbox, sales, then the room's other keys (deleted too),
-- then for each sale its hash, buyers and idempotency keys (sale_count of them, in order).
-- ARGV: ended_before (ms: the room must have ended at or before it), sale_count.
-- Returns {outcome, keys deleted}; outcome: 'deleted', 'no_room', 'not_ended', 'too_recent',
-- 'reservations_open', 'outbox_pending' or 'sales_changed' (a sale was created since the
-- caller listed them: list again).
local room_key = KEYS[1]
local reservations_key = KEYS[2]
local outbox_key = KEYS[3]
local sales_key = KEYS[4]
local ended_before = tonumber(ARGV[1])
local sale_count = tonumber(ARGV[2])

local status = redis.call('HGET', room_key, 'status')
if not status then
  return {'no_room', 0}
end
if status ~= 'ended' then
  return {'not_ended', 0}
end
local ended_at = tonumber(redis.call('HGET', room_key, 'ended_at') or '0')
if ended_at > ended_before then
  return {'too_recent', 0}
end
if redis.call('ZCARD', reservations_key) > 0 then
  return {'reservations_open', 0}
end
if redis.call('XLEN', outbox_key) > 0 then
  return {'outbox_pending', 0}
end
if redis.call('ZCARD', sales_key) ~= sale_count then
  return {'sales_changed', 0}
end
local deleted = 0
for index = 1, #KEYS do
  deleted = deleted + redis.call('DEL', KEYS[index])
end
return {'deleted', deleted}
