-- Move an order out of "reserved": pay it, cancel it or expire it, once.
-- Paying or cancelling after the reservation's expiry expires it instead and is
-- refused with "reservation_expired". Stock and the user's count return on cancel
-- and expiry, exactly once (only a reserved order returns anything); so does the voucher
-- claim the order used, unused again. Orders without a sale (auctions, giveaways: "sale"
-- empty, "ref" the auction's or giveaway's id) return no stock; a replay's order returns
-- its unit to the product's replay stock (its "sale", "ref" the replay's id).
-- KEYS: order hash, sale hash, sale buyers hash, reservations zset, outbox stream,
--       counters hash, analytics hash, payers' visitor set and HyperLogLog,
--       voucher claims hash.
-- ARGV: action ("pay", "cancel", "expire"), requester ("" for the backend or the
--       sweeper, else the user who must own the order), retention_ms (how long the
--       order hash is kept once final: paid, cancelled or expired), analytics
--       (lib/analytics.lua's exact_max; '' = off).
-- Returns {outcome, status, user, left}: outcome is "done", "repeat" or an error code.
local order_key = KEYS[1]
local sale_key = KEYS[2]
local buyers_key = KEYS[3]
local reservations_key = KEYS[4]
local outbox_key = KEYS[5]
local counters_key = KEYS[6]
local analytics_key = KEYS[7]
local payers_set_key = KEYS[8]
local payers_hll_key = KEYS[9]
local claims_key = KEYS[10]
local action = ARGV[1]
local requester = ARGV[2]
local retention_ms = tonumber(ARGV[3])
local analytics = ARGV[4]

--! include analytics

local order = redis.call('HMGET', order_key, 'id', 'status', 'user', 'qty', 'expires_at',
  'amount_cents', 'currency', 'room', 'sale', 'product_id', 'unit_price_cents', 'created_at',
  'source', 'voucher', 'voucher_claim', 'discount_cents', 'ref')
local order_id = order[1]
if not order_id then
  return {'order_not_found', '', '', -1}
end
local status = order[2]
local user = order[3]
local qty = tonumber(order[4])
local expires_at = tonumber(order[5])
local amount = tonumber(order[6])
local currency = order[7]
local source = order[13] or 'sale'
-- Orders of a sale (a flash sale, or a product's replay stock) hold stock; others do not.
local holds_stock = (order[9] or '') ~= ''
local claim_id = order[15] or ''
if requester ~= '' and requester ~= user then
  return {'not_your_order', status, user, -1}
end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function event(kind, type_name, extra_field, extra_value)
  local fields = {
    id = order_id, room = order[8], sale = order[9], product_id = order[10], user = user,
    qty = qty, unit_price_cents = tonumber(order[11]), amount_cents = amount,
    currency = currency, status = kind, created_at = tonumber(order[12]),
    expires_at = expires_at, source = source, voucher = order[14] or cjson.null,
    discount_cents = tonumber(order[16] or '0')}
  if source ~= 'sale' then
    fields[source] = order[17]
    if not holds_stock then
      fields.sale = cjson.null
    end
  end
  fields[extra_field] = extra_value
  redis.call('XADD', outbox_key, '*', 'id', 'evt_' .. order_id .. '_' .. kind,
    'type', type_name, 'timestamp', now, 'data', cjson.encode(fields))
end

local function release(kind, type_name, at_field)
  redis.call('HSET', order_key, 'status', kind, at_field, now)
  redis.call('PEXPIRE', order_key, retention_ms)
  redis.call('ZREM', reservations_key, order_id)
  if claim_id ~= '' then
    local raw = redis.call('HGET', claims_key, claim_id)
    if raw then
      local claim = cjson.decode(raw)
      if claim.state == 'used' and claim.order == order_id then
        claim.state, claim.order = 'unused', nil
        redis.call('HSET', claims_key, claim_id, cjson.encode(claim))
      end
    end
  end
  event(kind, type_name, at_field, now)
  if not holds_stock then
    return -1
  end
  local left = redis.call('HINCRBY', sale_key, 'stock', qty)
  redis.call('HINCRBY', sale_key, 'reserved', -qty)
  if redis.call('HINCRBY', buyers_key, user, -qty) <= 0 then
    redis.call('HDEL', buyers_key, user)
  end
  return left
end

if status ~= 'reserved' then
  local wanted = {pay = 'paid', cancel = 'cancelled', expire = 'expired'}
  if status == wanted[action] then
    return {'repeat', status, user, -1}
  end
  if action == 'expire' then
    return {'repeat', status, user, -1}
  end
  return {'order_' .. status, status, user, -1}
end

if now >= expires_at then
  local left = release('expired', 'order.expired', 'expired_at')
  if action == 'expire' then
    return {'done', 'expired', user, left}
  end
  return {'reservation_expired', 'expired', user, left}
end
if action == 'expire' then
  return {'not_due', status, user, -1}
end
if action == 'cancel' then
  local left = release('cancelled', 'order.cancelled', 'cancelled_at')
  return {'done', 'cancelled', user, left}
end

redis.call('HSET', order_key, 'status', 'paid', 'paid_at', now)
redis.call('PEXPIRE', order_key, retention_ms)
redis.call('ZREM', reservations_key, order_id)
if holds_stock then
  redis.call('HINCRBY', sale_key, 'reserved', -qty)
  redis.call('HINCRBY', sale_key, 'sold', qty)
end
redis.call('HINCRBY', counters_key, 'paid_orders', 1)
redis.call('HINCRBY', counters_key, 'gmv_cents:' .. currency, amount)
if source ~= 'sale' then
  redis.call('HINCRBY', counters_key, 'source:' .. source .. ':paid', 1)
  redis.call('HINCRBY', counters_key, 'source:' .. source .. ':gmv_cents:' .. currency, amount)
end
-- A replay's order is a sale of the recording, not of the live: its reservation was not
-- counted in the product rows and series, so neither is its payment (formats count it).
if source ~= 'replay' then
  analytics_paid(analytics_key, payers_set_key, payers_hll_key, analytics, user, order[10],
    amount, now, source == 'sale')
end
event('paid', 'order.paid', 'paid_at', now)
return {'done', 'paid', user, -1}
