import { Injectable } from '@nestjs/common';

/**
 * The one source of truth for "this process is shutting down". Closed once,
 * at the first SIGTERM/SIGINT (or app.close()), never reopened.
 */
@Injectable()
export class ShutdownGate {
  private closedAtMs: number | null = null;

  get shuttingDown(): boolean {
    return this.closedAtMs !== null;
  }

  get closedAt(): number | null {
    return this.closedAtMs;
  }

  /** Returns false when the gate was already closed. */
  close(): boolean {
    if (this.closedAtMs !== null) return false;
    this.closedAtMs = Date.now();
    return true;
  }
}
