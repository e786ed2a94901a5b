-- Seller analytics, counted inside the scripts where the steps happen (see
-- livecommerce/analytics/ and docs/analytics.md). Fields of the room's analytics hash:
-- a step's total ("STEP") and count per product ("p:PRODUCT:STEP") for impressions,
-- entries and product views; reservations and payments per product and 10 s slot in one
-- field each ("q:PRODUCT:SLOT:reserved", "q:PRODUCT:SLOT:paid": one write per step), a
-- product's GMV ("p:PRODUCT:gmv_cents") and a sale's refused buy attempts
-- ("s:SALE:refused"). Totals the room's counters hash keeps already (orders,
-- paid_orders, GMV) are not counted twice. A step's visitor is counted once: in an exact
-- set that moves into a HyperLogLog once it holds more than `exact_max` members.
-- `exact_max` is the ARGV as sent: '' means analytics is off and nothing is counted.
local function analytics_visitor(set_key, hll_key, visitor, exact_max)
  if exact_max == '' then
    return
  end
  if redis.call('EXISTS', hll_key) == 1 then
    redis.call('PFADD', hll_key, visitor)
    return
  end
  if redis.call('SADD', set_key, visitor) == 0 or
     redis.call('SCARD', set_key) <= tonumber(exact_max) then
    return
  end
  local members = redis.call('SMEMBERS', set_key)
  for i = 1, #members, 1000 do
    redis.call('PFADD', hll_key, unpack(members, i, math.min(i + 999, #members)))
  end
  local ttl = redis.call('PTTL', set_key)
  redis.call('DEL', set_key)
  if ttl > 0 then
    redis.call('PEXPIRE', hll_key, ttl)
  end
end

local function analytics_field(product, now, step)
  return 'q:' .. product .. ':' .. string.format('%d', math.floor(now / 10000)) .. ':' .. step
end

-- An impression, entry or product view: total, product (if any), visitor.
local function analytics_count(counts_key, set_key, hll_key, exact_max, step, visitor,
                               product)
  if exact_max == '' then
    return
  end
  redis.call('HINCRBY', counts_key, step, 1)
  if product ~= '' then
    redis.call('HINCRBY', counts_key, 'p:' .. product .. ':' .. step, 1)
  end
  analytics_visitor(set_key, hll_key, visitor, exact_max)
end

-- A buy attempt refused by the sale's rules (not a ban, not a sale that does not exist).
-- `counted`: the caller knows the visitor is counted already (nothing more to write).
local function analytics_refused(counts_key, set_key, hll_key, exact_max, visitor, sale,
                                 reason, counted)
  if exact_max == '' or reason == 'banned' or reason == 'sale_not_found' then
    return
  end
  redis.call('HINCRBY', counts_key, 's:' .. sale .. ':refused', 1)
  if not counted then
    analytics_visitor(set_key, hll_key, visitor, exact_max)
  end
end

-- A buy attempt that reserved: the product's reservations in the slot (the total is the
-- counters hash's "orders"), and the attempt's visitor unless `counted` (see above): a
-- returning buyer costs the buy one command.
local function analytics_reserved(counts_key, set_key, hll_key, exact_max, visitor, product,
                                  now, counted)
  if exact_max == '' then
    return
  end
  redis.call('HINCRBY', counts_key, analytics_field(product, now, 'reserved'), 1)
  if not counted then
    analytics_visitor(set_key, hll_key, visitor, exact_max)
  end
end

-- A payment: the product's payments in the slot and its GMV (the totals are the counters
-- hash's "paid_orders" and "gmv_cents:CURRENCY"), and the payer when `funnel` (a flash
-- sale's order: the funnel's `paid` users are the buy path's).
local function analytics_paid(counts_key, set_key, hll_key, exact_max, visitor, product,
                              amount, now, funnel)
  if exact_max == '' then
    return
  end
  redis.call('HINCRBY', counts_key, analytics_field(product, now, 'paid'), 1)
  redis.call('HINCRBY', counts_key, 'p:' .. product .. ':gmv_cents', amount)
  if funnel then
    analytics_visitor(set_key, hll_key, visitor, exact_max)
  end
end

-- An order of a giveaway (paid at price 0 when drawn): the product's reservations and
-- payments in the slot, so the product rows and the orders series show it; no visitor
-- (nobody attempted or paid).
local function analytics_given(counts_key, exact_max, product, now)
  if exact_max == '' or product == '' then
    return
  end
  redis.call('HINCRBY', counts_key, analytics_field(product, now, 'reserved'), 1)
  redis.call('HINCRBY', counts_key, analytics_field(product, now, 'paid'), 1)
end
