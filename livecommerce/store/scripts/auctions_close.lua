-- Close an auction once its end has passed by the store's clock (or now, when the
-- anchor ends it): the leader wins when the price reaches the reserve, and gets a
-- reserved order (source "auction") with order.created in the room's outbox, in the
-- same step. Exactly one close happens, whichever nodes try.
-- The winner joins the room's other buyers (not the flash sales' buyers, whose funnel
-- this is not: the order counts in the product rows and the orders series only).
-- KEYS: auction hash, new order hash, reservations zset, outbox stream, room's other
--       buyers set, counters hash, analytics hash.
-- ARGV: room id, new order id, force ("1": end now), analytics (lib/analytics.lua's
--       exact_max; '' = off).
-- Returns {outcome, ends_at, winner, amount, order, reason}: outcome is "closed" (now),
-- "closed_before" (the values of that close), "not_due" (ends_at: when to try again)
-- or "missing"; reason is "" for a sale, else "no_bids" or "reserve_not_met".
local auction_key = KEYS[1]
local order_key = KEYS[2]
local reservations_key = KEYS[3]
local outbox_key = KEYS[4]
local other_buyers_key = KEYS[5]
local counters_key = KEYS[6]
local analytics_key = KEYS[7]
local room_id = ARGV[1]
local order_id = ARGV[2]
local force = ARGV[3] == '1'
local analytics = ARGV[4]

--! include analytics

local a = redis.call('HMGET', auction_key, 'state', 'ends_at', 'price', 'leader',
  'reserve_cents', 'product_id', 'currency', 'payment_ttl_s', 'id', 'winner', 'order',
  'no_sale')
if not a[1] then
  return {'missing', 0, '', 0, '', ''}
end
local ends_at = tonumber(a[2])
if a[1] == 'ended' then
  return {'closed_before', ends_at, a[10] or '', tonumber(a[3]), a[11] or '', a[12] or ''}
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if now < ends_at and not force then
  return {'not_due', ends_at, '', 0, '', ''}
end
if now < ends_at then
  ends_at = now
end
local price = tonumber(a[3])
local leader = a[4] or ''
local reserve = tonumber(a[5])
redis.call('HSET', auction_key, 'state', 'ended', 'ended_at', now, 'ends_at', ends_at)
if leader == '' or price < reserve then
  local reason = 'no_bids'
  if leader ~= '' then
    reason = 'reserve_not_met'
  end
  redis.call('HSET', auction_key, 'no_sale', reason)
  return {'closed', ends_at, '', price, '', reason}
end

local auction_id = a[9]
local expires_at = now + tonumber(a[8]) * 1000
redis.call('HSET', order_key,
  'id', order_id, 'room', room_id, 'sale', '', 'product_id', a[6], 'user', leader,
  'qty', 1, 'unit_price_cents', price, 'amount_cents', price, 'currency', a[7],
  'status', 'reserved', 'created_at', now, 'expires_at', expires_at,
  'source', 'auction', 'ref', auction_id, 'discount_cents', 0)
redis.call('ZADD', reservations_key, expires_at, order_id)
local data = cjson.encode({
  id = order_id, room = room_id, sale = cjson.null, auction = auction_id, product_id = a[6],
  user = leader, qty = 1, unit_price_cents = price, amount_cents = price, currency = a[7],
  status = 'reserved', created_at = now, expires_at = expires_at, source = 'auction',
  voucher = cjson.null, discount_cents = 0})
redis.call('XADD', outbox_key, '*', 'id', 'evt_' .. order_id .. '_created',
  'type', 'order.created', 'timestamp', now, 'data', data)
redis.call('SADD', other_buyers_key, leader)
redis.call('HINCRBY', counters_key, 'orders', 1)
redis.call('HINCRBY', counters_key, 'source:auction:orders', 1)
analytics_reserved(analytics_key, nil, nil, analytics, leader, a[6], now, true)
redis.call('HSET', auction_key, 'winner', leader, 'order', order_id)
return {'closed', ends_at, leader, price, order_id, ''}
