-- Automod's rules that need the room's recent past, run inside chat_post after the ban,
-- mute, slow-mode and rate checks (the rules that read the text alone run in Python,
-- livecommerce/moderation/automod.py, and arrive as a hold rule).
-- Spam counts live in one hash per time slot of the spam window (the caller names the
-- current and the previous slot's keys; each expires two slots after it was written):
-- "u:FP:USER" → how often USER sent the message with fingerprint FP, "c:FP" → how many
-- users sent it. Returns the rule that holds the message, or false.
local function automod_spam_rule(cur_key, prev_key, fp, user, repeat_limit, copy_limit,
                                 slot_ms)
  if fp == '' then
    return false
  end
  local mine_field = 'u:' .. fp .. ':' .. user
  local users_field = 'c:' .. fp
  local mine = redis.call('HINCRBY', cur_key, mine_field, 1)
  local users
  if mine == 1 then
    users = redis.call('HINCRBY', cur_key, users_field, 1)
  else
    users = tonumber(redis.call('HGET', cur_key, users_field) or '0')
  end
  redis.call('PEXPIRE', cur_key, slot_ms * 2)
  mine = mine + tonumber(redis.call('HGET', prev_key, mine_field) or '0')
  users = users + tonumber(redis.call('HGET', prev_key, users_field) or '0')
  if repeat_limit > 0 and mine > repeat_limit then
    return 'repeat'
  end
  if copy_limit > 0 and users >= copy_limit then
    return 'copy_paste'
  end
  return false
end
