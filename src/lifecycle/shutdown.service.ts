import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Server } from 'node:http';
import { shutdownConfig, ShutdownConfig } from './shutdown.config';
import { ShutdownGate } from './shutdown-gate';

/**
 * Runs the first half of the shutdown sequence (docs/DEPLOYMENT.md, "Shutdown"):
 *
 * 1. close the gate: readiness and startup answer 503 `shutting_down`,
 *    liveness stays 200; from now on every answer says `Connection: close`,
 *    so a kept-alive client reconnects (through the load balancer, to
 *    another pod) after its next answer instead of staying pinned here.
 *    Idle sockets are not cut now: to the server a busy keep-alive socket
 *    is "idle" between two requests, and cutting it resets the request the
 *    client is sending at that moment. Node closes them with the listener;
 * 2. keep serving for SHUTDOWN_DRAIN_MS so load balancers notice;
 * 3. (Nest then closes the HTTP server; in-flight requests finish; a
 *    deadline here cuts what is left);
 * 4. (resource modules close their clients in onApplicationShutdown, each
 *    with its own deadline);
 * 5. a watchdog exits the process if all this overruns SHUTDOWN_TIMEOUT_MS.
 *
 * Before the server listens (a signal during boot) there is nothing to drain:
 * steps 2 and 3 are skipped.
 */
@Injectable()
export class ShutdownService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly gate: ShutdownGate,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(shutdownConfig.KEY) private readonly config: ShutdownConfig,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'fastify') return;
    // onSend, not onRequest: a request already running at SIGTERM must also close its socket.
    adapter
      .getInstance<FastifyInstance>()
      .addHook('onSend', (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
        if (this.gate.shuttingDown) reply.header('connection', 'close');
        return Promise.resolve(payload);
      });
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    if (!this.gate.close()) return;
    const startedMs = Date.now();
    const server = this.httpServer();
    if (!server?.listening) {
      this.logger.log({ signal }, 'shutdown before the server listened: closing clients, nothing to drain');
      this.armWatchdog(startedMs);
      return;
    }
    this.logger.log(
      { signal, drainMs: this.config.drainMs, timeoutMs: this.config.timeoutMs },
      `shutdown started${signal ? ` by ${signal}` : ''}: readiness now 503, draining for ${this.config.drainMs} ms`,
    );
    this.armWatchdog(startedMs);
    await sleep(this.config.drainMs);
    this.logger.log(
      { phase: 'drain', durationMs: Date.now() - startedMs },
      'drain finished; closing the HTTP listener',
    );
    this.armInFlightDeadline(server, startedMs);
  }

  /** Shutdown finished in time (clients closed): disarm the watchdog and the in-flight deadline. */
  onApplicationShutdown(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  private httpServer(): Server | undefined {
    return this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
  }

  /** After the drain, requests still running get until the deadline, then their sockets are cut. */
  private armInFlightDeadline(server: Server, startedMs: number): void {
    const closingMs = Date.now();
    server.once('close', () => {
      this.logger.log(
        { phase: 'http', durationMs: Date.now() - closingMs },
        `HTTP listener closed; in-flight requests finished in ${Date.now() - closingMs} ms`,
      );
    });
    const budget = this.config.timeoutMs - (Date.now() - startedMs) - 2 * this.config.clientCloseMs - 500;
    const timer = setTimeout(
      () => {
        this.logger.warn('in-flight requests overran their deadline; closing their connections');
        server.closeAllConnections();
      },
      Math.max(budget, 1000),
    );
    timer.unref();
    this.timers.push(timer);
  }

  private armWatchdog(startedMs: number): void {
    const timer = setTimeout(() => {
      this.logger.error(
        { durationMs: Date.now() - startedMs },
        `shutdown exceeded SHUTDOWN_TIMEOUT_MS (${this.config.timeoutMs} ms); exiting`,
      );
      process.exit(1);
    }, this.config.timeoutMs);
    timer.unref();
    this.timers.push(timer);
  }
}
