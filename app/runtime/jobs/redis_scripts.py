"""The Lua scripts of the Redis job store: each state change is one script, so it is atomic
however many replicas race for it.

Keys, under the prefix P (ARGV[1]): `P:job:<id>` (a hash: spec, status, step, runner, result,
...), `P:job:<id>:history` (a list), `P:queue` (ids, oldest first), `P:leases` (running ids
scored by lease expiry), `P:finished` (finished ids scored by finish time), `P:finished_bytes`,
`P:runners` (runners scored by heartbeat expiry) and `P:wake` (tokens that wake idle runners).
The keys are computed inside the scripts: a single Redis (or a primary with replicas), not a
Redis Cluster. Every script takes ARGV[1..5] = prefix, now, max finished, max finished bytes,
time to live; its own arguments follow from ARGV[6]."""

from __future__ import annotations

PRELUDE = """
local P, now = ARGV[1], tonumber(ARGV[2])
local max_finished, max_bytes, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function job(id) return P .. ':job:' .. id end
local function history(id) return P .. ':job:' .. id .. ':history' end

local function drop(id)
  local size = tonumber(redis.call('HGET', job(id), 'size') or '0')
  redis.call('DECRBY', P .. ':finished_bytes', size)
  redis.call('ZREM', P .. ':finished', id)
  redis.call('DEL', job(id), history(id))
end

local function finish(id, status, err)
  local key = job(id)
  redis.call('HSET', key, 'status', status, 'finished', now)
  if err then redis.call('HSET', key, 'error', err) end
  redis.call('ZREM', P .. ':leases', id)
  local size = redis.call('HSTRLEN', key, 'result') + redis.call('HSTRLEN', key, 'error')
    + 8 * redis.call('LLEN', history(id)) + redis.call('HSTRLEN', key, 'spec')
  redis.call('HSET', key, 'size', size)
  redis.call('ZADD', P .. ':finished', now, id)
  redis.call('INCRBY', P .. ':finished_bytes', size)
  while true do
    local count = redis.call('ZCARD', P .. ':finished')
    local bytes = tonumber(redis.call('GET', P .. ':finished_bytes') or '0')
    if count <= 1 or (count <= max_finished and bytes <= max_bytes) then break end
    drop(redis.call('ZRANGE', P .. ':finished', 0, 0)[1])
  end
end

local function expire()
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. ':finished', '-inf', '(' .. (now - ttl))) do
    drop(id)
  end
end

local function wake()
  redis.call('RPUSH', P .. ':wake', '1')
  redis.call('LTRIM', P .. ':wake', -64, -1)
end

local function requeue(id)
  redis.call('HSET', job(id), 'status', 'queued', 'step', 0)
  redis.call('DEL', history(id))
  redis.call('ZREM', P .. ':leases', id)
  redis.call('LPUSH', P .. ':queue', id)
  wake()
end

local function renew(id, runner, lease)
  local s = redis.call('HMGET', job(id), 'status', 'runner', 'cancel')
  if s[1] ~= 'running' or s[2] ~= runner then return 'lost' end
  redis.call('ZADD', P .. ':leases', 'XX', now + lease, id)
  if s[3] == '1' then return 'cancelling' end
  return 'running'
end
"""

# ARGV[6..10]: id, spec JSON, steps, jobs each live runner runs at once, max queued.
SUBMIT = """
expire()
redis.call('ZREMRANGEBYSCORE', P .. ':runners', '-inf', now)
local runners = math.max(1, redis.call('ZCARD', P .. ':runners'))
local active = redis.call('LLEN', P .. ':queue') + redis.call('ZCARD', P .. ':leases')
if active >= runners * tonumber(ARGV[9]) + tonumber(ARGV[10]) then return 0 end
redis.call('HSET', job(ARGV[6]), 'spec', ARGV[7], 'steps', ARGV[8], 'status', 'queued',
  'step', 0, 'created', now, 'attempts', 0, 'lost', 0, 'cancel', 0)
redis.call('RPUSH', P .. ':queue', ARGV[6])
wake()
return 1
"""

