import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { jobsConfig, JobsConfig } from './jobs.config';
import type { RedisClient } from '../redis/redis.constants';
import { InjectRedis } from '../redis/redis.decorators';
import { encodeCursor } from './job-cursor';
import { Job, JobHistoryEntry } from './dto/job.dto';
import { isTerminal, sourcesOf } from './job-transitions';
import { JOB_STATUSES, JobStatus, JobTargetStatus } from './jobs.constants';

/**
 * Storage layout, all under JOBS_KEY_PREFIX (default `app:jobs:`; on a
 * cluster `{app:jobs}:`), in the logical DB of the default Redis client:
 *
 *   <prefix>job:<id>          hash: id, type, status, payload (JSON), result (JSON),
 *                             error (JSON), correlation_id, created_at, updated_at,
 *                             expires_at (epoch ms), history (JSON), member
 *   <prefix>index             sorted set of every job's index member (all scores 0, see job-cursor.ts)
 *   <prefix>index:<status>    the same members, one set per status (the `status` filter)
 *   <prefix>expiry            sorted set: member → expires-at epoch ms, finished jobs only
 *
 * Every write is one Lua script, so a job and its index entries change
 * together or not at all, and concurrent transitions are serialised by Redis.
 * Timestamps come from the Redis server clock (TIME) so that several app
 * instances agree on the order of events.
 *
 * Keeping the index free of expired jobs. A finished job's hash gets
 * PEXPIREAT at finish time + retention; pending and running jobs never expire.
 * Redis deletes the hash but cannot tell us (keyspace notifications are
 * fire-and-forget and off by default). So:
 *  1. the expiry set records the same instant, and every script first sweeps
 *     up to SWEEP_BATCH members whose time has come out of every index. Each
 *     finish is a write and each write sweeps up to SWEEP_BATCH, so the sweep
 *     keeps pace and the indexes do not grow with expired jobs;
 *  2. the list script still reads each job it returns, and drops (and
 *     unindexes) a member whose hash is gone, e.g. deleted by hand or expired
 *     through a changed TTL. A page therefore never references an expired job.
 * Storing the expiry time rather than only checking EXISTS on read matters:
 * a read-time check alone would never clean entries nobody pages through.
 *
 * Cluster: a script may only touch keys of one hash slot, and the list
 * script even derives job keys from index members. The prefix's hash tag
 * (`{app:jobs}:`; validateEnvironment insists on one with a cluster) puts
 * every key of the store in the same slot. The price: the whole store lives
 * on one primary of the cluster.
 */

/** Most expired members one script call removes from the indexes. */
const SWEEP_BATCH = 100;
/** Most index entries one list call examines (bounds the script's run time). */
const LIST_SCAN_LIMIT = 1000;

const PREAMBLE = `
local EXPIRY = KEYS[1]
local INDEX = KEYS[2]
local STATUS_INDEX = { ${JOB_STATUSES.map((s, i) => `${s} = KEYS[${i + 3}]`).join(', ')} }

-- Redis server time as strings: epoch ms (13 digits) and epoch us (16 digits).
local function clock()
  local t = redis.call('TIME')
  local us = string.format('%06d', tonumber(t[2]))
  return t[1] .. string.sub(us, 1, 3), t[1] .. us
end

local function unindex(members)
  if #members == 0 then return end
  redis.call('ZREM', INDEX, unpack(members))
  for _, key in pairs(STATUS_INDEX) do redis.call('ZREM', key, unpack(members)) end
  redis.call('ZREM', EXPIRY, unpack(members))
end

local function sweep(nowMs)
  unindex(redis.call('ZRANGEBYSCORE', EXPIRY, '-inf', nowMs, 'LIMIT', 0, ${SWEEP_BATCH}))
end
`;

/**
 * KEYS[7] job; ARGV id, type, payload JSON, correlation id.
 * A job that already exists is returned unchanged: the only way its id can
 * repeat is ioredis resending this very call after a reconnect.
 */
const CREATE = `${PREAMBLE}
local job = KEYS[7]
local ms, us = clock()
sweep(ms)
if redis.call('EXISTS', job) == 1 then return redis.call('HGETALL', job) end
local member = us .. ':' .. ARGV[1]
redis.call('HSET', job, 'id', ARGV[1], 'type', ARGV[2], 'status', 'pending', 'payload', ARGV[3],
  'correlation_id', ARGV[4], 'created_at', ms, 'updated_at', ms, 'member', member,
  'history', '[{"status":"pending","at":' .. ms .. '}]')
redis.call('ZADD', INDEX, 0, member)
redis.call('ZADD', STATUS_INDEX['pending'], 0, member)
return redis.call('HGETALL', job)
`;

