-- Create a room's hash unless the id is taken.
-- KEYS: room hash. ARGV: id, title, description, anchor, created_at (ms), cover_url ('' for none).
-- Returns 1 when created, 0 when the id already exists.
local room_key = KEYS[1]
local room_id = ARGV[1]
local title = ARGV[2]
local description = ARGV[3]
local anchor = ARGV[4]
local created_at = ARGV[5]
local cover_url = ARGV[6] or ''

if redis.call('EXISTS', room_key) == 1 then
  return 0
end
redis.call('HSET', room_key,
  'id', room_id,
  'title', title,
  'description', description,
  'anchor', anchor,
  'status', 'scheduled',
  'created_at', created_at,
  'cover_url', cover_url)
return 1
