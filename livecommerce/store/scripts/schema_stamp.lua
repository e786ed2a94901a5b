-- Stamp a finished migration step, only while holding the migration lock.
-- KEYS: version key, lock key. ARGV: lock token, version, release (1: delete the lock,
-- 0: extend it by lock_ms), lock_ms.
-- Returns 1 when stamped, 0 when the lock is not (or no longer) this caller's.
local version_key = KEYS[1]
local lock_key = KEYS[2]
local token = ARGV[1]
local version = ARGV[2]
local release = ARGV[3]
local lock_ms = tonumber(ARGV[4])

if redis.call('GET', lock_key) ~= token then
  return 0
end
redis.call('SET', version_key, version)
if release == '1' then
  redis.call('DEL', lock_key)
else
  redis.call('PEXPIRE', lock_key, lock_ms)
end
return 1
