import { Controller, Get, Headers, Inject, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { BearerToken } from '../common/bearer-token';
import { healthConfig, HealthConfig } from './health.config';
import { HealthPeers, PEER_STATES_PATH, PeerStates } from './health-peers';

/**
 * The route peers ask when one of their shared checks fails: this
 * instance's check states and since-times, from the snapshot. Nothing in it
 * is secret; with HEALTH_PEERS_TOKEN set it answers only callers that send
 * that token. Kept out of the public OpenAPI document: it is for peers only.
 */
@ApiExcludeController()
@Controller(PEER_STATES_PATH.slice(1))
export class HealthPeersController {
  private readonly token: BearerToken;

  constructor(
    private readonly peers: HealthPeers,
    @Inject(healthConfig.KEY) config: HealthConfig,
  ) {
    this.token = new BearerToken(config.peers.token);
  }

  @Get()
  states(@Headers('authorization') authorization?: string): PeerStates {
    if (this.token.configured && !this.token.matches(authorization)) throw new UnauthorizedException();
    return this.peers.states();
  }
}
