-- Record this node's viewer count for a room and return the room's total over
-- live nodes. A node's entry expires unless refreshed, so a dead node's viewers vanish.
-- KEYS: presence hash, counters hash.
-- ARGV: node id, local viewer count, entry lifetime (ms).
-- Returns {total, peak}.
local presence_key = KEYS[1]
local counters_key = KEYS[2]
local node = ARGV[1]
local count = tonumber(ARGV[2])
local ttl_ms = tonumber(ARGV[3])

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

if count > 0 then
  redis.call('HSET', presence_key, node, count .. ':' .. (now + ttl_ms))
else
  redis.call('HDEL', presence_key, node)
end

local total = 0
local entries = redis.call('HGETALL', presence_key)
for i = 1, #entries, 2 do
  local value = entries[i + 1]
  local sep = string.find(value, ':', 1, true)
  local expires = tonumber(string.sub(value, sep + 1))
  if expires < now then
    redis.call('HDEL', presence_key, entries[i])
  else
    total = total + tonumber(string.sub(value, 1, sep - 1))
  end
end

local peak = tonumber(redis.call('HGET', counters_key, 'peak_viewers') or '0')
if total > peak then
  peak = total
  redis.call('HSET', counters_key, 'peak_viewers', peak)
end
return {total, peak}
