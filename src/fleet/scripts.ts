/**
 * The fleet's Lua scripts: each state change of a queued prediction is one atomic step in Redis, so
 * gateways and replicas never see half a transition. The `attempt` field is the fencing token: only the
 * replica holding the current attempt may write events, and a reclaim or hand-back bumps or resets it.
 *
 * Prediction hash fields: job, status, consumer, attempt, retries, cancel, outputs, entry (its current
 * queue entry id), seq, handback, nevents (events written so far, the index pub/sub batches carry).
 */
import { Script } from "./redis.js";

// Shared helpers, prepended to the scripts that need them.
const HELPERS = `
local function is_terminal(s) return s == 'succeeded' or s == 'failed' or s == 'canceled' end
local function publish(hkey, channel, id, batch)
  local k = tonumber(redis.call('HGET', hkey, 'nevents') or '0')
  redis.call('HSET', hkey, 'nevents', k + #batch)
  redis.call('PUBLISH', channel, cjson.encode({id = id, k = k, ev = batch}))
end
local function log_now(hkey, ekey, channel, id, text)
  local d = cjson.encode({source = 'stderr', data = text})
  local sid = redis.call('XADD', ekey, '*', 't', 'log', 'd', d)
  publish(hkey, channel, id, {{sid, 'log', d}})
end
local function finish_now(hkey, ekey, qkey, group, entry, channel, id, status, err, at, retention)
  local d = cjson.encode({status = status, output = cjson.null, error = err or cjson.null, at = at})
  local sid = redis.call('XADD', ekey, '*', 't', 'completed', 'd', d)
  redis.call('HSET', hkey, 'status', status)
  if entry then
    redis.call('XACK', qkey, group, entry)
    redis.call('XDEL', qkey, entry)
  end
  redis.call('PEXPIRE', hkey, retention)
  redis.call('PEXPIRE', ekey, retention)
  publish(hkey, channel, id, {{sid, 'completed', d}})
end
`;

/**
 * Gateway: queue a prediction unless the version's queue is full.
 * KEYS: queue, prediction, index, seq. ARGV: id, job, max waiting, group.
 * Returns {seq, entry}, {-1, waiting} when full, {-2} for a duplicate id.
 */
export const SUBMIT = new Script(
  "submit",
  `
redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[4], '0', 'MKSTREAM')
if redis.call('EXISTS', KEYS[2]) == 1 then return {-2} end
local waiting = redis.call('XLEN', KEYS[1]) - redis.call('XPENDING', KEYS[1], ARGV[4])[1]
if waiting >= tonumber(ARGV[3]) then return {-1, waiting} end
local entry = redis.call('XADD', KEYS[1], '*', 'id', ARGV[1])
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[2], 'job', ARGV[2], 'status', 'starting', 'attempt', 0, 'retries', 0,
  'entry', entry, 'seq', seq, 'outputs', 0, 'nevents', 0)
redis.call('ZADD', KEYS[3], seq, ARGV[1])
return {seq, entry}
`,
);

/**
 * Replica: take a delivered (or reclaimed) entry. Decides run / skip / fail per the lost-replica policy.
 * KEYS: prediction, events, queue. ARGV: consumer, policy (retry|fail), group, entry, now, retention ms,
 * events channel, id, lease seconds. Returns {'run', attempt, job} or {reason}.
 */
export const CLAIM = new Script(
  "claim",
  `${HELPERS}
local h = redis.call('HMGET', KEYS[1], 'status', 'consumer', 'attempt', 'cancel', 'outputs', 'job',
  'handback', 'retries', 'entry')
local function drop(reason)
  redis.call('XACK', KEYS[3], ARGV[3], ARGV[4])
  redis.call('XDEL', KEYS[3], ARGV[4])
  return {reason}
end
if not h[1] then return drop('gone') end
if h[9] ~= ARGV[4] then return drop('stale') end
if is_terminal(h[1]) then return drop('terminal') end
local attempt = tonumber(h[3] or '0')
if h[4] == '1' then
  finish_now(KEYS[1], KEYS[2], KEYS[3], ARGV[3], ARGV[4], ARGV[7], ARGV[8], 'canceled', nil, ARGV[5], ARGV[6])
  return {'canceled'}
end
local retries = tonumber(h[8] or '0')
if attempt > 0 and h[7] ~= '1' then
  local prev = h[2] or 'unknown'
  local why = nil
  if ARGV[2] ~= 'retry' then why = 'the retry policy is fail'
  elseif retries >= 1 then why = 'it was already retried once'
  elseif tonumber(h[5] or '0') > 0 then why = 'it had already streamed output' end
  if why then
    finish_now(KEYS[1], KEYS[2], KEYS[3], ARGV[3], ARGV[4], ARGV[7], ARGV[8], 'failed',
      'the replica running this prediction (' .. prev .. ') stopped answering (no heartbeat for ' ..
      ARGV[9] .. ' s); not retried because ' .. why, ARGV[5], ARGV[6])
    return {'failed'}
  end
  retries = retries + 1
  log_now(KEYS[1], KEYS[2], ARGV[7], ARGV[8], '[kiln] the replica running this prediction (' .. prev ..
    ') stopped answering; retrying on ' .. ARGV[1] .. '\\n')
end
redis.call('HSET', KEYS[1], 'consumer', ARGV[1], 'attempt', attempt + 1, 'handback', '0', 'retries', retries)
return {'run', tostring(attempt + 1), h[6]}
`,
);

