/**
 * The fleet output cache's Lua scripts: every change to the shared index is one atomic step, so several
 * replicas storing, hitting and evicting at once keep the byte count, the LRU order and the blob
 * reference counts exact. Entry keys are built in Lua from the cache prefix (ARGV[1]) because which
 * entries an eviction drops is only known inside the script: a single Redis instance, not a Cluster.
 *
 * Fixed KEYS of every script but the flight ones: lru, created, refs, bytes, stats (keys.ts CacheKeys).
 * Fixed ARGV: cache prefix, how long a blob deletion may take (ms), now (ms), time to live (ms).
 * Entry hash fields: output (JSON with blob refs), blobs (JSON [{sha, size}]), bytes, json_bytes,
 * created_at.
 *
 * Blob files are deleted by the process a script names them to, after the script marked each one
 * `deleting` (refs already zero); it unlinks the file, then clears the mark. A writer whose PUT finds
 * a mark on one of its blobs waits for the mark to go, then writes the file again: so a blob an entry
 * references is never deleted after that entry was stored.
 */
import { Script } from "./redis.js";

const HELPERS = `
local P, DELETE_MS, NOW, TTL = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local LRU, CREATED, REFS, BYTES, STATS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local orphans = {}
local function drop(k, counter)
  local ekey = P .. 'entry:' .. k
  local h = redis.call('HMGET', ekey, 'blobs', 'json_bytes')
  redis.call('DEL', ekey)
  redis.call('ZREM', LRU, k)
  redis.call('ZREM', CREATED, k)
  if not h[1] then return end
  for _, b in ipairs(cjson.decode(h[1])) do
    if redis.call('HINCRBY', REFS, b.sha, -1) <= 0 then
      redis.call('HDEL', REFS, b.sha)
      redis.call('DECRBY', BYTES, b.size)
      redis.call('SET', P .. 'deleting:' .. b.sha, '1', 'PX', DELETE_MS)
      orphans[#orphans + 1] = b.sha
    end
  end
  redis.call('DECRBY', BYTES, tonumber(h[2] or '0'))
  if counter then redis.call('HINCRBY', STATS, counter, 1) end
end
-- The LRU order: a fleet-wide use counter, so uses in the same millisecond still have an order.
local function tick() return redis.call('HINCRBY', STATS, 'clock', 1) end
local function expire()
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', CREATED, '-inf', NOW - TTL, 'LIMIT', 0, 64)) do
    drop(k, 'expired')
  end
end
`;

/**
 * A lookup: drops expired entries, then returns {1, orphans, output, blobs, bytes, created_at} (and
 * marks the entry used) or {0, orphans}. ARGV after the fixed ones: the entry key.
 */
export const CACHE_GET = new Script(
  "cache-get",
  `${HELPERS}
expire()
local k = ARGV[5]
local h = redis.call('HMGET', P .. 'entry:' .. k, 'output', 'blobs', 'bytes', 'created_at')
if not h[1] then return {0, orphans} end
redis.call('ZADD', LRU, tick(), k)
return {1, orphans, h[1], h[2], h[3], h[4]}
`,
);

/**
 * Stores an entry (replacing one under the same key), then evicts the least recently used others
 * until the byte budget holds. ARGV after the fixed ones: key, output JSON, blobs JSON, JSON bytes,
 * max bytes, then sha, size pairs (distinct shas). Returns {blobs being deleted right now, orphans}.
 */
export const CACHE_PUT = new Script(
  "cache-put",
  `${HELPERS}
expire()
local k, json_bytes, max_bytes = ARGV[5], tonumber(ARGV[8]), tonumber(ARGV[9])
local total = json_bytes
local redo = {}
-- The new references first: a blob the replaced entry shares with this one never reaches zero.
for i = 10, #ARGV, 2 do
  local sha, size = ARGV[i], tonumber(ARGV[i + 1])
  total = total + size
  if redis.call('HINCRBY', REFS, sha, 1) == 1 then redis.call('INCRBY', BYTES, size) end
  if redis.call('EXISTS', P .. 'deleting:' .. sha) == 1 then redo[#redo + 1] = sha end
end
drop(k, nil)
redis.call('INCRBY', BYTES, json_bytes)
redis.call('HSET', P .. 'entry:' .. k, 'output', ARGV[6], 'blobs', ARGV[7], 'bytes', total,
  'json_bytes', json_bytes, 'created_at', NOW)
redis.call('ZADD', LRU, tick(), k)
redis.call('ZADD', CREATED, NOW, k)
redis.call('HINCRBY', STATS, 'stores', 1)
while tonumber(redis.call('GET', BYTES) or '0') > max_bytes do
  local victim = redis.call('ZRANGE', LRU, 0, 0)[1]
  if not victim or victim == k then break end
  drop(victim, 'evictions')
end
return {redo, orphans}
`,
);

/** Forgets one entry (its blob went missing). ARGV after the fixed ones: key. Returns the orphans. */
export const CACHE_DROP = new Script(
  "cache-drop",
  `${HELPERS}
drop(ARGV[5], nil)
return orphans
`,
);

/**
 * Blobs written for an entry that was not stored (larger than the budget): those no entry references
 * and nobody deletes yet are marked and returned for deletion. ARGV after the fixed ones: shas.
 */
export const CACHE_UNREF = new Script(
  "cache-unref",
  `${HELPERS}
for i = 5, #ARGV do
  local sha = ARGV[i]
  if redis.call('HEXISTS', REFS, sha) == 0 and redis.call('EXISTS', P .. 'deleting:' .. sha) == 0 then
    redis.call('SET', P .. 'deleting:' .. sha, '1', 'PX', DELETE_MS)
    orphans[#orphans + 1] = sha
  end
end
return orphans
`,
);

/** Keeps a flight lock alive while its holder runs. KEYS: flight. ARGV: token, ms. Returns 1, or 0 if lost. */
export const FLIGHT_RENEW = new Script(
  "cache-flight-renew",
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`,
);

/** Releases a flight lock if the caller still holds it. KEYS: flight. ARGV: token. */
export const FLIGHT_RELEASE = new Script(
  "cache-flight-release",
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`,
);
