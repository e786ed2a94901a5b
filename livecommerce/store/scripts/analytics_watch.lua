-- Credit watch time to the room's signed-in viewers, as one node saw them since its last
-- report, and note the room's viewers now in the current 10 s slot (retention).
-- Each segment is a span of time a user was connected on this node, given as ms before
-- now (the store's clock, so nodes' clocks do not matter). A user's latest covered span
-- [from, until] is kept: time another node (or another of this node's sockets) already
-- credited is not credited again; a segment before that span is credited in full. Time
-- is kept in ms ("ms:from:until" in the span hash) and published as whole seconds.
-- KEYS: room hash, watch hash (user -> whole seconds), span hash, analytics hash,
--       presence hash.
-- ARGV: USER, START_AGO_MS, END_AGO_MS for each segment (a user's segments in time
--       order).
-- Returns {outcome, users credited}: outcome "counted" or "ended" (nothing written).
local room_key = KEYS[1]
local watch_key = KEYS[2]
local span_key = KEYS[3]
local counts_key = KEYS[4]
local presence_key = KEYS[5]

local status = redis.call('HGET', room_key, 'status')
if status ~= 'live' and status ~= 'scheduled' then
  return {'ended', 0}
end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local credited = 0
for i = 1, #ARGV, 3 do
  local user = ARGV[i]
  local s = now - tonumber(ARGV[i + 1])
  local e = now - tonumber(ARGV[i + 2])
  if e > s then
    local total, from, upto = 0, nil, nil
    local span = redis.call('HGET', span_key, user)
    if span then
      local a, b, c = string.match(span, '^(%d+):(%d+):(%d+)$')
      total, from, upto = tonumber(a), tonumber(b), tonumber(c)
    end
    local credit
    if not from or s >= upto then
      credit = e - s
      if not from or s > upto then from = s end
      upto = e
    elseif e <= from then
      credit = e - s
    else
      credit = math.max(0, from - s) + math.max(0, e - upto)
      from = math.min(from, s)
      upto = math.max(upto, e)
    end
    total = total + credit
    redis.call('HSET', span_key, user, string.format('%d:%d:%d', total, from, upto))
    redis.call('HSET', watch_key, user, string.format('%d', math.floor(total / 1000)))
    credited = credited + 1
  end
end

local viewers = 0
local entries = redis.call('HGETALL', presence_key)
for i = 1, #entries, 2 do
  local value = entries[i + 1]
  local sep = string.find(value, ':', 1, true)
  if sep and tonumber(string.sub(value, sep + 1)) >= now then
    viewers = viewers + tonumber(string.sub(value, 1, sep - 1))
  end
end
local slot_field = 't:' .. string.format('%d', math.floor(now / 10000)) .. ':viewers'
if viewers > tonumber(redis.call('HGET', counts_key, slot_field) or '0') then
  redis.call('HSET', counts_key, slot_field, viewers)
end
return {'counted', credited}
