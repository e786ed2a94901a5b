-- Count one funnel step that has no script of its own: an impression (a room card shown
-- on the home page), an entry (a channel join) or a product view (a product card
-- opened). Nothing is counted for a room that does not exist or has ended, nor for a
-- product the room does not have.
-- KEYS: room hash, products hash, analytics hash, the step's visitor set, the step's
--       HyperLogLog.
-- ARGV: step (impressions, entries, product_views), visitor (a user id, or "~ADDRESS"
--       for an anonymous one), product id ('' for none), exact_max (Keys: the step's
--       set moves into the HyperLogLog past it; '' = analytics off).
-- Returns "counted", "no_room", "ended" or "no_product".
local room_key = KEYS[1]
local products_key = KEYS[2]
local counts_key = KEYS[3]
local set_key = KEYS[4]
local hll_key = KEYS[5]
local step = ARGV[1]
local visitor = ARGV[2]
local product = ARGV[3]
local exact_max = ARGV[4]

--! include analytics

local status = redis.call('HGET', room_key, 'status')
if not status then
  return 'no_room'
end
if status == 'ended' then
  return 'ended'
end
if product ~= '' and redis.call('HEXISTS', products_key, product) == 0 then
  return 'no_product'
end
analytics_count(counts_key, set_key, hll_key, exact_max, step, visitor, product)
return 'counted'
