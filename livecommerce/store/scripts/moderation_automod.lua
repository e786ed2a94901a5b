-- Change a room's automod settings and append the change to the audit log, in one step.
-- KEYS: automod hash, audit stream.
-- ARGV: actor, actor role, audit log size, summary (the audit entry's reason), then
--       field, value pairs ('' removes the field: back to the preset's choice).
-- Returns {"ok", audit_id}.
local automod_key = KEYS[1]
local audit_key = KEYS[2]
local actor = ARGV[1]
local actor_role = ARGV[2]
local audit_max = ARGV[3]
local summary = ARGV[4]

--! include review

for i = 5, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', automod_key, ARGV[i])
  else
    redis.call('HSET', automod_key, ARGV[i], ARGV[i + 1])
  end
end
return {'ok', audit_append(audit_key, audit_max, actor, actor_role, 'automod', '', summary,
  0, 0, '', '')}
