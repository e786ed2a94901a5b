-- A viewer reports a chat message, in one step: the reporter's report budget, one report
-- per reporter and message, the message's review item (created by the first report,
-- counting reporters and keeping their last reasons), and with `threshold` distinct
-- reporters the message is taken out of the history and held for review.
-- KEYS: chat history stream, reporters set of the message, the reporter's report counter,
--       review index zset, review items hash, audit stream.
-- ARGV: message id, reporter, reason, threshold (0 = reports never hold), review queue
--       time to live (ms), review queue size, audit log size, reports per window, window
--       (ms).
-- Returns {"ok", reporters, held now ("1"/"0"), item JSON}, {"dup", reporters} or
--         {"err", code, until_ms}.
local history_key = KEYS[1]
local reporters_key = KEYS[2]
local budget_key = KEYS[3]
local index_key = KEYS[4]
local items_key = KEYS[5]
local audit_key = KEYS[6]
local message_id = ARGV[1]
local reporter = ARGV[2]
local reason = ARGV[3]
local threshold = tonumber(ARGV[4])
local review_ttl_ms = tonumber(ARGV[5])
local review_max = tonumber(ARGV[6])
local audit_max = ARGV[7]
local per_window = tonumber(ARGV[8])
local window_ms = tonumber(ARGV[9])

--! include review

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local raw = redis.call('HGET', items_key, message_id)
local item
if raw then
  item = cjson.decode(raw)
else
  local found = redis.call('XRANGE', history_key, message_id, message_id)
  if #found == 0 then
    return {'err', 'message_not_found', '0'}
  end
  local fields = {}
  local list = found[1][2]
  for i = 1, #list, 2 do
    fields[list[i]] = list[i + 1]
  end
  item = {id = message_id, user = fields.user, role = fields.role or 'viewer',
    text = fields.text, rule = 'reports', source = 'reports', ts = now, visible = true,
    chat_id = message_id, reports = 0, reasons = {}}
end
if item.user == reporter then
  return {'err', 'own_message', '0'}
end
local used = redis.call('INCR', budget_key)
if used == 1 then
  redis.call('PEXPIRE', budget_key, window_ms)
end
if used > per_window then
  return {'err', 'rate_limited', tostring(now + redis.call('PTTL', budget_key))}
end
if redis.call('SADD', reporters_key, reporter) == 0 then
  return {'dup', tostring(redis.call('SCARD', reporters_key))}
end
redis.call('PEXPIRE', reporters_key, review_ttl_ms)
local count = redis.call('SCARD', reporters_key)
item.reports = count
if type(item.reasons) ~= 'table' then
  item.reasons = {}
end
table.insert(item.reasons, reason)
while #item.reasons > 5 do
  table.remove(item.reasons, 1)
end
local held = '0'
if threshold > 0 and count >= threshold and item.visible then
  redis.call('XDEL', history_key, message_id)
  item.visible = false
  held = '1'
  audit_append(audit_key, audit_max, 'automod', 'automod', 'hold', item.user, 'reports', 0, 0,
    message_id, 'reports')
end
if not raw then
  review_trim(index_key, items_key, now, review_ttl_ms, review_max)
end
review_put(index_key, items_key, item, now, review_ttl_ms)
return {'ok', tostring(count), held, cjson.encode(item)}
