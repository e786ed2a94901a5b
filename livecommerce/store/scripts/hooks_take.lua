-- Hand one node the next entries of one room's outbox for one webhook endpoint,
-- so that at most one node delivers a room's events to an endpoint at a time
-- (in order): the group's pending list is the lease.
-- 1. Entries idle for min_idle ms (their node died, or a dead letter was
--    replayed) are taken over with XAUTOCLAIM.
-- 2. If this consumer holds entries, they are returned ("held").
-- 3. Else, if another consumer holds entries, nothing is returned ("busy").
-- 4. Else the next new entries are read with XREADGROUP ("new").
-- Consumers of other nodes that hold nothing and were idle for min_idle ms are
-- deleted on the way (each node restart names a new consumer); a live node's
-- consumer comes back by itself with its next read.
-- KEYS: outbox stream.
-- ARGV: group, consumer, count, min_idle (ms).
-- Returns {kind, entries}; entries are {id, {field, value, ...}}.
local stream_key = KEYS[1]
local group = ARGV[1]
local consumer = ARGV[2]
local count = tonumber(ARGV[3])
local min_idle = ARGV[4]

redis.call('XAUTOCLAIM', stream_key, group, consumer, min_idle, '0-0', 'COUNT', count, 'JUSTID')

for _, info in ipairs(redis.call('XINFO', 'CONSUMERS', stream_key, group)) do
  local fields = {}
  for i = 1, #info, 2 do
    fields[info[i]] = info[i + 1]
  end
  if fields['name'] ~= consumer and fields['pending'] == 0
      and fields['idle'] >= tonumber(min_idle) then
    redis.call('XGROUP', 'DELCONSUMER', stream_key, group, fields['name'])
  end
end

local mine = redis.call('XPENDING', stream_key, group, '-', '+', count, consumer)
if #mine > 0 then
  local ids = {}
  for i, pending in ipairs(mine) do
    ids[i] = pending[1]
  end
  -- XCLAIM to oneself returns the entries' fields and resets their idle time.
  return {'held', redis.call('XCLAIM', stream_key, group, consumer, 0, unpack(ids))}
end

if redis.call('XPENDING', stream_key, group)[1] > 0 then
  return {'busy', {}}
end

local read = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count,
  'STREAMS', stream_key, '>')
if not read then
  return {'new', {}}
end
return {'new', read[1][2]}
