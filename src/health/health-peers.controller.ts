import { Controller, Get, Headers, Inject, UnauthorizedException } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { BearerToken } from '../common/bearer-token';
import { healthConfig, HealthConfig } from './health.config';
import { HealthPeers, PEER_STATES_PATH, PeerStates } from './health-peers';
import { PEERS_SECURITY } from './health.constants';

/**
 * The route peers ask when one of their shared checks fails: this
 * instance's check states and since-times, from the snapshot. Nothing in it
 * is secret; with HEALTH_PEERS_TOKEN set it answers only callers that send
 * that token. Documented like every route; keep `/internal/` off any ingress.
 */
@ApiTags('internal')
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
  @ApiOperation({ summary: "This instance's check states, for its peers (HEALTH_PEERS)" })
  @ApiBearerAuth(PEERS_SECURITY)
  @ApiOkResponse({
    description: 'Check names with their state and since-time; nothing else.',
    schema: {
      example: {
        instance: '0b7e4a52-6c1f-4f5e-9d3a-2f8c1e7b9a10',
        checks: { db: { status: 'up', since: '2026-12-06T09:00:00.000Z' }, redis: { status: 'down', since: null } },
      },
    },
  })
  @ApiUnauthorizedResponse({ description: 'HEALTH_PEERS_TOKEN is set and the caller did not send it.' })
  states(@Headers('authorization') authorization?: string): PeerStates {
    if (this.token.configured && !this.token.matches(authorization)) throw new UnauthorizedException();
    return this.peers.states();
  }
}
