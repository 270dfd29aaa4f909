import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { lingeringClose, type LingerBounds } from './lingering-close';

/**
 * A server that answers before reading the body, closes with
 * lingeringClose, and reports how many body bytes it read after answering.
 */
function serverWith(bounds: LingerBounds): { server: Server; discarded: Promise<number> } {
  let report: (bytes: number) => void = () => undefined;
  const discarded = new Promise<number>((resolve) => (report = resolve));
  const server = createServer((req, res) => {
    const socket = req.socket;
    const start = socket.bytesRead;
    socket.destroySoon = () => lingeringClose(socket, bounds);
    socket.once('close', () => report(socket.bytesRead - start));
    const body = '{"statusCode":413}';
    res.writeHead(413, { connection: 'close', 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  return { server, discarded };
}

interface ClientResult {
  answer: string;
  error?: string;
}

/** Sends a request with a `size`-byte body in one write; resolves on close with what was read. */
function send(port: number, size: number): Promise<ClientResult> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let answer = '';
    let error: string | undefined;
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
    socket.on('close', () => resolve({ answer, error }));
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`);
    socket.write(Buffer.alloc(size));
  });
}

describe('lingeringClose', () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  async function listen(bounds: LingerBounds): Promise<{ port: number; discarded: Promise<number> }> {
    const built = serverWith(bounds);
    server = built.server;
    await new Promise<void>((resolve) => built.server.listen(0, '127.0.0.1', resolve));
    return { port: (built.server.address() as AddressInfo).port, discarded: built.discarded };
  }

  it('reads the rest of a body within the bound and closes on the client FIN, without a reset', async () => {
    const { port, discarded } = await listen({ maxBytes: 8 * 1_048_576, maxMs: 10_000 });
    const result = await send(port, 4 * 1_048_576);
    expect(result.answer).toMatch(/^HTTP\/1\.1 413 [^]*\r\n\r\n\{"statusCode":413\}$/);
    expect(result.error).toBeUndefined();
    expect(await discarded).toBeGreaterThan(0);
  });

  it('stops reading past maxBytes and closes at maxMs, after the answer was delivered', async () => {
    const { port, discarded } = await listen({ maxBytes: 256 * 1024, maxMs: 300 });
    const result = await send(port, 16 * 1_048_576);
    expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
    // Far less than the 16 MiB sent: reading stopped at the bound (plus a socket buffer or two).
    expect(await discarded).toBeLessThan(2 * 1_048_576);
  });
});
