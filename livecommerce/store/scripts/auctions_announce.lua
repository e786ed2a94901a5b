-- Whether an auction's state may be broadcast now: at most once per interval across
-- every node, and only when it changed since the last broadcast.
-- KEYS: auction hash. ARGV: interval (ms).
-- Returns {outcome, price, leader, ends_at, bids}: outcome is "announce" (the values
-- to broadcast), "wait" (changed, but broadcast too recently) or "same".
local auction_key = KEYS[1]
local interval_ms = tonumber(ARGV[1])

local a = redis.call('HMGET', auction_key, 'version', 'announced_version', 'announced_at',
  'price', 'leader', 'ends_at', 'bids', 'state')
if not a[1] or a[8] ~= 'open' then
  return {'same', 0, '', 0, 0}
end
local version = tonumber(a[1])
if version <= tonumber(a[2] or '0') then
  return {'same', 0, '', 0, 0}
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if now - tonumber(a[3] or '0') < interval_ms then
  return {'wait', 0, '', 0, 0}
end
redis.call('HSET', auction_key, 'announced_version', version, 'announced_at', now)
return {'announce', tonumber(a[4]), a[5] or '', tonumber(a[6]), tonumber(a[7])}