/**
 * Replica: append events (pairs t, d) if it still holds the attempt; a `completed` event makes the
 * prediction terminal, acknowledges and deletes its queue entry and starts the retention TTL.
 * KEYS: prediction, events, queue. ARGV: attempt, events channel, id, group, retention ms, t1, d1, ...
 * Returns 1, -1 (attempt lost: another replica owns it), -2 (already terminal).
 */
export const EMIT = new Script(
  "emit",
  `${HELPERS}
local h = redis.call('HMGET', KEYS[1], 'attempt', 'status', 'entry')
if h[1] ~= ARGV[1] then return -1 end
if is_terminal(h[2]) then return -2 end
local batch = {}
for i = 6, #ARGV, 2 do
  local t, d = ARGV[i], ARGV[i + 1]
  local sid = redis.call('XADD', KEYS[2], '*', 't', t, 'd', d)
  batch[#batch + 1] = {sid, t, d}
  if t == 'start' then
    redis.call('HSET', KEYS[1], 'status', 'processing')
  elseif t == 'output' then
    redis.call('HINCRBY', KEYS[1], 'outputs', 1)
  elseif t == 'completed' then
    redis.call('HSET', KEYS[1], 'status', cjson.decode(d).status)
    if h[3] then
      redis.call('XACK', KEYS[3], ARGV[4], h[3])
      redis.call('XDEL', KEYS[3], h[3])
    end
    redis.call('PEXPIRE', KEYS[1], ARGV[5])
    redis.call('PEXPIRE', KEYS[2], ARGV[5])
  end
end
publish(KEYS[1], ARGV[2], ARGV[3], batch)
return 1
`,
);

/**
 * Replica: renew the lease of a running prediction (XCLAIM to itself resets the entry's idle time).
 * KEYS: queue, prediction. ARGV: group, consumer, entry, attempt. Returns ok, cancel, lost or done.
 */
export const HEARTBEAT = new Script(
  "heartbeat",
  `${HELPERS}
local h = redis.call('HMGET', KEYS[2], 'attempt', 'cancel', 'status', 'entry')
if not h[3] or h[1] ~= ARGV[4] or h[4] ~= ARGV[3] then return 'lost' end
if is_terminal(h[3]) then return 'done' end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
if h[2] == '1' then return 'cancel' end
return 'ok'
`,
);

/**
 * Gateway: cancel. Not yet taken by a replica -> canceled right here; running -> flag + pub/sub.
 * KEYS: prediction, events, queue. ARGV: group, events channel, cancel channel, id, now, retention ms.
 */
export const CANCEL = new Script(
  "cancel",
  `${HELPERS}
local h = redis.call('HMGET', KEYS[1], 'status', 'attempt', 'entry', 'handback')
if not h[1] then return 'missing' end
if is_terminal(h[1]) then return 'terminal' end
if (h[2] or '0') == '0' then
  finish_now(KEYS[1], KEYS[2], KEYS[3], ARGV[1], h[3], ARGV[2], ARGV[4], 'canceled', nil, ARGV[5], ARGV[6])
  return 'canceled'
end
redis.call('HSET', KEYS[1], 'cancel', '1')
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 'requested'
`,
);

/**
 * Replica (draining, or no free slot after all): give a prediction back to the queue as a new entry,
 * unless it already streamed output (then the caller fails it: a re-run would repeat the output).
 * KEYS: prediction, events, queue. ARGV: group, attempt, consumer, events channel, id.
 * Returns requeued, has-output or lost.
 */
export const HANDBACK = new Script(
  "handback",
  `${HELPERS}
local h = redis.call('HMGET', KEYS[1], 'attempt', 'entry', 'outputs', 'status')
if h[1] ~= ARGV[2] or not h[4] or is_terminal(h[4]) then return 'lost' end
if tonumber(h[3] or '0') > 0 then return 'has-output' end
if h[2] then
  redis.call('XACK', KEYS[3], ARGV[1], h[2])
  redis.call('XDEL', KEYS[3], h[2])
end
local entry = redis.call('XADD', KEYS[3], '*', 'id', ARGV[5])
redis.call('HSET', KEYS[1], 'entry', entry, 'handback', '1', 'consumer', '')
log_now(KEYS[1], KEYS[2], ARGV[4], ARGV[5], '[kiln] replica ' .. ARGV[3] ..
  ' stopped before finishing this prediction; it is back in the queue\\n')
return 'requeued'
`,
);
