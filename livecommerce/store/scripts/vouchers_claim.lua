-- Claim one unit of a voucher for a user, in one atomic step: the answer given before
-- to the same user for the same idempotency key on the same voucher is returned
-- unchanged; otherwise the voucher must be dropped and not ended or expired, the user
-- not banned, under the per-user limit and (when the voucher asks for it) have watched
-- the room long enough by the server's own measure; then one unit is taken, the claim
-- recorded (with a copy of the terms, so a buy needs no other key) and added to the
-- user's wallet.
-- KEYS: voucher hash, voucher users hash, voucher idempotency hash, claims hash,
--       wallets hash, watch hash, bans hash, room counters hash, the room's claimers'
--       visitor set and HyperLogLog (analytics).
-- ARGV: voucher id, user, idempotency field (Keys.idempotency_field), new claim id,
--       idempotency expiry (ms), analytics (lib/analytics.lua's exact_max; '' = off).
-- Returns {kind, answer_json, left}: kind is "new", "repeat" or "refused"; left is the
-- voucher's units left after a new claim, else -1.
local voucher_key = KEYS[1]
local users_key = KEYS[2]
local idempotency_key = KEYS[3]
local claims_key = KEYS[4]
local wallets_key = KEYS[5]
local watch_key = KEYS[6]
local bans_key = KEYS[7]
local counters_key = KEYS[8]
local claimers_set_key = KEYS[9]
local claimers_hll_key = KEYS[10]
local voucher_id = ARGV[1]
local user = ARGV[2]
local idempotency_field = ARGV[3]
local claim_id = ARGV[4]
local idempotency_ttl_ms = tonumber(ARGV[5])
local analytics = ARGV[6]

--! include analytics

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
local v = redis.call('HMGET', voucher_key, 'state', 'left', 'per_user_limit', 'expires_at',
  'watch_s_required', 'discount_cents', 'percent_off', 'min_spend_cents', 'title', 'claimed')
if not v[1] then
  return refuse('voucher_not_found', false)
end
local state = v[1]
local left = tonumber(v[2])
local per_user_limit = tonumber(v[3])
local expires_at = tonumber(v[4])
local watch_required = tonumber(v[5])
if state == 'ready' then
  return refuse('voucher_not_dropped', false)
end
if state ~= 'live' or (expires_at > 0 and now >= expires_at) then
  return refuse('voucher_ended', true)
end
if watch_required > 0 then
  local watched = tonumber(redis.call('HGET', watch_key, user) or '0')
  if watched < watch_required then
    return refuse('watch_time_short', false)
  end
end
local held = tonumber(redis.call('HGET', users_key, user) or '0')
if held >= per_user_limit then
  return refuse('limit_reached', true)
end
if left <= 0 then
  return refuse('sold_out', true)
end

-- One write for both (read above, in this atomic step): each call costs the store more
-- than the command itself.
left = left - 1
redis.call('HSET', voucher_key, 'left', left, 'claimed', tonumber(v[10] or '0') + 1)
redis.call('HINCRBY', users_key, user, 1)
redis.call('HINCRBY', counters_key, 'voucher_claims', 1)
analytics_visitor(claimers_set_key, claimers_hll_key, user, analytics)
local claim = {
  id = claim_id, voucher = voucher_id, user = user, state = 'unused',
  title = v[9], discount_cents = tonumber(v[6]), percent_off = tonumber(v[7]),
  min_spend_cents = tonumber(v[8]), expires_at = expires_at, claimed_at = now}
redis.call('HSET', claims_key, claim_id, cjson.encode(claim))
local wallet = cjson.decode(redis.call('HGET', wallets_key, user) or '[]')
table.insert(wallet, claim_id)
redis.call('HSET', wallets_key, user, cjson.encode(wallet))

local answer = cjson.encode({ok = true, claim = claim_id})
redis.call('HSET', idempotency_key, idempotency_field, answer)
redis.call('PEXPIRE', idempotency_key, idempotency_ttl_ms)
return {'new', answer, left}
