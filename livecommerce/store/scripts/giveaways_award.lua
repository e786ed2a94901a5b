-- Record a closed giveaway's winners, once, and give each a paid order at price 0
-- (source "giveaway") with order.created and order.paid in the room's outbox, in the
-- same step. The winners are computed outside (livecommerce/commerce/draw.py) from the
-- seed and the frozen entrants, so every node computes the same; the first to call
-- records them, later calls get the recorded ones.
-- KEYS: giveaway hash, outbox stream, counters hash, analytics hash, then one new order
--       hash per winner.
-- ARGV: room id, winners (JSON list), order ids (JSON list, one per winner), order
--       retention (ms), analytics (lib/analytics.lua's exact_max; '' = off).
-- Returns {outcome, winners_json, orders_json}: outcome is "drawn" (now), "drawn_before"
-- or "not_closed".
local giveaway_key = KEYS[1]
local outbox_key = KEYS[2]
local counters_key = KEYS[3]
local analytics_key = KEYS[4]
local room_id = ARGV[1]
local winners = cjson.decode(ARGV[2])
local order_ids = cjson.decode(ARGV[3])
local retention_ms = tonumber(ARGV[4])
local analytics = ARGV[5]

--! include analytics

local g = redis.call('HMGET', giveaway_key, 'state', 'winners', 'orders', 'id', 'product_id',
  'currency')
if g[1] == 'drawn' then
  return {'drawn_before', g[2], g[3]}
end
if g[1] ~= 'closed' then
  return {'not_closed', '[]', '[]'}
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local orders = {}
for i, user in ipairs(winners) do
  local order_id = order_ids[i]
  local order_key = KEYS[4 + i]
  redis.call('HSET', order_key,
    'id', order_id, 'room', room_id, 'sale', '', 'product_id', g[5], 'user', user,
    'qty', 1, 'unit_price_cents', 0, 'amount_cents', 0, 'currency', g[6],
    'status', 'paid', 'created_at', now, 'expires_at', now, 'paid_at', now,
    'source', 'giveaway', 'ref', g[4], 'discount_cents', 0)
  redis.call('PEXPIRE', order_key, retention_ms)
  -- A giveaway without a product has neither product nor currency: null, as for a sale.
  local fields = {
    id = order_id, room = room_id, sale = cjson.null, giveaway = g[4],
    product_id = (g[5] ~= '' and g[5]) or cjson.null,
    user = user, qty = 1, unit_price_cents = 0, amount_cents = 0,
    currency = (g[6] ~= '' and g[6]) or cjson.null,
    status = 'reserved', created_at = now, expires_at = now, source = 'giveaway',
    voucher = cjson.null, discount_cents = 0}
  redis.call('XADD', outbox_key, '*', 'id', 'evt_' .. order_id .. '_created',
    'type', 'order.created', 'timestamp', now, 'data', cjson.encode(fields))
  fields.status, fields.paid_at = 'paid', now
  redis.call('XADD', outbox_key, '*', 'id', 'evt_' .. order_id .. '_paid',
    'type', 'order.paid', 'timestamp', now, 'data', cjson.encode(fields))
  redis.call('HINCRBY', counters_key, 'orders', 1)
  redis.call('HINCRBY', counters_key, 'paid_orders', 1)
  redis.call('HINCRBY', counters_key, 'source:giveaway:orders', 1)
  redis.call('HINCRBY', counters_key, 'source:giveaway:paid', 1)
  analytics_given(analytics_key, analytics, g[5] or '', now)
  table.insert(orders, order_id)
end
local winners_json = cjson.encode(winners)
local orders_json = cjson.encode(orders)
if #winners == 0 then
  winners_json, orders_json = '[]', '[]'
end
redis.call('HSET', giveaway_key, 'state', 'drawn', 'drawn_at', now, 'winners', winners_json,
  'orders', orders_json)
return {'drawn', winners_json, orders_json}
