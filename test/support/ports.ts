import { createServer } from 'node:net';

/**
 * Returns a TCP port that is free on 127.0.0.1 right now: listens on port 0,
 * reads the port the kernel picked and closes again. Another process may take
 * it before the caller binds it, so servers started on it should be prepared
 * to retry with a new port.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: could not read the bound address'));
        return;
      }
      const { port } = address;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A free port whose companion `port + offset` is free as well (a Redis
 * Cluster node also binds its bus on port + 10000). Same race as freePort.
 */
export async function freePortWithCompanion(offset: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port + offset <= 65535 && (await isFree(port + offset))) return port;
  }
  throw new Error(`freePortWithCompanion: no free port with a free port +${offset} found`);
}
