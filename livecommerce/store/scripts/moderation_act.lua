-- Apply one moderation action and append it to the audit log, in one step.
-- KEYS: moderation hash, mutes hash, bans hash, audit stream, chat history stream.
-- ARGV: action, actor, actor role, target (user or message id, may be empty),
--       reason, duration_s (0 = none), audit log max length.
-- Returns {"ok", until_ms, audit_id} or {"err", code}.
local moderation_key = KEYS[1]
local mutes_key = KEYS[2]
local bans_key = KEYS[3]
local audit_key = KEYS[4]
local history_key = KEYS[5]
local action = ARGV[1]
local actor = ARGV[2]
local actor_role = ARGV[3]
local target = ARGV[4]
local reason = ARGV[5]
local duration_s = tonumber(ARGV[6])
local audit_max = ARGV[7]

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local until_ms = 0

if action == 'mute-room' then
  if duration_s > 0 then until_ms = now + duration_s * 1000 else until_ms = -1 end
  redis.call('HSET', moderation_key, 'muted_until', until_ms)
elseif action == 'unmute-room' then
  redis.call('HDEL', moderation_key, 'muted_until')
elseif action == 'mute-user' then
  until_ms = now + duration_s * 1000
  redis.call('HSET', mutes_key, target, until_ms)
elseif action == 'unmute-user' then
  redis.call('HDEL', mutes_key, target)
elseif action == 'ban' then
  redis.call('HSET', bans_key, target, now)
elseif action == 'unban' then
  redis.call('HDEL', bans_key, target)
elseif action == 'slow-mode' then
  if duration_s > 0 then
    redis.call('HSET', moderation_key, 'slow_mode_s', duration_s)
  else
    redis.call('HDEL', moderation_key, 'slow_mode_s')
  end
elseif action == 'delete-message' then
  if redis.call('XDEL', history_key, target) == 0 then
    return {'err', 'message_not_found'}
  end
else
  return {'err', 'unknown_action'}
end

local audit_id = redis.call('XADD', audit_key, 'MAXLEN', '~', audit_max, '*',
  'actor', actor, 'actor_role', actor_role, 'action', action, 'target', target,
  'reason', reason, 'duration_s', duration_s, 'until', until_ms)
return {'ok', tostring(until_ms), audit_id}
