-- Sum a room's discovery counts over the window, reading only: the fields of the slots
-- still in the window are added up here so a listing of many rooms gets three numbers
-- per room back instead of every slot.
-- KEYS: engagement hash.
-- ARGV: engagement slot length (ms), engagement slots in the window.
-- Returns {chat, likes, orders}.
local engagement_key = KEYS[1]
local slot_ms = tonumber(ARGV[1])
local slots = tonumber(ARGV[2])

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local first_kept = math.floor(now / slot_ms) - slots + 1
local totals = {chat = 0, likes = 0, orders = 0}
local fields = redis.call('HGETALL', engagement_key)
for i = 1, #fields, 2 do
  local kind, slot = string.match(fields[i], '^(%a+):(%d+)$')
  if kind and totals[kind] and tonumber(slot) >= first_kept then
    totals[kind] = totals[kind] + tonumber(fields[i + 1])
  end
end
return {totals.chat, totals.likes, totals.orders}
