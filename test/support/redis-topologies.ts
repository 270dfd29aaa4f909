/**
 * Redis topologies for e2e tests, built from the redis-server fixture: a
 * Sentinel group (one primary, one replica, three sentinels) and a Redis
 * Cluster of three primaries created with `redis-cli --cluster create`.
 * Every process is stopped by stop(), also when the start fails half-way.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePortWithCompanion } from './ports';
import { RedisFixture, startRedis } from './redis-server';
import { waitFor } from './wait';

const run = promisify(execFile);

/** Sentinel's timing for tests: a dead primary is noticed after 1 s, a failover gives up after 5 s. */
const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 5000;
/** A cluster node counts a silent peer as failing after this (default 15 s). */
const CLUSTER_NODE_TIMEOUT_MS = 1000;
const SETTLE_TIMEOUT_MS = 30_000;

export interface SentinelTopology {
  readonly masterName: string;
  /** The servers in start order: [initial primary, initial replica]. */
  readonly servers: RedisFixture[];
  readonly sentinels: RedisFixture[];
  /** `127.0.0.1:p,127.0.0.1:p,…`, as REDIS__SENTINELS takes it. */
  sentinelList(): string;
  /** The primary's address according to a sentinel (`SENTINEL GET-MASTER-ADDR-BY-NAME`). */
  primaryAddress(): Promise<string>;
  stop(): Promise<void>;
}

export interface SentinelOptions {
  /** Password of primary and replica (requirepass / masterauth). */
  password: string;
  /** Password of the sentinels themselves. */
  sentinelPassword: string;
  masterName?: string;
}

async function stopAll(fixtures: Array<RedisFixture | undefined>): Promise<void> {
  await Promise.all(fixtures.map((f) => f?.stop() ?? Promise.resolve()));
}

/**
 * Starts a primary, a replica of it and three sentinels watching it (quorum
 * 2), and resolves once the replica is in sync and every sentinel knows the
 * replica and the two other sentinels, so a failover can happen.
 */
export async function startSentinelTopology(opts: SentinelOptions): Promise<SentinelTopology> {
  const masterName = opts.masterName ?? 'mymaster';
  const servers: RedisFixture[] = [];
  const sentinels: RedisFixture[] = [];
  // Replicas need masterauth: after a failover the old primary comes back as a replica.
  const auth = ['--masterauth', opts.password];
  try {
    const primary = await startRedis({ password: opts.password, args: auth });
    servers.push(primary);
    servers.push(
      await startRedis({ password: opts.password, args: [...auth, '--replicaof', primary.host, String(primary.port)] }),
    );
    const config = [
      `sentinel monitor ${masterName} ${primary.host} ${primary.port} 2`,
      `sentinel auth-pass ${masterName} ${opts.password}`,
      `sentinel down-after-milliseconds ${masterName} ${DOWN_AFTER_MS}`,
      `sentinel failover-timeout ${masterName} ${FAILOVER_TIMEOUT_MS}`,
      // Sentinels with a password must present it to each other too.
      `sentinel sentinel-pass ${opts.sentinelPassword}`,
      '',
    ].join('\n');
    sentinels.push(
      ...(await Promise.all(
        [0, 1, 2].map(() => startRedis({ password: opts.sentinelPassword, sentinelConfig: config })),
      )),
    );
    await waitFor(
      async () => (await servers[1].command('INFO', 'replication'))?.toString().includes('master_link_status:up'),
      { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 100, description: 'the replica to sync with the primary' },
    );
    await waitFor(
      async () => {
        const views = await Promise.all(sentinels.map((s) => s.command('SENTINEL', 'MASTER', masterName)));
        return views.every((view) => {
          const fields = pairs(view);
          return fields['num-slaves'] === '1' && fields['num-other-sentinels'] === '2';
        });
      },
      {
        timeoutMs: SETTLE_TIMEOUT_MS,
        intervalMs: 100,
        description: 'every sentinel to know the replica and its peers',
      },
    );
  } catch (error) {
    await stopAll([...servers, ...sentinels]);
    throw error;
  }
  return {
    masterName,
    servers,
    sentinels,
    sentinelList: () => sentinels.map((s) => `${s.host}:${s.port}`).join(','),
    async primaryAddress() {
      for (const sentinel of sentinels) {
        try {
          const reply = await sentinel.command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName);
          if (Array.isArray(reply)) return `${String(reply[0])}:${String(reply[1])}`;
        } catch {
          // This sentinel is not answering; ask the next one.
        }
      }
      throw new Error('no sentinel answered GET-MASTER-ADDR-BY-NAME');
    },
    stop: () => stopAll([...sentinels, ...servers]),
  };
}

export interface ClusterTopology {
  /** The three primaries (no replicas). */
  readonly nodes: RedisFixture[];
  /** `127.0.0.1:p,…`, as REDIS__CLUSTER_NODES takes it. */
  nodeList(): string;
  /** The node serving `key`'s hash slot. */
  ownerOf(key: string): Promise<RedisFixture>;
  /** CLUSTER INFO's cluster_state as seen by `node`. */
  state(node: RedisFixture): Promise<string>;
  /** Resolves once every running node reports cluster_state:ok. */
  waitUntilOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts three cluster-enabled redis-servers (AOF with fsync always, so a
 * SIGKILLed node comes back with its data and its nodes.conf) on ports whose
 * bus port is free, joins them with `redis-cli --cluster create` and waits
 * for cluster_state:ok everywhere.
 */
export async function startCluster(opts: { password: string }): Promise<ClusterTopology> {
  const nodes: RedisFixture[] = [];
  const args = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(CLUSTER_NODE_TIMEOUT_MS),
    '--appendfsync',
    'always',
    '--masterauth',
    opts.password,
  ];
  const state = async (node: RedisFixture): Promise<string> =>
    /cluster_state:(\w+)/.exec(String(await node.command('CLUSTER', 'INFO')))?.[1] ?? 'unknown';
  const waitUntilOk = async (timeoutMs = SETTLE_TIMEOUT_MS): Promise<void> => {
    await waitFor(
      async () => {
        const states = await Promise.all(nodes.map((n) => state(n).catch(() => 'unreachable')));
        return states.every((s) => s === 'ok');
      },
      { timeoutMs, intervalMs: 100, description: 'cluster_state:ok on every node' },
    );
  };
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await startRedis({
          password: opts.password,
          appendonly: true,
          args,
          pickPort: () => freePortWithCompanion(10_000),
        }),
      );
    }
    await run(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-yes', '--no-auth-warning'],
      { env: { ...process.env, REDISCLI_AUTH: opts.password }, timeout: SETTLE_TIMEOUT_MS },
    );
    await waitUntilOk();
  } catch (error) {
    await stopAll(nodes);
    throw error;
  }
  return {
    nodes,
    nodeList: () => nodes.map((n) => `${n.host}:${n.port}`).join(','),
    async ownerOf(key) {
      const slot = Number(await nodes[0].command('CLUSTER', 'KEYSLOT', key));
      const ranges = (await nodes[0].command('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
      const owner = ranges.find(([start, end]) => slot >= start && slot <= end);
      const node = nodes.find((n) => owner !== undefined && n.port === Number(owner[2][1]));
      if (!node) throw new Error(`no node serves slot ${slot}`);
      return node;
    },
    state,
    waitUntilOk,
    stop: () => stopAll(nodes),
  };
}

/** A flat [field, value, …] reply → record. */
export function pairs(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}
