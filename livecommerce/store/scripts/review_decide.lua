-- A moderator's decision on one review item, in one step: the first decision on an item
-- takes it out of the queue; any later one (another moderator, a retry) finds it gone.
-- approve: a held message is appended to the chat history (a new message id) and counted;
--          a reported message that is still shown stays, and its reports are dismissed.
-- deny:    a held message is dropped; a reported message still shown is deleted from the
--          history. With timeout_s > 0 its author is also timed out.
-- KEYS: review index zset, review items hash, chat history stream, counters hash, mutes
--       hash, chatters set, audit stream, reporters set of the item's message.
-- ARGV: item id, decision ("approve" or "deny"), actor, actor role, timeout_s, history max
--       length, audit log size.
-- Returns {"ok", item JSON, chat id ('' = none published), timeout until (ms, 0 = none),
--          audit id} or {"err", "gone"}.
local index_key = KEYS[1]
local items_key = KEYS[2]
local history_key = KEYS[3]
local counters_key = KEYS[4]
local mutes_key = KEYS[5]
local chatters_key = KEYS[6]
local audit_key = KEYS[7]
local reporters_key = KEYS[8]
local item_id = ARGV[1]
local decision = ARGV[2]
local actor = ARGV[3]
local actor_role = ARGV[4]
local timeout_s = tonumber(ARGV[5])
local history_max = ARGV[6]
local audit_max = ARGV[7]

--! include review

local raw = redis.call('HGET', items_key, item_id)
if not raw then
  return {'err', 'gone'}
end
local item = cjson.decode(raw)
redis.call('HDEL', items_key, item_id)
redis.call('ZREM', index_key, item_id)
redis.call('DEL', reporters_key)

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local chat_id = ''
local until_ms = 0
if decision == 'approve' then
  if not item.visible then
    chat_id = redis.call('XADD', history_key, 'MAXLEN', '~', history_max, '*',
      'user', item.user, 'role', item.role, 'text', item.text)
    redis.call('HINCRBY', counters_key, 'chat_messages', 1)
    redis.call('SADD', chatters_key, item.user)
  end
else
  if item.visible then
    redis.call('XDEL', history_key, item.chat_id)
  end
  if timeout_s > 0 then
    until_ms = now + timeout_s * 1000
    redis.call('HSET', mutes_key, item.user, until_ms)
  end
end
local audit_id = audit_append(audit_key, audit_max, actor, actor_role, decision, item.user,
  item.rule, timeout_s, until_ms, item_id, item.rule)
return {'ok', raw, chat_id, tostring(until_ms), audit_id}
