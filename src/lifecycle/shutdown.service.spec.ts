import { Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { EventEmitter } from 'node:events';
import { shutdownConfig, ShutdownConfig } from './shutdown.config';
import { ShutdownGate } from './shutdown-gate';
import { ShutdownService } from './shutdown.service';

// The drain sleeps through node:timers/promises, which Jest's fake clock does not replace.
jest.mock('node:timers/promises', () =>
  jest.requireActual<typeof import('../../test/support/fake-timers-promises')>(
    '../../test/support/fake-timers-promises',
  ),
);

const CONFIG: ShutdownConfig = { drainMs: 5000, timeoutMs: 20_000, clientCloseMs: 2000 };
/** timeoutMs - drainMs - 2 × clientCloseMs - 500: what the in-flight requests get after the drain. */
const IN_FLIGHT_BUDGET_MS = 10_500;

type OnSend = (request: unknown, reply: { header: jest.Mock }, payload: unknown) => Promise<unknown>;

/** The HTTP server as the service sees it: listening or not, and the one method it calls. */
class FakeServer extends EventEmitter {
  listening = true;
  closeAllConnections = jest.fn();
}

/** `type` null: an application context without an HTTP adapter. */
function adapterHost(type: string | null, server: FakeServer) {
  const fastify = { addHook: jest.fn() };
  const httpAdapter = type && { getType: () => type, getInstance: () => fastify, getHttpServer: () => server };
  return { fastify, host: { httpAdapter: httpAdapter ?? undefined } };
}

describe('ShutdownService', () => {
  let gate: ShutdownGate;
  let server: FakeServer;
  let fastify: { addHook: jest.Mock };
  let exit: jest.SpyInstance;
  let loggedError: jest.SpyInstance;

  async function build(type: string | null = 'fastify', config: ShutdownConfig = CONFIG): Promise<ShutdownService> {
    const adapter = adapterHost(type, server);
    fastify = adapter.fastify;
    const moduleRef = await Test.createTestingModule({
      providers: [
        ShutdownService,
        // The real gate: closing it once, and only once, is part of what the service relies on.
        ShutdownGate,
        { provide: HttpAdapterHost, useValue: adapter.host },
        { provide: shutdownConfig.KEY, useValue: config },
      ],
    }).compile();
    gate = moduleRef.get(ShutdownGate);
    return moduleRef.get(ShutdownService);
  }

  /** Starts a shutdown and reports, without awaiting it, whether its promise has settled. */
  function begin(service: ShutdownService, signal = 'SIGTERM'): { settled: () => boolean; done: Promise<void> } {
    let settled = false;
    const done = service.beforeApplicationShutdown(signal).finally(() => (settled = true));
    return { settled: () => settled, done };
  }

  beforeEach(() => {
    jest.useFakeTimers();
    server = new FakeServer();
    exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    // Nest's TestingLogger prints errors: the watchdog's line is asserted on instead.
    loggedError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  describe('Connection: close from the first signal on', () => {
    async function onSendHook(): Promise<OnSend> {
      const service = await build();
      service.onModuleInit();
      const [[event, hook]] = fastify.addHook.mock.calls as [[string, OnSend]];
      expect(event).toBe('onSend');
      return hook;
    }

    it('adds one onSend hook on Fastify, so answers already in flight at SIGTERM also close their socket', async () => {
      await onSendHook();

      expect(fastify.addHook).toHaveBeenCalledTimes(1);
    });

    it('leaves answers alone while the process serves', async () => {
      const hook = await onSendHook();
      const reply = { header: jest.fn() };

      await hook({}, reply, 'body');

      expect(reply.header).not.toHaveBeenCalled();
    });

    it('marks every answer Connection: close once the gate is closed', async () => {
      const hook = await onSendHook();
      const reply = { header: jest.fn() };
      gate.close();

      await hook({}, reply, 'body');

      expect(reply.header).toHaveBeenCalledWith('connection', 'close');
    });

    it('hands the payload on unchanged', async () => {
      const hook = await onSendHook();
      const payload = Buffer.from('{"status":"ok"}');
      gate.close();

      await expect(hook({}, { header: jest.fn() }, payload)).resolves.toBe(payload);
    });

    it('adds no hook on another adapter', async () => {
      const service = await build('express');

      service.onModuleInit();

      expect(fastify.addHook).not.toHaveBeenCalled();
    });

    it('adds no hook in an application without an HTTP adapter', async () => {
      const service = await build(null);

      service.onModuleInit();

      expect(fastify.addHook).not.toHaveBeenCalled();
    });
  });

  describe('drain', () => {
    it('closes the gate at once, so readiness answers 503 while the drain runs', async () => {
      const service = await build();

      const shutdown = begin(service);

      expect(gate.shuttingDown).toBe(true);
      expect(shutdown.settled()).toBe(false);
    });

    it('keeps serving for SHUTDOWN_DRAIN_MS before Nest closes the listener', async () => {
      const service = await build();
      const shutdown = begin(service);

      await jest.advanceTimersByTimeAsync(CONFIG.drainMs - 1);
      expect(shutdown.settled()).toBe(false);
      await jest.advanceTimersByTimeAsync(1);

      expect(shutdown.settled()).toBe(true);
    });

    it('does not drain twice when a second signal arrives', async () => {
      const service = await build();
      void begin(service, 'SIGTERM');

      const second = begin(service, 'SIGINT');
      await jest.advanceTimersByTimeAsync(0);

      expect(second.settled()).toBe(true);
      // The first signal's drain and watchdog, nothing more.
      expect(jest.getTimerCount()).toBe(2);
    });

    it('skips the drain when the server never listened (a signal during boot)', async () => {
      server.listening = false;
      const service = await build();

      const shutdown = begin(service);
      await jest.advanceTimersByTimeAsync(0);

      expect(shutdown.settled()).toBe(true);
      expect(gate.shuttingDown).toBe(true);
    });
  });

  describe('in-flight deadline', () => {
    it('cuts the connections of requests still running when their budget after the drain is spent', async () => {
      const service = await build();
      const shutdown = begin(service);
      await jest.advanceTimersByTimeAsync(CONFIG.drainMs);
      await shutdown.done;

      await jest.advanceTimersByTimeAsync(IN_FLIGHT_BUDGET_MS - 1);
      expect(server.closeAllConnections).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);

      expect(server.closeAllConnections).toHaveBeenCalledTimes(1);
    });

    it('gives in-flight requests at least a second, however tight the shutdown budget', async () => {
      const service = await build('fastify', { drainMs: 2500, timeoutMs: 3000, clientCloseMs: 1000 });
      const shutdown = begin(service);
      await jest.advanceTimersByTimeAsync(2500);
      await shutdown.done;

      await jest.advanceTimersByTimeAsync(999);
      expect(server.closeAllConnections).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);

      expect(server.closeAllConnections).toHaveBeenCalledTimes(1);
    });

    it('is disarmed when the shutdown finishes in time', async () => {
      const service = await build();
      const shutdown = begin(service);
      await jest.advanceTimersByTimeAsync(CONFIG.drainMs);
      await shutdown.done;

      service.onApplicationShutdown();
      await jest.advanceTimersByTimeAsync(CONFIG.timeoutMs);

      expect(server.closeAllConnections).not.toHaveBeenCalled();
    });

    it('is not armed when the server never listened', async () => {
      server.listening = false;
      const service = await build();
      await begin(service).done;

      await jest.advanceTimersByTimeAsync(CONFIG.timeoutMs - 1);

      expect(server.closeAllConnections).not.toHaveBeenCalled();
    });
  });

  describe('watchdog', () => {
    it('exits 1 when the whole shutdown overruns SHUTDOWN_TIMEOUT_MS', async () => {
      const service = await build();
      void begin(service);

      await jest.advanceTimersByTimeAsync(CONFIG.timeoutMs - 1);
      expect(exit).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);

      expect(exit).toHaveBeenCalledWith(1);
    });

    it('says why it exits', async () => {
      const service = await build();
      void begin(service);

      await jest.advanceTimersByTimeAsync(CONFIG.timeoutMs);

      expect(loggedError).toHaveBeenCalledWith(
        expect.anything(),
        'shutdown exceeded SHUTDOWN_TIMEOUT_MS (20000 ms); exiting',
      );
    });

    it('guards a shutdown that started before the server listened, too', async () => {
      server.listening = false;
      const service = await build();
      await begin(service).done;

      await jest.advanceTimersByTimeAsync(CONFIG.timeoutMs);

      expect(exit).toHaveBeenCalledWith(1);
    });

    it('is disarmed when the shutdown finishes in time', async () => {
      const service = await build();
      const shutdown = begin(service);
      await jest.advanceTimersByTimeAsync(CONFIG.drainMs);
      await shutdown.done;

      service.onApplicationShutdown();
      await jest.advanceTimersByTimeAsync(CONFIG.timeoutMs * 2);

      expect(exit).not.toHaveBeenCalled();
      expect(jest.getTimerCount()).toBe(0);
    });

    it('does not hold the process open: the watchdog and the in-flight deadline are unref’d', async () => {
      const setTimer = jest.spyOn(global, 'setTimeout');
      const service = await build();
      const shutdown = begin(service);
      await jest.advanceTimersByTimeAsync(CONFIG.drainMs);
      await shutdown.done;

      const unrefDelays = setTimer.mock.calls
        .filter((_call, i) => !(setTimer.mock.results[i].value as NodeJS.Timeout).hasRef())
        .map(([, ms]) => ms);

      expect(unrefDelays.sort()).toEqual([CONFIG.timeoutMs, IN_FLIGHT_BUDGET_MS].sort());
    });
  });
});
