-- Close a giveaway's entries once its end has passed by the store's clock (or now, when
-- the anchor ends it), and hand back what the draw needs: the secret seed and every
-- entrant. A giveaway closed but not yet drawn (a node stopped in between) hands the
-- same back again, so any node can finish the draw.
-- KEYS: giveaway hash, entrants set.
-- ARGV: force ("1": end now).
-- Returns {outcome, ends_at, seed, entrants}: outcome is "closed" (now or before, not
-- drawn), "drawn" (finished before), "not_due" (ends_at: when to try again) or "missing".
local giveaway_key = KEYS[1]
local entrants_key = KEYS[2]
local force = ARGV[1] == '1'

local g = redis.call('HMGET', giveaway_key, 'state', 'ends_at', 'seed')
if not g[1] then
  return {'missing', 0, '', {}}
end
local ends_at = tonumber(g[2])
if g[1] == 'drawn' then
  return {'drawn', ends_at, '', {}}
end
if g[1] == 'open' then
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
  if now < ends_at and not force then
    return {'not_due', ends_at, '', {}}
  end
  if now < ends_at then
    ends_at = now
  end
  redis.call('HSET', giveaway_key, 'state', 'closed', 'closed_at', now, 'ends_at', ends_at)
end
return {'closed', ends_at, g[3], redis.call('SMEMBERS', entrants_key)}
