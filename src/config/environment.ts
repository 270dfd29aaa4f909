import { plainToInstance, Transform } from 'class-transformer';
import { redisTopologyErrors } from '../redis/redis-topology';
import {
  ArrayMinSize,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';
import { IsConnectionUrl } from './is-connection-url.validator';

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

const toBool = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value;
};

const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : value;

/** `host:port`, as REDIS_PRIMARY_ENDPOINT and the sentinel / cluster node lists spell an address. */
const HOST_PORT = /^[^\s:/@,]+:\d{1,5}$/;

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every environment variable the service reads, with its default.
 *
 * Messages name the variable and the rule, never the value, so a malformed
 * secret (a password, a credentialed URL) is not echoed to the boot log.
 */
export class EnvironmentVariables {
  @IsIn(NODE_ENVS)
  NODE_ENV: (typeof NODE_ENVS)[number] = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  @IsString()
  @MinLength(1)
  HOST = '0.0.0.0';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** Largest accepted request body, in bytes (413 above it). */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  BODY_LIMIT_BYTES = 1024 * 1024;

  // --- PostgreSQL -----------------------------------------------------------
  @IsOptional()
  @IsConnectionUrl(['postgres:', 'postgresql:'])
  DATABASE_URL?: string;

  @IsString()
  @MinLength(1)
  DB_HOST = 'localhost';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  DB_PORT = 5432;

  @IsString()
  @MinLength(1)
  DB_USER = 'postgres';

  @IsOptional()
  @IsString()
  DB_PASSWORD?: string;

  @IsString()
  @MinLength(1)
  DB_NAME = 'postgres';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 10;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  DB_CONNECT_TIMEOUT_MS = 2000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  DB_STATEMENT_TIMEOUT_MS = 5000;

  @Transform(toBool)
  @IsBoolean()
  DB_MIGRATIONS_RUN = true;

  // --- Redis ----------------------------------------------------------------
  @IsOptional()
  @IsConnectionUrl(['redis:', 'rediss:'])
  REDIS_URL?: string;

  @IsOptional()
  @Matches(HOST_PORT, { message: '$property must be host:port' })
  REDIS_PRIMARY_ENDPOINT?: string;

  @IsString()
  @MinLength(1)
  REDIS__HOST = 'localhost';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  REDIS__PORT = 6379;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  REDIS__PASSWORD?: string;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  REDIS__USERNAME?: string;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(15)
  REDIS__DB = 0;

  /** Accepted for compatibility with the earlier service's settings; no effect (ioredis has no pool). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  REDIS__MAX_CONNECTIONS = 50;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(15)
  REDIS__CACHE_DB?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(15)
  REDIS__SESSION_DB?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(15)
  REDIS__PUBSUB_DB?: number;

  /** Sentinel topology: the sentinels' addresses (`host:port,host:port`). */
  @IsOptional()
  @Transform(toList)
  @ArrayMinSize(1)
  @Matches(HOST_PORT, { each: true, message: '$property must be a comma-separated list of host:port' })
  REDIS__SENTINELS?: string[];

  /** Sentinel topology: the name the sentinels monitor the primary under. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,128}$/, { message: '$property must be a sentinel master name ([A-Za-z0-9._-])' })
  REDIS__SENTINEL_MASTER?: string;

  /** Sentinel topology: the sentinels' own password, when it differs from REDIS__PASSWORD. */
  @IsOptional()
  @IsString()
  @MaxLength(512)
  REDIS__SENTINEL_PASSWORD?: string;

  /** Cluster topology: seed nodes (`host:port,…`); the client discovers the rest. */
  @IsOptional()
  @Transform(toList)
  @ArrayMinSize(1)
  @Matches(HOST_PORT, { each: true, message: '$property must be a comma-separated list of host:port' })
  REDIS__CLUSTER_NODES?: string[];

  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(60_000)
  REDIS_CONNECT_TIMEOUT_MS = 2000;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(60_000)
  REDIS_COMMAND_TIMEOUT_MS = 1000;

