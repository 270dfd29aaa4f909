import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Server } from 'node:http';
import { shutdownConfig, ShutdownConfig } from '../config/configuration';
import { ShutdownGate } from './shutdown-gate';

/**
 * Runs the first half of the shutdown sequence (README, "Shutdown"):
 *
 * 1. close the gate: readiness and startup answer 503 `shutting_down`,
 *    liveness stays 200;
 * 2. keep serving for SHUTDOWN_DRAIN_MS so load balancers notice;
 * 3. (Nest then closes the HTTP server; in-flight requests finish, idle
 *    keep-alive sockets close; a deadline here cuts what is left);
 * 4. (resource modules close their clients in onApplicationShutdown, each
 *    with its own deadline);
 * 5. a watchdog exits the process if all this overruns SHUTDOWN_TIMEOUT_MS.
 */
@Injectable()
export class ShutdownService implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly gate: ShutdownGate,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(shutdownConfig.KEY) private readonly config: ShutdownConfig,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    if (!this.gate.close()) return;
    const startedMs = Date.now();
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
    this.armInFlightDeadline(startedMs);
  }

  /** Shutdown finished in time (clients closed): disarm the watchdog and the in-flight deadline. */
  onApplicationShutdown(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  /** After the drain, requests still running get until the deadline, then their sockets are cut. */
  private armInFlightDeadline(startedMs: number): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server || typeof server.closeAllConnections !== 'function') return;
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
