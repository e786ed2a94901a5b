-- Reserve units of a flash sale for a user, in one atomic step: the answer given
-- before to the same user for the same idempotency key on the same sale is returned
-- unchanged (the record is the sale's, so a key reused on another sale is a new buy
-- there, and another user's equal key is another buyer's); otherwise the sale
-- must be open, the user not banned and under the per-user limit, the stock
-- sufficient; then stock is decremented, the reservation recorded with its expiry,
-- the user's count bumped, order.created appended to the room's outbox and the order
-- counted for discovery. A voucher claim (lib/voucher_pick.lua), when asked for and
-- usable, takes its discount off the amount and is marked used by the order.
-- KEYS: sale hash, sale buyers hash, sale idempotency hash, reservations zset,
--       new order hash, outbox stream, room buyers set, counters hash, bans hash,
--       engagement hash, analytics hash, buy attempts' visitor set and HyperLogLog,
--       voucher claims hash, voucher wallets hash.
-- ARGV: room id, sale id, user, quantity, idempotency field (Keys.idempotency_field:
--       the user and the buyer's key, unambiguous), new order id,
--       idempotency expiry (ms), engagement slot length (ms), engagement slots in the window,
--       analytics (lib/analytics.lua's exact_max; '' = off),
--       voucher claim ("" none, "best" the user's best usable claim, or a claim id).
-- Returns {kind, answer_json, stock_left, took_last}: kind is "new", "repeat" or "refused";
-- "new" adds {product_id, amount_cents, currency} of the order (the staff's orders feed).
local sale_key = KEYS[1]
local buyers_key = KEYS[2]
local idempotency_key = KEYS[3]
local reservations_key = KEYS[4]
local order_key = KEYS[5]
local outbox_key = KEYS[6]
local room_buyers_key = KEYS[7]
local counters_key = KEYS[8]
local bans_key = KEYS[9]
local engagement_key = KEYS[10]
local analytics_key = KEYS[11]
local attempts_set_key = KEYS[12]
local attempts_hll_key = KEYS[13]
local claims_key = KEYS[14]
local wallets_key = KEYS[15]
local room_id = ARGV[1]
local sale_id = ARGV[2]
local user = ARGV[3]
local qty = tonumber(ARGV[4])
local idempotency_field = ARGV[5]
local order_id = ARGV[6]
local idempotency_ttl_ms = tonumber(ARGV[7])
local slot_ms = tonumber(ARGV[8])
local slots = tonumber(ARGV[9])
local analytics = ARGV[10]
local wanted_claim = ARGV[11]

--! include engagement
--! include analytics
--! include voucher_pick

local previous = redis.call('HGET', idempotency_key, idempotency_field)
if previous then
  return {'repeat', previous, -1, 0}
end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

-- `holder`: the user holds units of this sale, so their first reservation in it counted
-- them among the attempts' visitors already (only this script adds to the sale's buyers).
local function refuse(reason, remember, holder)
  analytics_refused(analytics_key, attempts_set_key, attempts_hll_key, analytics, user, sale_id,
    reason, holder)
  local answer = cjson.encode({ok = false, reason = reason})
  if remember then
    redis.call('HSET', idempotency_key, idempotency_field, answer)
    redis.call('PEXPIRE', idempotency_key, idempotency_ttl_ms)
  end
  return {'refused', answer, -1, 0}
end

if redis.call('HEXISTS', bans_key, user) == 1 then
  return refuse('banned', false)
end
local sale = redis.call('HMGET', sale_key, 'stock', 'starts_at', 'ends_at', 'stopped_at',
  'per_user_limit', 'price_cents', 'currency', 'product_id', 'reservation_ttl_s', 'reserved')
if not sale[1] then
  return refuse('sale_not_found', false)
end
local stock = tonumber(sale[1])
local starts_at = tonumber(sale[2])
local ends_at = tonumber(sale[3])
local stopped_at = tonumber(sale[4] or '0')
local per_user_limit = tonumber(sale[5])
local price_cents = tonumber(sale[6])
local currency = sale[7]
local product_id = sale[8]
local ttl_ms = tonumber(sale[9]) * 1000
local reserved = tonumber(sale[10] or '0')

if now < starts_at then
  return refuse('sale_not_started', false)
end
if stopped_at > 0 or now >= ends_at then
  return refuse('sale_ended', true)
end
local held = tonumber(redis.call('HGET', buyers_key, user) or '0')
if held + qty > per_user_limit then
  return refuse('limit_reached', true, held > 0)
end
if stock <= 0 then
  return refuse('sold_out', true, held > 0)
end
if stock < qty then
  return refuse('not_enough_stock', true, held > 0)
end

local amount = price_cents * qty
local claim, discount = nil, 0
if wanted_claim ~= '' then
  local refusal
  claim, discount, refusal = pick_claim(claims_key, wallets_key, wanted_claim, user, amount, now)
  if refusal then
    return refuse(refusal, false, held > 0)
  end
end
local voucher_id, claim_id = cjson.null, ''
if claim then
  voucher_id, claim_id = claim.voucher, claim.id
  claim.state, claim.order = 'used', order_id
  redis.call('HSET', claims_key, claim.id, cjson.encode(claim))
  amount = amount - discount
end

-- One write for both (read above, in this same atomic step): each call costs the store
-- more than the command itself.
local left = stock - qty
redis.call('HSET', sale_key, 'stock', left, 'reserved', reserved + qty)
redis.call('HINCRBY', buyers_key, user, qty)
local expires_at = now + ttl_ms
redis.call('HSET', order_key,
  'id', order_id, 'room', room_id, 'sale', sale_id, 'product_id', product_id, 'user', user,
  'qty', qty, 'unit_price_cents', price_cents, 'amount_cents', amount, 'currency', currency,
  'status', 'reserved', 'created_at', now, 'expires_at', expires_at,
  'source', 'sale', 'discount_cents', discount)
if claim then
  redis.call('HSET', order_key, 'voucher', voucher_id, 'voucher_claim', claim_id)
end
redis.call('ZADD', reservations_key, expires_at, order_id)
local data = cjson.encode({
  id = order_id, room = room_id, sale = sale_id, product_id = product_id, user = user,
  qty = qty, unit_price_cents = price_cents, amount_cents = amount, currency = currency,
  status = 'reserved', created_at = now, expires_at = expires_at, source = 'sale',
  voucher = voucher_id, discount_cents = discount})
redis.call('XADD', outbox_key, '*', 'id', 'evt_' .. order_id .. '_created',
  'type', 'order.created', 'timestamp', now, 'data', data)
redis.call('SADD', room_buyers_key, user)
redis.call('HINCRBY', counters_key, 'orders', 1)
count_engagement(engagement_key, 'orders', 1, now, slot_ms, slots)
analytics_reserved(analytics_key, attempts_set_key, attempts_hll_key, analytics, user,
  product_id, now, held > 0)

local answer = cjson.encode({ok = true, order = order_id, expires_at = expires_at})
redis.call('HSET', idempotency_key, idempotency_field, answer)
redis.call('PEXPIRE', idempotency_key, idempotency_ttl_ms)
local took_last = 0
if left == 0 then took_last = 1 end
return {'new', answer, left, took_last, product_id, amount, currency}
