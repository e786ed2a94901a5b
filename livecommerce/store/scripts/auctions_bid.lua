-- Place a bid on an auction, in one atomic step, by the store's clock: the answer given
-- before to the same user for the same idempotency key on the same auction is returned
-- unchanged; otherwise the auction must be open (now < ends_at), the bidder not banned,
-- and the bid at least the current price plus its step in the increment table (the
-- start price for the first bid). A maximum (proxy bid) lets the server bid for the
-- user up to it: the leader's maximum answers each challenger by one step, as little
-- as needed; of two equal maximums the earlier keeps the lead. A bid in the last
-- anti_snipe_s seconds moves the end to now + anti_snipe_s, unless sudden death.
-- KEYS: auction hash, auction idempotency hash, bans hash, room counters hash, the room's
--       bidders' visitor set and HyperLogLog (analytics).
-- ARGV: user, amount (cents), maximum (cents, 0: none), idempotency field
--       (Keys.idempotency_field), idempotency expiry (ms), analytics
--       (lib/analytics.lua's exact_max; '' = off).
-- Returns {kind, answer_json, changed}: kind is "new", "repeat" or "refused"; changed is
-- 1 when the price, leader or end moved (the auction is to be announced).
local auction_key = KEYS[1]
local idempotency_key = KEYS[2]
local bans_key = KEYS[3]
local counters_key = KEYS[4]
local bidders_set_key = KEYS[5]
local bidders_hll_key = KEYS[6]
local user = ARGV[1]
local amount = tonumber(ARGV[2])
local maximum = tonumber(ARGV[3])
local idempotency_field = ARGV[4]
local idempotency_ttl_ms = tonumber(ARGV[5])
local analytics = ARGV[6]

--! include analytics

local previous = redis.call('HGET', idempotency_key, idempotency_field)
if previous then
  return {'repeat', previous, 0}
end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function remember(answer)
  local encoded = cjson.encode(answer)
  redis.call('HSET', idempotency_key, idempotency_field, encoded)
  redis.call('PEXPIRE', idempotency_key, idempotency_ttl_ms)
  return encoded
end

local function refuse(reason, keep, min_cents)
  local answer = {ok = false, leading = false, reason = reason, min_cents = min_cents}
  if keep then
    return {'refused', remember(answer), 0}
  end
  return {'refused', cjson.encode(answer), 0}
end

if redis.call('HEXISTS', bans_key, user) == 1 then
  return refuse('banned', false)
end
local a = redis.call('HMGET', auction_key, 'state', 'ends_at', 'start_price_cents', 'price',
  'leader', 'leader_max', 'increments', 'anti_snipe_s', 'sudden_death', 'bids', 'version')
if not a[1] then
  return refuse('auction_not_found', false)
end
local ends_at = tonumber(a[2])
if a[1] ~= 'open' or now >= ends_at then
  return refuse('auction_ended', true)
end
local start_price = tonumber(a[3])
local price = tonumber(a[4])
local leader = a[5] or ''
local leader_max = tonumber(a[6] or '0')
local increments = cjson.decode(a[7])
local anti_snipe_ms = tonumber(a[8]) * 1000
local sudden_death = a[9] == '1'

-- The step above `cents`: that of the last row {from_cents, step_cents} starting at or
-- below it (the rows start at 0, in increasing order).
local function step(cents)
  local found = increments[1][2]
  for _, row in ipairs(increments) do
    if row[1] <= cents then
      found = row[2]
    end
  end
  return found
end

local top = math.max(amount, maximum)
if leader == user then
  if top <= leader_max then
    return refuse('already_leading', true)
  end
  redis.call('HSET', auction_key, 'leader_max', top)
  return {'new', remember({ok = true, leading = true, amount_cents = price}), 0}
end

local least = start_price
if leader ~= '' then
  least = price + step(price)
end
if amount < least then
  return refuse('bid_too_low', true, least)
end

local leading = true
if leader == '' then
  price, leader, leader_max = amount, user, top
elseif top > leader_max then
  price = math.max(amount, math.min(top, leader_max + step(leader_max)))
  leader, leader_max = user, top
else
  price = math.min(leader_max, top + step(top))
  leading = false
end
if not sudden_death and anti_snipe_ms > 0 and ends_at - now < anti_snipe_ms then
  ends_at = now + anti_snipe_ms
end
-- The counts in the same write (read above, in this atomic step): each call costs the
-- store more than the command itself.
redis.call('HSET', auction_key, 'price', price, 'leader', leader, 'leader_max', leader_max,
  'ends_at', ends_at, 'bids', tonumber(a[10] or '0') + 1, 'version', tonumber(a[11] or '0') + 1)
redis.call('HINCRBY', counters_key, 'bids', 1)
analytics_visitor(bidders_set_key, bidders_hll_key, user, analytics)
local answer = {ok = true, leading = leading, amount_cents = price}
if not leading then
  answer.reason = 'outbid'
end
return {'new', remember(answer), 1}
