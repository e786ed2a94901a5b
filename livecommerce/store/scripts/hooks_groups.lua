-- Create the hook groups missing on a room's outbox stream (at id 0, creating the
-- stream), but only while the room exists: a dispatcher that listed the room just
-- before the retention sweep deleted it must not bring back an empty outbox.
-- KEYS: room hash, outbox stream.
-- ARGV: group names.
-- Returns {'no_room', {}} or {'ok', errors}: the error of each group that could not be
-- created for another reason than existing already (say, the key is not a stream).
local room_key = KEYS[1]
local stream_key = KEYS[2]

if redis.call('EXISTS', room_key) == 0 then
  return {'no_room', {}}
end
local errors = {}
for _, group in ipairs(ARGV) do
  local reply = redis.pcall('XGROUP', 'CREATE', stream_key, group, '0', 'MKSTREAM')
  if type(reply) == 'table' and reply.err and not string.find(reply.err, 'BUSYGROUP', 1, true) then
    errors[#errors + 1] = reply.err
  end
end
return {'ok', errors}
