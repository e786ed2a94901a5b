-- Voucher claims at a buy (sales_reserve includes it). A claim takes off its fixed
-- discount_cents or percent_off of the amount (rounded down), never more than the
-- amount; it applies when it is the buyer's, unused, unexpired and the amount reaches
-- its min_spend_cents. One claim per order: no stacking.
local function claim_value(claim, user, amount, now)
  if claim.user ~= user or claim.state ~= 'unused' then
    return -1
  end
  if claim.expires_at > 0 and now >= claim.expires_at then
    return -1
  end
  if amount < claim.min_spend_cents then
    return -1
  end
  local off = claim.discount_cents
  if claim.percent_off > 0 then
    off = math.floor(amount * claim.percent_off / 100)
  end
  return math.min(off, amount)
end

-- The claim to apply: `wanted` names one (nil and a refusal reason when it does not
-- apply), or "best" takes the user's claim worth most here (nil when none applies).
local function pick_claim(claims_key, wallets_key, wanted, user, amount, now)
  if wanted ~= 'best' then
    local raw = redis.call('HGET', claims_key, wanted)
    if not raw then
      return nil, 0, 'voucher_not_usable'
    end
    local claim = cjson.decode(raw)
    local value = claim_value(claim, user, amount, now)
    if value < 0 then
      if claim.user == user and claim.state == 'unused' and amount < claim.min_spend_cents then
        return nil, 0, 'min_spend_not_met'
      end
      return nil, 0, 'voucher_not_usable'
    end
    return claim, value, nil
  end
  local best, best_value = nil, 0
  local wallet = cjson.decode(redis.call('HGET', wallets_key, user) or '[]')
  for _, id in ipairs(wallet) do
    local raw = redis.call('HGET', claims_key, id)
    if raw then
      local claim = cjson.decode(raw)
      local value = claim_value(claim, user, amount, now)
      if value > best_value then
        best, best_value = claim, value
      end
    end
  end
  return best, best_value, nil
end
