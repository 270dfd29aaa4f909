import { BadRequestException, NotFoundException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HEALTH_MESSAGES } from './health.constants';
import { HealthMonitor } from './health-monitor';
import { ExcludeChecksPipe, KnownCheckPipe } from './health.pipes';

describe('health pipes', () => {
  const registered = new Set(['db', 'redis', 'redis-cache']);
  const monitor = { has: (name: string) => registered.has(name) };
  let knownCheck: KnownCheckPipe;
  let excludeChecks: ExcludeChecksPipe;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [KnownCheckPipe, ExcludeChecksPipe, { provide: HealthMonitor, useValue: monitor }],
    }).compile();
    knownCheck = moduleRef.get(KnownCheckPipe);
    excludeChecks = moduleRef.get(ExcludeChecksPipe);
  });

  describe('KnownCheckPipe', () => {
    it('passes a registered check name through', () => {
      expect(knownCheck.transform('redis')).toBe('redis');
    });

    it('answers 404 naming a check that is not registered', () => {
      expect(() => knownCheck.transform('kafka')).toThrow(new NotFoundException(HEALTH_MESSAGES.unknownCheck('kafka')));
    });
  });

  describe('ExcludeChecksPipe', () => {
    it('excludes nothing when the query has no exclude parameter', () => {
      expect(excludeChecks.transform(undefined).size).toBe(0);
    });

    it('reads a comma-separated list', () => {
      expect([...excludeChecks.transform('db,redis')]).toEqual(['db', 'redis']);
    });

    it('reads a repeated parameter', () => {
      expect([...excludeChecks.transform(['db', 'redis-cache'])]).toEqual(['db', 'redis-cache']);
    });

    it('ignores blanks and empty items', () => {
      expect([...excludeChecks.transform(' db , ,redis,')]).toEqual(['db', 'redis']);
    });

    it('counts a name listed twice once', () => {
      expect(excludeChecks.transform('db,db').size).toBe(1);
    });

    it('answers 400 naming every unknown check, in the order given', () => {
      expect(() => excludeChecks.transform(['kafka,db', 'mongo'])).toThrow(
        new BadRequestException(HEALTH_MESSAGES.unknownExclude(['kafka', 'mongo'])),
      );
    });
  });
});