# ARGV[6..7]: runner, lease seconds. Returns {id, spec, attempt} or nil.
CLAIM = """
while true do
  local id = redis.call('LPOP', P .. ':queue')
  if not id then return false end
  if redis.call('HGET', job(id), 'status') == 'queued' then
    redis.call('HSET', job(id), 'status', 'running', 'runner', ARGV[6], 'started', now,
      'step', 0)
    local attempt = redis.call('HINCRBY', job(id), 'attempts', 1)
    redis.call('DEL', history(id))
    redis.call('ZADD', P .. ':leases', now + tonumber(ARGV[7]), id)
    return {id, redis.call('HGET', job(id), 'spec'), attempt}
  end
end
"""

# ARGV[6..10]: id, runner, step, value, lease seconds. Returns the lease state.
REPORT = """
local state = renew(ARGV[6], ARGV[7], tonumber(ARGV[10]))
if state ~= 'lost' then
  redis.call('HSET', job(ARGV[6]), 'step', ARGV[8])
  redis.call('RPUSH', history(ARGV[6]), ARGV[9])
end
return state
"""

# ARGV[6..9]: runner, lease seconds, retries, the lost-job message ({runner} marks the runner);
# ARGV[10..]: the ids the runner runs. Returns their lease states in that order.
HEARTBEAT = """
local runner, lease, retries = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
redis.call('ZADD', P .. ':runners', now + lease, runner)
local states = {}
for i = 10, #ARGV do states[#states + 1] = renew(ARGV[i], runner, lease) end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. ':leases', '-inf', now)) do
  local s = redis.call('HMGET', job(id), 'status', 'cancel', 'runner')
  redis.call('ZREM', P .. ':leases', id)
  if s[1] == 'running' then
    local lost = redis.call('HINCRBY', job(id), 'lost', 1)
    if s[2] == '1' then finish(id, 'cancelled', false)
    elseif lost > retries then
      local at = string.find(ARGV[9], '{runner}', 1, true)
      finish(id, 'failed', string.sub(ARGV[9], 1, at - 1) .. (s[3] or '?')
        .. string.sub(ARGV[9], at + 8))
    else requeue(id) end
  end
end
expire()
return states
"""

# ARGV[6..10]: id, runner, status, result JSON ('' for none), error ('' for none).
FINISH = """
local s = redis.call('HMGET', job(ARGV[6]), 'status', 'runner')
if s[1] ~= 'running' or s[2] ~= ARGV[7] then return 0 end
if ARGV[9] ~= '' then redis.call('HSET', job(ARGV[6]), 'result', ARGV[9]) end
local err = false
if ARGV[10] ~= '' then err = ARGV[10] end
finish(ARGV[6], ARGV[8], err)
return 1
"""

# ARGV[6]: id. Returns the status before the cancel, or nil for no such job.
CANCEL = """
local status = redis.call('HGET', job(ARGV[6]), 'status')
if not status then return false end
if status == 'queued' then
  redis.call('LREM', P .. ':queue', 0, ARGV[6])
  finish(ARGV[6], 'cancelled', false)
elseif status == 'running' then
  redis.call('HSET', job(ARGV[6]), 'cancel', 1)
end
return status
"""

# ARGV[6..7]: id, runner.
RELEASE = """
local s = redis.call('HMGET', job(ARGV[6]), 'status', 'runner', 'cancel')
if s[1] ~= 'running' or s[2] ~= ARGV[7] then return 0 end
if s[3] == '1' then finish(ARGV[6], 'cancelled', false) else requeue(ARGV[6]) end
return 1
"""

SCRIPTS = {
    "submit": SUBMIT,
    "claim": CLAIM,
    "report": REPORT,
    "heartbeat": HEARTBEAT,
    "finish": FINISH,
    "cancel": CANCEL,
    "release": RELEASE,
}
