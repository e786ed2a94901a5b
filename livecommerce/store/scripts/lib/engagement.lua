-- Count `amount` events of `kind` in the room's current time slot, for discovery. The
-- first count of a slot also deletes the slots that left the window and renews the key's
-- expiry, so the hash never holds more than a window of slots. The scripts that record
-- engagement (chat_post, likes_add, sales_reserve) include it (see store/lua.py).
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
