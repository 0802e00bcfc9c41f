// The Lua the Upstash broker runs with EVAL: each is one billed command and one round trip, and
// runs atomically in Redis, so append + trim + notify can't be split by a crash or a reader.

/**
 * Publish a batch to one topic.
 *   KEYS[1] epoch key, KEYS[2] the topic's stream
 *   ARGV[1] epoch to set if the store has none, ARGV[2] notify channel, ARGV[3] max length (0 =
 *   none), ARGV[4] max age in ms (0 = none), ARGV[5] the topic as a JSON string, ARGV[6..] one JSON
 *   event each
 * Returns the ids, in order.
 *
 * Trimming records the newest deleted id with XSETID … MAXDELETEDID: Redis 7.0 updates
 * `max-deleted-entry-id` on XDEL only, not when XADD/XTRIM trim (checked on 7.0.15), and the hub
 * needs it to tell a reader that history before its cursor is gone.
 */
export const PUBLISH_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
local ids = {}
local parts = {}
for i = 6, #ARGV do
  local id = redis.call('XADD', KEYS[2], '*', 'e', ARGV[i])
  ids[#ids + 1] = id
  parts[#parts + 1] = '["' .. id .. '",' .. ARGV[i] .. ']'
end
local victim = false
local maxLen = tonumber(ARGV[3])
if maxLen > 0 then
  local over = redis.call('XLEN', KEYS[2]) - maxLen
  if over > 0 then
    local gone = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', over)
    victim = gone[#gone][1]
    redis.call('XTRIM', KEYS[2], 'MAXLEN', maxLen)
  end
end
local maxAge = tonumber(ARGV[4])
if maxAge > 0 then
  local t = redis.call('TIME')
  local minMs = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - maxAge)
  local gone = redis.call('XREVRANGE', KEYS[2], '(' .. minMs .. '-0', '-', 'COUNT', 1)
  if #gone > 0 then
    victim = gone[1][1]
    redis.call('XTRIM', KEYS[2], 'MINID', minMs)
  end
end
if victim then redis.call('XSETID', KEYS[2], ids[#ids], 'MAXDELETEDID', victim) end
redis.call('PUBLISH', ARGV[2], '{"t":' .. ARGV[5] .. ',"e":[' .. table.concat(parts, ',') .. ']}')
return ids
`;

/**
 * Read several topics at one moment: the epoch, then per topic its head, its newest deleted id,
 * up to COUNT entries strictly after a position (exclusive XRANGE), and its stream's state.
 *   KEYS[1] epoch key, then per topic its stream and its stream-state hash (2 keys each)
 *   ARGV[1] COUNT (0 = state only), ARGV[2] epoch to set if the store has none, ARGV[3..] after
 * Returns one JSON text: [epoch, [head, lostThrough, [[id, event JSON], ...], more, stream], ...]
 * where `stream` is "" (no stream), "r" (running) or the position of its end.
 * JSON because the client's automatic deserialisation would otherwise turn an all-digit epoch
 * into a number; one text parses the same either way.
 */
export const READ_SCRIPT = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  redis.call('SET', KEYS[1], ARGV[2])
  epoch = ARGV[2]
end
local count = tonumber(ARGV[1])
local out = {}
for i = 1, (#KEYS - 1) / 2 do
  local key, stateKey = KEYS[2 * i], KEYS[2 * i + 1]
  local after = ARGV[i + 2]
  local head, lost, entries, more, stream = '0-0', '0-0', {}, 0, ''
  if redis.call('EXISTS', key) == 1 then
    local info = redis.call('XINFO', 'STREAM', key)
    for j = 1, #info, 2 do
      if info[j] == 'last-generated-id' then head = info[j + 1] end
      if info[j] == 'max-deleted-entry-id' then lost = info[j + 1] end
    end
    if count > 0 then
      local rows = redis.call('XRANGE', key, '(' .. after, '+', 'COUNT', count + 1)
      if #rows > count then
        more = 1
        rows[#rows] = nil
      end
      for k = 1, #rows do entries[k] = { rows[k][1], rows[k][2][2] } end
    end
  end
  local state = redis.call('HMGET', stateKey, 'status', 'endId')
  if state[1] == 'running' then stream = 'r' elseif state[1] == 'ended' then stream = state[2] end
  out[#out + 1] = { head, lost, entries, more, stream }
end
return cjson.encode({ epoch, out })
`;