/**
 * KEYS[7] job; ARGV target status, allowed source statuses (comma list),
 * result JSON or '', error JSON or '', retention seconds or '' (not terminal).
 * Returns {'ok', fields} | {'missing'} | {'conflict', current status}.
 */
const TRANSITION = `${PREAMBLE}
local job = KEYS[7]
local target = ARGV[1]
local ms = clock()
sweep(ms)
local current = redis.call('HGET', job, 'status')
if not current then return {'missing'} end
local allowed = false
for source in string.gmatch(ARGV[2], '[^,]+') do
  if source == current then allowed = true end
end
if not allowed then return {'conflict', current} end
local member = redis.call('HGET', job, 'member')
local history = redis.call('HGET', job, 'history')
history = string.sub(history, 1, -2) .. ',{"status":"' .. target .. '","at":' .. ms .. '}]'
redis.call('HSET', job, 'status', target, 'updated_at', ms, 'history', history)
if ARGV[3] ~= '' then redis.call('HSET', job, 'result', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', job, 'error', ARGV[4]) end
redis.call('ZREM', STATUS_INDEX[current], member)
redis.call('ZADD', STATUS_INDEX[target], 0, member)
if ARGV[5] ~= '' then
  local expiresAt = string.format('%.0f', tonumber(ms) + tonumber(ARGV[5]) * 1000)
  redis.call('HSET', job, 'expires_at', expiresAt)
  redis.call('PEXPIREAT', job, expiresAt)
  redis.call('ZADD', EXPIRY, expiresAt, member)
end
return {'ok', redis.call('HGETALL', job)}
`;

/**
 * ARGV job key prefix, status ('' = all), lex start ('+' or '(' .. member),
 * limit. Returns {next member or '', fields, fields, …}, newest first.
 */
const LIST = `${PREAMBLE}
local jobPrefix, status, from, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local index = INDEX
if status ~= '' then index = STATUS_INDEX[status] end
sweep((clock()))
local want = limit + 1
local items, members, gone = {}, {}, {}
local scanned, last, exhausted = 0, nil, false
while #items < want and scanned < ${LIST_SCAN_LIMIT} do
  local batch = redis.call('ZRANGE', index, from, '-', 'BYLEX', 'REV', 'LIMIT', 0, want - #items)
  if #batch == 0 then exhausted = true break end
  for _, member in ipairs(batch) do
    scanned = scanned + 1
    local fields = redis.call('HGETALL', jobPrefix .. string.sub(member, 18))
    if #fields == 0 then
      gone[#gone + 1] = member
    else
      items[#items + 1] = fields
      members[#members + 1] = member
    end
    last = member
  end
  from = '(' .. last
end
unindex(gone)
local nextMember = ''
if #items == want then
  items[want] = nil
  nextMember = members[limit]
elseif not exhausted and last then
  -- scan limit reached among removed entries: a short page, continue after what was examined
  nextMember = last
end
local reply = { nextMember }
for _, fields in ipairs(items) do reply[#reply + 1] = fields end
return reply
`;

/** A job store operation failed because Redis is unreachable, hung or not serving. */
export class JobStoreUnavailableError extends Error {
  /** The classified failure when already known (the health check's), instead of classifying the cause. */
  readonly failure?: string;

  constructor(
    readonly operation: string,
    options: { cause: unknown; failure?: string },
  ) {
    super(`job store unavailable during ${operation}`, options);
    this.failure = options.failure;
    this.name = 'JobStoreUnavailableError';
  }
}

/** Replies that mean "Redis cannot serve right now", as opposed to a bug in a script or a key. */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|OOM|READONLY|NOAUTH|WRONGPASS|NOPERM)\b/;

/**
 * Connection-level failures (refused, reset, closed, offline queue disabled,
 * command timeout) and the replies above mean the store is unavailable. Any
 * other reply error is a defect and surfaces as a 500.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (error instanceof Error && error.name === 'ReplyError') return UNAVAILABLE_REPLY.test(error.message);
  return true;
}

/**
 * A Lua script run by EVALSHA, falling back to EVAL when Redis does not have
 * it cached (first use, or after a restart). Not `defineCommand`: the client
 * is shared with other modules, and defining commands would add untyped
 * methods to it.
 */
class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisClient, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return redis.eval(this.source, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }
}

export interface NewJob {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  correlationId: string;
}

export interface JobChange {
  status: JobTargetStatus;
  result?: unknown;
  error?: string | Record<string, unknown>;
}

export type TransitionOutcome =
  { outcome: 'ok'; job: Job } | { outcome: 'missing' } | { outcome: 'conflict'; current: JobStatus };

export interface JobListQuery {
  status?: JobStatus;
  limit: number;
  /** Index member the page starts after (a decoded cursor). */
  after?: string;
}

