/**
 * Holds SIGTERM/SIGINT that arrive while the app is still being built, before
 * Nest's shutdown hooks exist: without it the default handler would kill the
 * process mid-boot, leaving the orchestrator an exit by signal and the
 * dependencies half-open connections. main.ts asks `received` once the app is
 * built and closes it instead of listening.
 */
export class BootSignals {
  private signal?: NodeJS.Signals;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.signal ??= signal;
  };

  constructor(private readonly signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']) {
    for (const name of signals) process.on(name, this.onSignal);
  }

  /** The first signal received so far, if any. */
  get received(): NodeJS.Signals | undefined {
    return this.signal;
  }

  /** Stops holding signals (Nest's shutdown hooks take over). */
  release(): void {
    for (const name of this.signals) process.removeListener(name, this.onSignal);
  }
}
