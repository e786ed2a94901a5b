-- Keep (or release) the outbox entries a consumer holds, only those it still
-- holds: a node that was thought dead must not steal back what another node
-- took over. Touching resets the idle time so XAUTOCLAIM leaves the entries
-- alone; releasing sets it to `idle` so the next node takes them at once.
-- KEYS: outbox stream.
-- ARGV: group, consumer, idle (ms; 0 to touch), entry ids...
-- Returns the ids the consumer still holds.
local stream_key = KEYS[1]
local group = ARGV[1]
local consumer = ARGV[2]
local idle = ARGV[3]

local kept = {}
for i = 4, #ARGV do
  local entry_id = ARGV[i]
  local pending = redis.call('XPENDING', stream_key, group, entry_id, entry_id, 1)
  if pending[1] and pending[1][2] == consumer then
    redis.call('XCLAIM', stream_key, group, consumer, 0, entry_id, 'IDLE', idle, 'JUSTID')
    kept[#kept + 1] = entry_id
  end
end
return kept
