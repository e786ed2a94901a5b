-- Shield mode on or off, in one step with its audit entry. On: the room's automod
-- settings and slow mode are saved as they are, then the shield preset is applied (its
-- level and slow mode are minimums: a stricter room stays stricter). Off: the saved
-- settings are put back exactly (changes made while shielded are dropped). Turning on a
-- shield that is on, or off one that is off, changes nothing and logs nothing.
-- KEYS: automod hash, moderation hash, audit stream.
-- ARGV: "1" on / "0" off, actor, actor role, audit log size, shield level, shield slow
--       mode (s), then field, value pairs the preset sets.
-- Returns {"ok", changed ("1"/"0"), slow mode now (s), audit id ('' when unchanged)}.
local automod_key = KEYS[1]
local moderation_key = KEYS[2]
local audit_key = KEYS[3]
local turn_on = ARGV[1] == '1'
local actor = ARGV[2]
local actor_role = ARGV[3]
local audit_max = ARGV[4]
local shield_level = tonumber(ARGV[5])
local shield_slow_s = tonumber(ARGV[6])

--! include review

local is_on = redis.call('HGET', automod_key, 'shield') == '1'
local slow_now = redis.call('HGET', moderation_key, 'slow_mode_s') or ''
if is_on == turn_on then
  return {'ok', '0', slow_now == '' and '0' or slow_now, ''}
end

local slow_after
if turn_on then
  local saved = {fields = {}, slow_mode_s = slow_now}
  local current = redis.call('HGETALL', automod_key)
  for i = 1, #current, 2 do
    saved.fields[current[i]] = current[i + 1]
  end
  local level = math.max(tonumber(saved.fields.level or '0'), shield_level)
  redis.call('HSET', automod_key, 'level', level, 'shield', '1', 'saved', cjson.encode(saved))
  for i = 7, #ARGV, 2 do
    redis.call('HSET', automod_key, ARGV[i], ARGV[i + 1])
  end
  slow_after = math.max(tonumber(slow_now == '' and '0' or slow_now), shield_slow_s)
  if slow_after > 0 then
    redis.call('HSET', moderation_key, 'slow_mode_s', slow_after)
  end
else
  local saved = cjson.decode(redis.call('HGET', automod_key, 'saved'))
  redis.call('DEL', automod_key)
  for field, value in pairs(saved.fields) do
    redis.call('HSET', automod_key, field, value)
  end
  if saved.slow_mode_s == '' then
    redis.call('HDEL', moderation_key, 'slow_mode_s')
    slow_after = 0
  else
    redis.call('HSET', moderation_key, 'slow_mode_s', saved.slow_mode_s)
    slow_after = tonumber(saved.slow_mode_s)
  end
end
local audit_id = audit_append(audit_key, audit_max, actor, actor_role,
  turn_on and 'shield-on' or 'shield-off', '', '', 0, 0, '', '')
return {'ok', '1', tostring(slow_after), audit_id}
