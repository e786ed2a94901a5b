-- Post a chat message: ban, room mute, user mute, slow mode and the user's token
-- bucket are checked, then the message is appended to the capped history, in one step.
-- A viewer's message (not the anchor's or staff's) is also counted for discovery.
-- Automod's verdict on the text arrives as a hold rule; its rules that need the room's
-- past (repeats, copy-paste, first-time chatters, buyers-only) run here, after the
-- checks above, and a held message goes to the review queue instead of the history.
-- KEYS: history stream, buckets hash, last-post hash, counters hash, moderation hash,
--       mutes hash, bans hash, engagement hash; spam hashes of this and the previous
--       slot, chatters set, buyers set, review index zset, review items hash, audit stream,
--       other buyers set (auction winners, replay buyers: buyers too).
-- ARGV: user, role, text, privileged ("1": the room's anchor or staff, exempt from
--       mutes, slow mode and the rate limit), bucket burst, bucket refill per second,
--       history max length, engagement slot length (ms), engagement slots in the window;
--       hold rule ('' = none), fingerprint ('' = no spam rules), repeat limit, copy-paste
--       limit (0 = off), spam slot length (ms), hold first-time chatters ("1"), buyers
--       only ("1"), review queue time to live (ms), review queue size, audit log size,
--       idle expiry (ms) of the buckets and slow-mode times.
-- Returns {"ok", id, ts_ms}, {"held", id, ts_ms, rule} or {"err", code, until_ms}.
local history_key = KEYS[1]
local buckets_key = KEYS[2]
local last_post_key = KEYS[3]
local counters_key = KEYS[4]
local moderation_key = KEYS[5]
local mutes_key = KEYS[6]
local bans_key = KEYS[7]
local engagement_key = KEYS[8]
local spam_key = KEYS[9]
local spam_before_key = KEYS[10]
local chatters_key = KEYS[11]
local buyers_key = KEYS[12]
local review_index_key = KEYS[13]
local review_items_key = KEYS[14]
local audit_key = KEYS[15]
local other_buyers_key = KEYS[16]
local user = ARGV[1]
local role = ARGV[2]
local text = ARGV[3]
local privileged = ARGV[4] == '1'
local burst = tonumber(ARGV[5])
local refill_per_ms = tonumber(ARGV[6]) / 1000
local history_max = ARGV[7]
local slot_ms = tonumber(ARGV[8])
local slots = tonumber(ARGV[9])
local hold_rule = ARGV[10]
local fingerprint = ARGV[11]
local repeat_limit = tonumber(ARGV[12])
local copy_limit = tonumber(ARGV[13])
local spam_slot_ms = tonumber(ARGV[14])
local hold_first_time = ARGV[15] == '1'
local buyers_only = ARGV[16] == '1'
local review_ttl_ms = tonumber(ARGV[17])
local review_max = tonumber(ARGV[18])
local audit_max = ARGV[19]
local idle_expiry_ms = tonumber(ARGV[20])

--! include engagement
--! include review
--! include automod

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

if redis.call('HEXISTS', bans_key, user) == 1 then
  return {'err', 'banned', '0'}
end
if not privileged then
  local room_muted = tonumber(redis.call('HGET', moderation_key, 'muted_until') or '0')
  if room_muted == -1 or room_muted > now then
    return {'err', 'room_muted', tostring(room_muted)}
  end
  local user_muted = tonumber(redis.call('HGET', mutes_key, user) or '0')
  if user_muted > now then
    return {'err', 'muted', tostring(user_muted)}
  end
  local slow_s = tonumber(redis.call('HGET', moderation_key, 'slow_mode_s') or '0')
  if slow_s > 0 then
    local next_at = tonumber(redis.call('HGET', last_post_key, user) or '0') + slow_s * 1000
    if next_at > now then
      return {'err', 'slow_mode', tostring(next_at)}
    end
  end
end

if buyers_only and not privileged and redis.call('SISMEMBER', buyers_key, user) == 0 and
   redis.call('SISMEMBER', other_buyers_key, user) == 0 then
  return {'err', 'buyers_only', '0'}
end

if not privileged then
  local tokens = burst
  local saved = redis.call('HGET', buckets_key, user)
  if saved then
    local sep = string.find(saved, ':', 1, true)
    local level = tonumber(string.sub(saved, 1, sep - 1))
    local at = tonumber(string.sub(saved, sep + 1))
    tokens = math.min(burst, level + math.max(0, now - at) * refill_per_ms)
  end
  if tokens < 1 then
    return {'err', 'rate_limited', tostring(now + math.ceil((1 - tokens) / refill_per_ms))}
  end
  redis.call('HSET', buckets_key, user, string.format('%.4f', tokens - 1) .. ':' .. now)
  redis.call('PEXPIRE', buckets_key, idle_expiry_ms)
  redis.call('HSET', last_post_key, user, now)
  redis.call('PEXPIRE', last_post_key, idle_expiry_ms)
end

if not privileged then
  local rule = hold_rule
  if rule == '' then
    rule = automod_spam_rule(spam_key, spam_before_key, fingerprint, user, repeat_limit, copy_limit,
      spam_slot_ms)
  end
  if not rule and hold_first_time and redis.call('SISMEMBER', chatters_key, user) == 0 then
    rule = 'first_time'
  end
  if rule then
    review_trim(review_index_key, review_items_key, now, review_ttl_ms, review_max)
    local held_id = 'h' .. now .. '-' .. redis.call('HINCRBY', review_items_key, '#seq', 1)
    review_put(review_index_key, review_items_key, {id = held_id, user = user, role = role, text = text,
      rule = rule, source = 'automod', ts = now, visible = false, chat_id = '', reports = 0,
      reasons = {}}, now, review_ttl_ms)
    audit_append(audit_key, audit_max, 'automod', 'automod', 'hold', user, rule, 0, 0,
      held_id, rule)
    return {'held', held_id, tostring(now), rule}
  end
end

local id = redis.call('XADD', history_key, 'MAXLEN', '~', history_max, '*',
  'user', user, 'role', role, 'text', text)
redis.call('HINCRBY', counters_key, 'chat_messages', 1)
redis.call('SADD', chatters_key, user)
if not privileged then
  count_engagement(engagement_key, 'chat', 1, now, slot_ms, slots)
end
return {'ok', id, tostring(now)}
