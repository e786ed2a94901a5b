-- Add a batch of likes to the room's total and count the viewers' ones for discovery,
-- in one step.
-- KEYS: counters hash, engagement hash.
-- ARGV: likes, of which from viewers (not the anchor or staff), engagement slot length
--       (ms), engagement slots in the window.
-- Returns the room's new like total.
local counters_key = KEYS[1]
local engagement_key = KEYS[2]
local count = tonumber(ARGV[1])
local engaging = tonumber(ARGV[2])
local slot_ms = tonumber(ARGV[3])
local slots = tonumber(ARGV[4])

-- Count `amount` events of `kind` in the room's current time slot, for discovery. The
-- first count of a slot also deletes the slots that left the window and renews the key's
-- expiry, so the hash never holds more than a window of slots. (The same function is in
-- chat_post.lua, likes_add.lua and sales_reserve.lua: scripts cannot share code.)
local function count_engagement(key, kind, amount, now, slot_ms, slots)
  local slot = math.floor(now / slot_ms)
  if redis.call('HINCRBY', key, kind .. ':' .. string.format('%d', slot), amount) ~= amount then
    return
  end
  local first_kept = slot - slots + 1
  for _, field in ipairs(redis.call('HKEYS', key)) do
    local at = tonumber(string.match(field, ':(%d+)$'))
    if at == nil or at < first_kept then
      redis.call('HDEL', key, field)
    end
  end
  redis.call('PEXPIRE', key, (slots + 1) * slot_ms)
end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local total = redis.call('HINCRBY', counters_key, 'likes', count)
if engaging > 0 then
  count_engagement(engagement_key, 'likes', engaging, now, slot_ms, slots)
end
return total
