// The Lua behind resumable streams on Upstash: each operation of the stream contract is one EVAL
// (one billed command, one round trip), atomic in Redis, on Redis' own clock (TIME), so no two
// isolates can both hold a stream and a stale producer can never write after its stream ended.
//
// Keys, per topic: `<prefix>:t:<topic>` (the topic's stream, as for publish), `<prefix>:s:<topic>`
// (the stream's state, a hash) and `<prefix>:p:<topic>` (presence: a sorted set of hub ids, each
// scored with the time its last report stops counting).
//
// State fields: `status` ("running" | "ended"), `f` (the fence), `lease` (ms), `start` (the
// position before the first event), `ttl` (ms), `seq` (the last applied append), `seen` (until
// when a reader was last known present, ms), `cancel` (the reason, JSON), `end` (the end's data,
// JSON), `endId` (its position).

// Shared by the scripts below: Redis' clock; an append (XADD each JSON event, trim by count
// recording the newest deleted id, PUBLISH one notification in the live feed's format); the end.
// XSETID … MAXDELETEDID because Redis 7.0 does not record what XTRIM deletes (see PUBLISH_SCRIPT).
const LIB = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function fmt(n) return string.format('%.0f', n) end
local function append(stream, channel, topicJson, events, maxLen)
  local ids, parts = {}, {}
  for i = 1, #events do
    local id = redis.call('XADD', stream, '*', 'e', events[i])
    ids[#ids + 1] = id
    parts[#parts + 1] = '["' .. id .. '",' .. events[i] .. ']'
  end
  if #ids == 0 then return ids end
  if maxLen > 0 then
    local over = redis.call('XLEN', stream) - maxLen
    if over > 0 then
      local gone = redis.call('XRANGE', stream, '-', '+', 'COUNT', over)
      redis.call('XTRIM', stream, 'MAXLEN', maxLen)
      redis.call('XSETID', stream, ids[#ids], 'MAXDELETEDID', gone[#gone][1])
    end
  end
  redis.call('PUBLISH', channel, '{"t":' .. topicJson .. ',"e":[' .. table.concat(parts, ',') .. ']}')
  return ids
end
local function finish(stream, state, presence, channel, topicJson, endJson, ttl, maxLen)
  local ids = append(stream, channel, topicJson, { '{"event":"herald.end","data":' .. endJson .. '}' }, maxLen)
  redis.call('HSET', state, 'status', 'ended', 'end', endJson, 'endId', ids[1])
  redis.call('DEL', presence)
  redis.call('PEXPIRE', stream, ttl)
  redis.call('PEXPIRE', state, ttl)
  return ids[1]
end
local LOST = '{"status":"lost"}'
-- Ends a stream whose lease expired: the fence changes too, so its producer can't write again.
local function finishLost(stream, state, presence, channel, topicJson, ttl, maxLen)
  redis.call('HSET', state, 'f', '')
  return finish(stream, state, presence, channel, topicJson, LOST, ttl, maxLen)
end
`;

/**
 * Claim a topic's stream.
 *   KEYS[1] epoch key, KEYS[2] stream, KEYS[3] state, KEYS[4] presence
 *   ARGV[1] epoch to set if the store has none, ARGV[2] the new fence, ARGV[3] owner,
 *   ARGV[4] leaseMs, ARGV[5] ttlMs, ARGV[6] notify channel, ARGV[7] the topic as JSON,
 *   ARGV[8] max events per stream (0 = none)
 * Returns JSON `[epoch, start, fence | null, end | null]`: a fence only for a new stream (or for
 * this very claim sent again, when the client retried after a lost reply: same fence); a running
 * stream whose lease expired is ended `lost` first.
 */
export const CLAIM_STREAM_SCRIPT = LIB + `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  redis.call('SET', KEYS[1], ARGV[1])
  epoch = ARGV[1]
end
local now = nowMs()
local st = redis.call('HMGET', KEYS[3], 'status', 'lease', 'start', 'end', 'ttl', 'f')
if st[1] == 'running' and st[6] == ARGV[2] then
  return '["' .. epoch .. '","' .. st[3] .. '","' .. ARGV[2] .. '",null]'
end
if not st[1] then
  local head = '0-0'
  if redis.call('EXISTS', KEYS[2]) == 1 then
    local info = redis.call('XINFO', 'STREAM', KEYS[2])
    for j = 1, #info, 2 do
      if info[j] == 'last-generated-id' then head = info[j + 1] end
    end
  end
  local leaseMs = tonumber(ARGV[4])
  redis.call('HSET', KEYS[3], 'status', 'running', 'f', ARGV[2], 'owner', ARGV[3],
    'lease', fmt(now + leaseMs), 'start', head, 'ttl', ARGV[5], 'seq', '0', 'seen', fmt(now))
  local expireMs = leaseMs + tonumber(ARGV[5])
  redis.call('PEXPIRE', KEYS[3], expireMs)
  redis.call('PEXPIRE', KEYS[2], expireMs)
  return '["' .. epoch .. '","' .. head .. '","' .. ARGV[2] .. '",null]'
end
local ended = st[4]
if st[1] == 'running' and tonumber(st[2]) < now then
  finishLost(KEYS[2], KEYS[3], KEYS[4], ARGV[6], ARGV[7], tonumber(st[5]), tonumber(ARGV[8]))
  ended = LOST
end
return '["' .. epoch .. '","' .. st[3] .. '",null,' .. (ended or 'null') .. ']'
`;

/**
 * Append as the fence holder: events, maybe the end, lease renewal, cancel and presence.
 *   KEYS[1] stream, KEYS[2] state, KEYS[3] presence
 *   ARGV[1] fence, ARGV[2] seq, ARGV[3] leaseMs, ARGV[4] ttlMs, ARGV[5] notify channel,
 *   ARGV[6] the topic as JSON, ARGV[7] max events per stream, ARGV[8] the end's data as JSON or
 *   "" (no end), ARGV[9..] one JSON event each
 * Returns JSON `{"lost":true}` (nothing written: not this fence's running stream) or
 * `{"ids":[...],"cancel":<reason JSON or null>,"readers":n,"unwatchedMs":ms}`. An append whose
 * seq was applied already writes nothing and answers `ids: []`, also after the end it wrote (the
 * client retried after a lost reply); an end written by another (`lost`) changed the fence.
 */
export const APPEND_STREAM_SCRIPT = LIB + `
local now = nowMs()
local st = redis.call('HMGET', KEYS[2], 'status', 'f', 'seq', 'cancel', 'seen')
if not st[1] or st[2] ~= ARGV[1] then return '{"lost":true}' end
local applied = tonumber(ARGV[2]) <= tonumber(st[3])
if st[1] ~= 'running' and not applied then return '{"lost":true}' end
local ids = {}
local ended = st[1] ~= 'running'
if not applied then
  local events = {}
  for i = 9, #ARGV do events[#events + 1] = ARGV[i] end
  ids = append(KEYS[1], ARGV[5], ARGV[6], events, tonumber(ARGV[7]))
  if ARGV[8] ~= '' then
    ids[#ids + 1] = finish(KEYS[1], KEYS[2], KEYS[3], ARGV[5], ARGV[6], ARGV[8], tonumber(ARGV[4]), tonumber(ARGV[7]))
    ended = true
    redis.call('HSET', KEYS[2], 'seq', ARGV[2])
  else
    local leaseMs = tonumber(ARGV[3])
    redis.call('HSET', KEYS[2], 'seq', ARGV[2], 'lease', fmt(now + leaseMs), 'ttl', ARGV[4])
    local expireMs = leaseMs + tonumber(ARGV[4])
    redis.call('PEXPIRE', KEYS[2], expireMs)
    redis.call('PEXPIRE', KEYS[1], expireMs)
  end
end
local readers, unwatched = 0, 0
if not ended then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', fmt(now))
  readers = redis.call('ZCARD', KEYS[3])
  if readers == 0 then unwatched = math.max(0, now - (tonumber(st[5]) or now)) end
end
local idsJson = '[]'
if #ids > 0 then idsJson = '["' .. table.concat(ids, '","') .. '"]' end
return '{"ids":' .. idsJson .. ',"cancel":' .. (st[4] or 'null') .. ',"readers":' .. readers ..
  ',"unwatchedMs":' .. fmt(unwatched) .. '}'
`;

/**
 * Ask a running stream to cancel, and tell the producer's isolate on the live channel.
 *   KEYS[1] stream, KEYS[2] state, KEYS[3] presence
 *   ARGV[1] notify channel, ARGV[2] the topic as JSON, ARGV[3] the reason as JSON,
 *   ARGV[4] max events per stream
 * Returns 1 if a running stream was asked; 0 if there was none (one whose lease expired is ended
 * `lost` instead). The first reason given stays.
 */
export const CANCEL_STREAM_SCRIPT = LIB + `
local now = nowMs()
local st = redis.call('HMGET', KEYS[2], 'status', 'lease', 'cancel', 'ttl')
if st[1] ~= 'running' then return 0 end
if tonumber(st[2]) < now then
  finishLost(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], tonumber(st[4]), tonumber(ARGV[4]))
  return 0
end
local reason = st[3]
if not reason then
  reason = ARGV[3]
  redis.call('HSET', KEYS[2], 'cancel', reason)
end
redis.call('PUBLISH', ARGV[1], '{"c":' .. ARGV[2] .. ',"r":' .. reason .. '}')
return 1
`;

/**
 * One hub's presence report for all its stream topics; ends as `lost` those whose lease expired.
 *   KEYS: per topic its stream, state and presence keys (3 each): first the topics the hub reads
 *   (ARGV[5] of them), then the topics it no longer reads
 *   ARGV[1] owner, ARGV[2] ttlMs, ARGV[3] notify channel, ARGV[4] max events per stream,
 *   ARGV[5] how many topics it reads, ARGV[6..] each of those topics as JSON
 * Returns JSON: the topics (as given) it ended `lost`.
 */
export const TOUCH_PRESENCE_SCRIPT = LIB + `
local now = nowMs()
local ttl = tonumber(ARGV[2])
local reading = tonumber(ARGV[5])
local ended = {}
for i = 1, #KEYS / 3 do
  local stream, state, presence = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local st = redis.call('HMGET', state, 'status', 'lease', 'ttl', 'seen')
  if st[1] == 'running' then
    if i <= reading then
      if tonumber(st[2]) < now then
        finishLost(stream, state, presence, ARGV[3], ARGV[5 + i], tonumber(st[3]), tonumber(ARGV[4]))
        ended[#ended + 1] = ARGV[5 + i]
      else
        redis.call('ZADD', presence, fmt(now + ttl), ARGV[1])
        redis.call('PEXPIRE', presence, fmt(ttl * 2))
        if (tonumber(st[4]) or 0) < now + ttl then redis.call('HSET', state, 'seen', fmt(now + ttl)) end
      end
    elseif redis.call('ZREM', presence, ARGV[1]) == 1 and redis.call('ZCARD', presence) == 0 then
      redis.call('HSET', state, 'seen', fmt(now))
    end
  end
end
return '[' .. table.concat(ended, ',') .. ']'
`;
