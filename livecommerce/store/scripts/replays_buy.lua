-- Buy a product from a replay at its list price, in one atomic step, through the same
-- reservation and outbox as a flash sale: the answer given before to the same user for
-- the same idempotency key is returned unchanged; otherwise the user must not be banned,
-- the product must exist; its replay stock (a sale-shaped hash "replay_PRODUCT", made
-- here on the first buy with the list price and the configured stock) must hold the
-- quantity and the user stay under the per-user limit; then stock is decremented, the
-- reservation recorded with its expiry (orders_settle.lua pays, cancels and expires it
-- like any other), and order.created with source "replay" appended to the outbox.
-- KEYS: products hash, replay stock hash, its buyers hash, its idempotency hash,
--       reservations zset, new order hash, outbox stream, room's other buyers set (the
--       buyers set is the flash sales'), counters hash, bans hash.
-- ARGV: room id, product id, stock id ("replay_" .. product id), user, quantity,
--       idempotency field, new order id, idempotency expiry (ms), initial stock,
--       per-user limit, reservation ttl (s), replay id.
-- Returns {kind, answer_json, stock_left}: kind is "new", "repeat" or "refused".
local products_key = KEYS[1]
local stock_key = KEYS[2]
local buyers_key = KEYS[3]
local idempotency_key = KEYS[4]
local reservations_key = KEYS[5]
local order_key = KEYS[6]
local outbox_key = KEYS[7]
local other_buyers_key = KEYS[8]
local counters_key = KEYS[9]
local bans_key = KEYS[10]
local room_id = ARGV[1]
local product_id = ARGV[2]
local stock_id = ARGV[3]
local user = ARGV[4]
local qty = tonumber(ARGV[5])
local idempotency_field = ARGV[6]
local order_id = ARGV[7]
local idempotency_ttl_ms = tonumber(ARGV[8])
local initial_stock = tonumber(ARGV[9])
local per_user_limit = tonumber(ARGV[10])
local reservation_ttl_s = tonumber(ARGV[11])
local replay_id = ARGV[12]

local previous = redis.call('HGET', idempotency_key, idempotency_field)
if previous then
  return {'repeat', previous, -1}
end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function refuse(reason, remember)
  local answer = cjson.encode({ok = false, reason = reason})
  if remember then
    redis.call('HSET', idempotency_key, idempotency_field, answer)
    redis.call('PEXPIRE', idempotency_key, idempotency_ttl_ms)
  end
  return {'refused', answer, -1}
end

if redis.call('HEXISTS', bans_key, user) == 1 then
  return refuse('banned', false)
end
local product_json = redis.call('HGET', products_key, product_id)
if not product_json then
  return refuse('product_not_found', false)
end
if redis.call('EXISTS', stock_key) == 0 then
  local product = cjson.decode(product_json)
  redis.call('HSET', stock_key,
    'id', stock_id, 'room', room_id, 'product_id', product_id,
    'price_cents', product.price_cents, 'currency', product.currency,
    'quantity', initial_stock, 'per_user_limit', per_user_limit,
    'reservation_ttl_s', reservation_ttl_s, 'starts_at', now, 'ends_at', 253402300799000,
    'stock', initial_stock, 'reserved', 0, 'sold', 0, 'state', 'open', 'source', 'replay')
end
local terms = redis.call('HMGET', stock_key, 'stock', 'per_user_limit', 'price_cents',
  'currency', 'reservation_ttl_s')
local stock = tonumber(terms[1])
local limit = tonumber(terms[2])
local price_cents = tonumber(terms[3])
local currency = terms[4]
local ttl_ms = tonumber(terms[5]) * 1000

local held = tonumber(redis.call('HGET', buyers_key, user) or '0')
if held + qty > limit then
  return refuse('limit_reached', true)
end
if stock <= 0 then
  return refuse('sold_out', true)
end
if stock < qty then
  return refuse('not_enough_stock', true)
end

local left = redis.call('HINCRBY', stock_key, 'stock', -qty)
redis.call('HINCRBY', stock_key, 'reserved', qty)
redis.call('HINCRBY', buyers_key, user, qty)
local expires_at = now + ttl_ms
local amount = price_cents * qty
redis.call('HSET', order_key,
  'id', order_id, 'room', room_id, 'sale', stock_id, 'product_id', product_id, 'user', user,
  'qty', qty, 'unit_price_cents', price_cents, 'amount_cents', amount, 'currency', currency,
  'status', 'reserved', 'created_at', now, 'expires_at', expires_at,
  'source', 'replay', 'replay', replay_id, 'ref', replay_id)
redis.call('ZADD', reservations_key, expires_at, order_id)
local data = cjson.encode({
  id = order_id, room = room_id, sale = stock_id, product_id = product_id, user = user,
  qty = qty, unit_price_cents = price_cents, amount_cents = amount, currency = currency,
  status = 'reserved', created_at = now, expires_at = expires_at,
  source = 'replay', replay = replay_id, voucher = cjson.null, discount_cents = 0})
redis.call('XADD', outbox_key, '*', 'id', 'evt_' .. order_id .. '_created',
  'type', 'order.created', 'timestamp', now, 'data', data)
redis.call('SADD', other_buyers_key, user)
redis.call('HINCRBY', counters_key, 'orders', 1)
redis.call('HINCRBY', counters_key, 'source:replay:orders', 1)

local answer = cjson.encode({ok = true, order = order_id, expires_at = expires_at})
redis.call('HSET', idempotency_key, idempotency_field, answer)
redis.call('PEXPIRE', idempotency_key, idempotency_ttl_ms)
return {'new', answer, left}
