import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Socket } from 'node:net';
import { runHealthcheck } from './healthcheck';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Throwaway {
  port: number;
  paths: string[];
  close(): Promise<void>;
}

/** A loopback HTTP server on a free port that records the paths it was asked for. */
async function serve(handler: Handler): Promise<Throwaway> {
  const paths: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    handler(req, res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const json =
  (status: number, body: unknown): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = await serve(json(200, {}));
  await server.close();
  return server.port;
}

describe('runHealthcheck', () => {
  let server: Throwaway | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('exits 0 and prints the status when the probe answers 200', async () => {
    server = await serve(json(200, { status: 'ok', info: {}, error: {}, details: {} }));

    const result = await runHealthcheck(['ready'], { PORT: String(server.port) });

    expect(result).toEqual({ code: 0, line: 'ready: 200 ok' });
    expect(server.paths).toEqual(['/health/ready']);
  });

  it('probes readiness when no argument is given', async () => {
    server = await serve(json(200, { status: 'ok' }));

    const result = await runHealthcheck([], { PORT: String(server.port) });

    expect(result.code).toBe(0);
    expect(server.paths).toEqual(['/health/ready']);
  });

  it.each(['live', 'startup'])('requests /health/%s for that probe', async (probe) => {
    server = await serve(json(200, { status: 'ok' }));

    const result = await runHealthcheck([probe], { PORT: String(server.port) });

    expect(result).toEqual({ code: 0, line: `${probe}: 200 ok` });
    expect(server.paths).toEqual([`/health/${probe}`]);
  });

  it('exits 1 on 503 and names the failing checks with their public messages', async () => {
    server = await serve(
      json(503, {
        status: 'error',
        info: { db: { status: 'up' } },
        error: { redis: { status: 'down', message: 'connection refused' } },
        details: {},
      }),
    );

    const result = await runHealthcheck(['ready'], { PORT: String(server.port) });

    expect(result).toEqual({ code: 1, line: 'ready: 503 error (redis: connection refused)' });
  });

  it('reports a 200 degraded answer as healthy and says what is degraded', async () => {
    server = await serve(json(200, { status: 'degraded', error: { 'redis-cache': { message: 'timeout' } } }));

    const result = await runHealthcheck(['ready'], { PORT: String(server.port) });

    expect(result).toEqual({ code: 0, line: 'ready: 200 degraded (redis-cache: timeout)' });
  });

  it('cuts the line of an answer with many failing checks at 300 characters', async () => {
    const error = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`check-${i}`, { status: 'down', message: 'connection refused' }]),
    );
    server = await serve(json(503, { status: 'error', error }));

    const result = await runHealthcheck(['ready'], { PORT: String(server.port) });

    expect(result.code).toBe(1);
    expect(result.line).toHaveLength(300);
    expect(result.line).toMatch(/^ready: 503 error \(check-0: connection refused, .*…$/);
  });

  it('exits 1 on a non-health answer and prints the reason phrase on one line', async () => {
    server = await serve((_req, res) => {
      res.writeHead(404, 'Not Found', { 'content-type': 'text/html' });
      res.end('<html>\nnope\n</html>');
    });

    const result = await runHealthcheck(['ready'], { PORT: String(server.port) });

    expect(result).toEqual({ code: 1, line: 'ready: 404 Not Found' });
  });

  it('exits 1 with "timeout after N ms" when the app accepts but never answers', async () => {
    server = await serve(() => undefined);
    const started = Date.now();

    const result = await runHealthcheck(['ready'], { PORT: String(server.port), HEALTHCHECK_TIMEOUT_MS: '150' });

    expect(result).toEqual({ code: 1, line: 'ready: timeout after 150 ms' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('keeps the deadline when the app sends headers but stalls the body', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
    });

    const result = await runHealthcheck(['live'], { PORT: String(server.port), HEALTHCHECK_TIMEOUT_MS: '150' });

    expect(result).toEqual({ code: 1, line: 'live: timeout after 150 ms' });
  });

  it('exits 1 with "connection refused" when nothing listens', async () => {
    const port = await closedPort();

    const result = await runHealthcheck(['ready'], { PORT: String(port) });

    expect(result).toEqual({ code: 1, line: 'ready: connection refused' });
  });

  it('exits 1 naming the error code when what answers does not speak HTTP', async () => {
    const sockets = new Set<Socket>();
    const tcp = createTcpServer((socket) => {
      sockets.add(socket);
      socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n');
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = tcp.address() as AddressInfo;

      const result = await runHealthcheck(['ready'], { PORT: String(port) });

      expect(result).toEqual({ code: 1, line: 'ready: error HPE_INVALID_CONSTANT' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });

  it.each([
    [['bogus'], "healthcheck: unknown probe 'bogus' (expected live|ready|startup)"],
    [['ready', 'live'], 'healthcheck: expected at most one argument (live|ready|startup)'],
  ])('exits 1 on bad arguments %j without a request', async (argv, line) => {
    expect(await runHealthcheck(argv, {})).toEqual({ code: 1, line });
  });

  it.each([
    [{ PORT: 'http' }, 'ready: PORT must be an integer'],
    [{ PORT: '70000' }, 'ready: PORT must be between 1 and 65535'],
    [{ HEALTHCHECK_TIMEOUT_MS: '0' }, 'ready: HEALTHCHECK_TIMEOUT_MS must be between 1 and 60000'],
  ])('exits 1 on a bad setting %j', async (env, line) => {
    expect(await runHealthcheck(['ready'], env)).toEqual({ code: 1, line });
  });
});