/** Redis-backed job state. Every method throws JobStoreUnavailableError when Redis cannot answer. */
@Injectable()
export class JobStore {
  private readonly scripts = {
    create: new LuaScript(CREATE),
    transition: new LuaScript(TRANSITION),
    list: new LuaScript(LIST),
  };

  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    @Inject(jobsConfig.KEY) private readonly config: JobsConfig,
  ) {}

  async create(job: NewJob): Promise<Job> {
    const reply = await this.call('create', () =>
      this.scripts.create.run(this.redis, this.keys(this.jobKey(job.id)), [
        job.id,
        job.type,
        JSON.stringify(job.payload),
        job.correlationId,
      ]),
    );
    return toJob(toFields(reply));
  }

  async get(id: string): Promise<Job | null> {
    const fields = await this.call('get', () => this.redis.hgetall(this.jobKey(id)));
    return Object.keys(fields).length === 0 ? null : toJob(fields);
  }

  async transition(id: string, change: JobChange): Promise<TransitionOutcome> {
    const reply = await this.call('transition', () =>
      this.scripts.transition.run(this.redis, this.keys(this.jobKey(id)), [
        change.status,
        sourcesOf(change.status).join(','),
        change.result === undefined ? '' : JSON.stringify(change.result),
        change.error === undefined ? '' : JSON.stringify(change.error),
        isTerminal(change.status) ? String(this.config.retentionSeconds) : '',
      ]),
    );
    if (!Array.isArray(reply)) throw new Error('transition script: unexpected reply');
    const [outcome, detail] = reply as [string, unknown];
    if (outcome === 'missing') return { outcome };
    if (outcome === 'conflict') return { outcome, current: detail as JobStatus };
    return { outcome: 'ok', job: toJob(toFields(detail)) };
  }

  /** One page, newest first, and the cursor of the next page (null on the last). */
  async list(query: JobListQuery): Promise<{ items: Job[]; nextCursor: string | null }> {
    const reply = await this.call('list', () =>
      this.scripts.list.run(this.redis, this.keys(), [
        `${this.config.keyPrefix}job:`,
        query.status ?? '',
        query.after === undefined ? '+' : `(${query.after}`,
        String(query.limit),
      ]),
    );
    if (!Array.isArray(reply)) throw new Error('list script: unexpected reply');
    const [next, ...items] = reply as unknown[];
    return {
      items: items.map((fields) => toJob(toFields(fields))),
      nextCursor: typeof next === 'string' && next !== '' ? encodeCursor(next) : null,
    };
  }

  /** The store's keys, for tests and operators. */
  keyOf(what: 'index' | 'expiry' | { job: string } | { status: JobStatus }): string {
    const p = this.config.keyPrefix;
    if (what === 'index' || what === 'expiry') return `${p}${what}`;
    return 'job' in what ? this.jobKey(what.job) : `${p}index:${what.status}`;
  }

  private jobKey(id: string): string {
    return `${this.config.keyPrefix}job:${id}`;
  }

  /** KEYS of every script: expiry, index, one index per status, then the job key if any. */
  private keys(jobKey?: string): string[] {
    const keys = [this.keyOf('expiry'), this.keyOf('index'), ...JOB_STATUSES.map((status) => this.keyOf({ status }))];
    return jobKey === undefined ? keys : [...keys, jobKey];
  }

  private async call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isStoreUnavailable(error)) throw new JobStoreUnavailableError(operation, { cause: error });
      throw error;
    }
  }
}

/** HGETALL as a flat [field, value, …] array (a script's reply) → record. */
function toFields(reply: unknown): Record<string, string> {
  if (!Array.isArray(reply)) throw new Error('job store: unexpected reply');
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
  return fields;
}

const iso = (epochMs: string | number): string => new Date(Number(epochMs)).toISOString();

function toJob(f: Record<string, string>): Job {
  const history = (JSON.parse(f.history) as { status: JobStatus; at: number }[]).map((entry): JobHistoryEntry => ({
    status: entry.status,
    at: iso(entry.at),
  }));
  return {
    id: f.id,
    type: f.type,
    status: f.status as JobStatus,
    payload: JSON.parse(f.payload) as Record<string, unknown>,
    ...(f.result !== undefined ? { result: JSON.parse(f.result) as unknown } : {}),
    ...(f.error !== undefined ? { error: JSON.parse(f.error) as string | Record<string, unknown> } : {}),
    created_at: iso(f.created_at),
    updated_at: iso(f.updated_at),
    ...(f.expires_at !== undefined ? { expires_at: iso(f.expires_at) } : {}),
    correlation_id: f.correlation_id,
    history,
  };
}
