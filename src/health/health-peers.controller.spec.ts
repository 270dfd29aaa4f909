import { UnauthorizedException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { healthConfig } from './health.config';
import { HealthPeers, PeerStates } from './health-peers';
import { HealthPeersController } from './health-peers.controller';

const STATES: PeerStates = { instance: 'me', checks: { redis: { status: 'down', since: null } } };

async function controllerWith(token?: string): Promise<HealthPeersController> {
  const moduleRef = await Test.createTestingModule({
    controllers: [HealthPeersController],
    providers: [
      { provide: HealthPeers, useValue: { states: () => STATES } },
      { provide: healthConfig.KEY, useValue: { peers: { token } } },
    ],
  }).compile();
  return moduleRef.get(HealthPeersController);
}

describe('HealthPeersController', () => {
  it('answers the states to anyone when no peers token is configured', async () => {
    expect((await controllerWith()).states()).toBe(STATES);
  });

  it('answers only callers that send the peers token when one is configured', async () => {
    const controller = await controllerWith('peers-token-0123456789');
    expect(() => controller.states()).toThrow(UnauthorizedException);
    expect(() => controller.states('Bearer wrong-token-0123456789')).toThrow(UnauthorizedException);
    expect(controller.states('Bearer peers-token-0123456789')).toBe(STATES);
  });
});
