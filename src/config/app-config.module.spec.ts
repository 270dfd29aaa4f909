/**
 * AppConfigModule booted by @nestjs/testing in the order main.ts boots the
 * app: the environment checked first, then ConfigModule (which validates when
 * its module file loads), the adapter's read, and every section.
 */
import { ConfigService } from '@nestjs/config';
import { Test, TestingModule } from '@nestjs/testing';
import { databaseConfig } from '../database/database.config';
import { healthConfig, HealthConfig } from '../health/health.config';
import { jobsConfig } from '../jobs/jobs.config';
import { shutdownConfig } from '../lifecycle/shutdown.config';
import { metricsConfig } from '../metrics/metrics.config';
import { redisConfig, RedisConfig } from '../redis/redis.config';
import { appConfig } from './app.config';
import * as environment from './environment';
import { loadEnvironment } from './load-environment';

const SECTIONS = [appConfig, databaseConfig, redisConfig, healthConfig, shutdownConfig, jobsConfig, metricsConfig];

/** Loaded on first use, as main.ts loads it after its check: ConfigModule.forRoot's `validate` runs then. */
const appConfigModule = () =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./app-config.module') as typeof import('./app-config.module')).AppConfigModule;

describe('AppConfigModule', () => {
  const saved = process.env;
  const parses = jest.spyOn(environment, 'validateEnvironment');
  const booted: TestingModule[] = [];

  const boot = async (): Promise<TestingModule> => {
    const moduleRef = await Test.createTestingModule({ imports: [appConfigModule()] }).compile();
    booted.push(moduleRef);
    return moduleRef;
  };

  afterEach(async () => {
    await Promise.all(booted.splice(0).map((moduleRef) => moduleRef.close()));
    process.env = saved;
    parses.mockClear();
  });
  afterAll(() => parses.mockRestore());

  // First: ConfigModule validates when this test loads its module file.
  it('parses the environment once for the early check, ConfigModule, the adapter and every section', async () => {
    // Sentinel: had ConfigModule's copy of the defaults (REDIS__HOST among them) been parsed
    // again, the topology rules would reject it.
    process.env = {
      ...saved,
      PORT: '4000',
      REDIS__SENTINELS: 's1:26379',
      REDIS__SENTINEL_MASTER: 'mymaster',
    };

    loadEnvironment(); // main.ts, before Nest starts
    const moduleRef = await boot();
    loadEnvironment(); // createApp's adapter
    const sections = SECTIONS.map((section) => moduleRef.get<unknown>(section.KEY));

    expect(parses).toHaveBeenCalledTimes(1);
    expect(sections.every((section) => typeof section === 'object')).toBe(true);
    expect(moduleRef.get<RedisConfig>(redisConfig.KEY).topology).toBe('sentinel');
    // ConfigModule was handed the typed result, not the raw strings.
    expect(moduleRef.get(ConfigService).get('PORT')).toBe(4000);
  });

  it('parses again when the variables change before the next boot, as tests do', async () => {
    process.env = { ...saved, HEALTH_INTERVAL_MS: '2000' };
    await boot();
    parses.mockClear();
    process.env = { ...saved, HEALTH_INTERVAL_MS: '3000' };

    const moduleRef = await boot();

    expect(parses).toHaveBeenCalledTimes(1);
    expect(moduleRef.get<HealthConfig>(healthConfig.KEY).intervalMs).toBe(3000);
  });
});