  // --- Health ---------------------------------------------------------------
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(30_000)
  HEALTH_CHECK_TIMEOUT_MS = 400;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(300_000)
  HEALTH_INTERVAL_MS = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(300_000)
  HEALTH_FAILURE_INTERVAL_MS = 500;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(30_000)
  HEALTH_READINESS_BUDGET_MS = 800;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  HEALTH_DETAILS_INTERVAL_MS = 30_000;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: '$property must be at least 16 characters' })
  HEALTH_DETAILS_TOKEN?: string;

  @Transform(toList)
  @IsString({ each: true })
  @Matches(/^[a-z0-9][a-z0-9-]*$/, { each: true })
  HEALTH_OPTIONAL_CHECKS: string[] = [];

  /**
   * The other instances, asked for their check states when a shared check fails here
   * (health-peers.ts): base URLs without credentials, `http://10.0.0.5:3000,…`. Listing
   * this instance too is harmless: it recognises its own answer and leaves it out.
   */
  @IsOptional()
  @Transform(toList)
  @ArrayMinSize(1)
  @Matches(/^https?:\/\/[^\s/@,?#]+(\/[^\s@,?#]*)?$/, {
    each: true,
    message: '$property must be a comma-separated list of http(s)://host:port base URLs without credentials',
  })
  HEALTH_PEERS?: string[];

  /** The same, from DNS: `name:port` of a headless Service, re-resolved in the background. */
  @IsOptional()
  @Matches(HOST_PORT, { message: '$property must be host:port (a headless Service name and the app port)' })
  HEALTH_PEERS_DNS?: string;

  /** Bearer token peers must send to read /internal/health/states (and send when asking). */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: '$property must be at least 16 characters' })
  HEALTH_PEERS_TOKEN?: string;

  /** How long one peer may take to answer before it counts as not answering. */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(10_000)
  HEALTH_PEER_TIMEOUT_MS = 300;

  /**
   * While a shared outage is confirmed, how often the peers are asked again (to notice
   * that they recovered and the fault is now this pod's own). Unconfirmed failures are
   * asked about every HEALTH_FAILURE_INTERVAL_MS; with every check up, peers are not asked.
   */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(300_000)
  HEALTH_PEER_INTERVAL_MS = 5000;

  // --- Shutdown -------------------------------------------------------------
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(300_000)
  SHUTDOWN_DRAIN_MS = 5000;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  SHUTDOWN_TIMEOUT_MS = 20_000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  SHUTDOWN_CLIENT_CLOSE_MS = 2000;

  // --- Metrics --------------------------------------------------------------
  /**
   * GET /metrics, the request-duration hook and the default process metrics.
   * Off: /metrics answers 404 and requests carry no metrics work (bench/observability.ts).
   */
  @Transform(toBool)
  @IsBoolean()
  METRICS_ENABLED = true;

  // --- Jobs -----------------------------------------------------------------
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(365 * 24 * 3600)
  JOBS_RETENTION_SECONDS = 7 * 24 * 3600;

  /**
   * Default `app:jobs:`, or `{app:jobs}:` with REDIS__CLUSTER_NODES: the braces are a
   * hash tag, which keeps every key of the store in one cluster slot (see resolveJobsKeyPrefix).
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9:_{}-]{1,64}$/)
  JOBS_KEY_PREFIX?: string;
}

/** Thrown when the environment is invalid; `lines` holds one entry per bad variable. */
export class ConfigValidationError extends Error {
  constructor(readonly lines: string[]) {
    super(`invalid configuration:\n${lines.join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

function describe(error: ValidationError): string {
  const rules = Object.values(error.constraints ?? {});
  return `${error.property}: ${rules.join('; ')}`;
}

/**
 * Parses and validates `raw` (normally `process.env`). Unknown variables are
 * ignored; empty strings count as unset. Throws ConfigValidationError. The
 * app calls it through loadEnvironment, which parses once per boot.
 */
export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const env = plainToInstance(EnvironmentVariables, present, {
    exposeDefaultValues: true,
  });
  const errors = validateSync(env, { skipMissingProperties: false, forbidUnknownValues: false });
  const lines = errors.map(describe);
  if (env.HEALTH_CHECK_TIMEOUT_MS >= env.HEALTH_READINESS_BUDGET_MS) {
    lines.push('HEALTH_CHECK_TIMEOUT_MS: must be below HEALTH_READINESS_BUDGET_MS');
  }
  if (env.HEALTH_PEERS && env.HEALTH_PEERS_DNS) {
    lines.push('HEALTH_PEERS_DNS: set HEALTH_PEERS or HEALTH_PEERS_DNS, not both');
  }
  // Which variables are set decides the Redis topology: its rules live with Redis.
  lines.push(...redisTopologyErrors(env, new Set(Object.keys(present))));
  if (lines.length > 0) throw new ConfigValidationError(lines);
  return env;
}
