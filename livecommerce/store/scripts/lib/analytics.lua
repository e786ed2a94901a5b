-- Seller analytics: a funnel step counted inside the script where it happens (see
-- livecommerce/analytics/ and docs/analytics.md). analytics_tally adds one to the step's
-- total in the room's analytics hash, to the product's count ("p:PRODUCT:STEP") and,
-- given `now`, to its 10 s slot ("t:SLOT:STEP"); given `gmv`, to the product's GMV.
-- analytics_count also counts the visitor once: in an exact set that moves into a
-- HyperLogLog once it holds more than `exact_max` members.
-- `exact_max` is the ARGV as sent: '' means analytics is off and nothing is counted.
local function analytics_unique(set_key, hll_key, visitor, exact_max)
  if redis.call('EXISTS', hll_key) == 1 then
    redis.call('PFADD', hll_key, visitor)
    return
  end
  if redis.call('SADD', set_key, visitor) == 0 or redis.call('SCARD', set_key) <= exact_max then
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

local function analytics_tally(counts_key, exact_max, step, product, now, gmv)
  if exact_max == '' then
    return
  end
  redis.call('HINCRBY', counts_key, step, 1)
  if product and product ~= '' then
    redis.call('HINCRBY', counts_key, 'p:' .. product .. ':' .. step, 1)
    if gmv then
      redis.call('HINCRBY', counts_key, 'p:' .. product .. ':gmv_cents', gmv)
    end
  end
  if now then
    redis.call('HINCRBY', counts_key,
      't:' .. string.format('%d', math.floor(now / 10000)) .. ':' .. step, 1)
  end
end

local function analytics_count(counts_key, set_key, hll_key, exact_max, step, visitor,
                               product, now, gmv)
  if exact_max == '' then
    return
  end
  analytics_tally(counts_key, exact_max, step, product, now, gmv)
  analytics_unique(set_key, hll_key, visitor, tonumber(exact_max))
end
