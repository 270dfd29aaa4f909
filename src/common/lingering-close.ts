import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** How long and how much a closing connection keeps reading what the client still sends. */
export interface LingerBounds {
  /** Bytes read and discarded after the answer; past them the socket stops reading. */
  maxBytes: number;
  /** Time from the answer to the close, whatever the client does. */
  maxMs: number;
}

/**
 * How long a connection lingers after answering a request whose body was not
 * read: long enough for a client on a loaded machine to read the answer and
 * close (it only has to be scheduled once), short enough that a shutdown
 * waiting for the connection is not held up noticeably.
 */
export const LINGER_MAX_MS = 2_000;

/**
 * Ends a connection without resetting it while its answer may still be in
 * flight: the answer is followed by a FIN (`end()`), then what the client
 * still sends is read and discarded until it closes its side. Past
 * `maxBytes` the socket stops reading, so a client that never stops costs
 * no more bandwidth or CPU, and at `maxMs` it is destroyed in any case.
 *
 * Why: closing a socket whose receive queue holds unread bytes makes the
 * kernel send a RST at once and drop whatever of the answer it had not yet
 * delivered, so a client still uploading an oversized body saw a reset
 * instead of its 413.
 */
export function lingeringClose(socket: Socket, bounds: LingerBounds): void {
  if (socket.destroyed) return;
  const startBytes = socket.bytesRead;
  let reading = true;
  const close = (): void => {
    clearTimeout(deadline);
    socket.destroy();
  };
  const deadline = setTimeout(close, bounds.maxMs);
  socket.once('close', () => clearTimeout(deadline));
  // The client has sent everything it will: nothing is left unread, so the close is a clean FIN.
  socket.once('end', close);
  socket.on('data', () => {
    if (reading && socket.bytesRead - startBytes > bounds.maxBytes) {
      reading = false;
      socket.pause();
    }
  });
  socket.end();
  socket.resume();
}

/**
 * Makes every connection that answers a request before its body was fully
 * received close with {@link lingeringClose} instead of Node's
 * `destroySoon()`. Node's HTTP server ends a `Connection: close` response
 * (Fastify sends one with every body-parser error, 413 included) with
 * `socket.destroySoon()`, which destroys the socket as soon as the answer is
 * handed to the kernel, and there is no option to change that; so the
 * method is replaced on that one socket, from an onSend hook (the last hook
 * before the answer is written).
 */
export function installLingeringClose(fastify: FastifyInstance, bounds: LingerBounds): void {
  fastify.addHook('onSend', (request, _reply, payload, done) => {
    const raw = request.raw;
    // `complete`: the whole message, body included, has been received.
    if (!raw.complete) {
      const socket = raw.socket as Socket | null;
      if (socket && !socket.destroyed) socket.destroySoon = () => lingeringClose(socket, bounds);
    }
    done(null, payload);
  });
}
