-- The review queue of a room: held and reported messages waiting for a moderator.
-- An item is a JSON map in the items hash under its id, and its id in the index zset
-- scored by when it entered (ms). Every write drops items older than the queue's time
-- to live, then the oldest while the queue is full, and renews both keys' expiry, so an
-- idle room's queue disappears by itself. The scripts that hold or report messages
-- (chat_post, review_report) include it (see store/lua.py).
local function review_trim(index_key, items_key, now, ttl_ms, max_items)
  local stale = redis.call('ZRANGEBYSCORE', index_key, '-inf', now - ttl_ms)
  for _, old in ipairs(stale) do
    redis.call('HDEL', items_key, old)
  end
  if #stale > 0 then
    redis.call('ZREMRANGEBYSCORE', index_key, '-inf', now - ttl_ms)
  end
  local over = redis.call('ZCARD', index_key) - max_items + 1
  if over > 0 then
    for _, old in ipairs(redis.call('ZPOPMIN', index_key, over)) do
      redis.call('HDEL', items_key, old)
    end
  end
end

local function review_put(index_key, items_key, item, now, ttl_ms)
  redis.call('HSET', items_key, item.id, cjson.encode(item))
  if redis.call('ZSCORE', index_key, item.id) == false then
    redis.call('ZADD', index_key, now, item.id)
  end
  redis.call('PEXPIRE', index_key, ttl_ms)
  redis.call('PEXPIRE', items_key, ttl_ms)
end

-- Append an automated or human decision to the room's audit log; its entry id.
local function audit_append(audit_key, audit_max, actor, actor_role, action, target,
                            reason, duration_s, until_ms, message, rule)
  return redis.call('XADD', audit_key, 'MAXLEN', '~', audit_max, '*',
    'actor', actor, 'actor_role', actor_role, 'action', action, 'target', target,
    'reason', reason, 'duration_s', duration_s, 'until', until_ms,
    'message', message, 'rule', rule)
end
