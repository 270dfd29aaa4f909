/** The command-line side of the bench's scripts. */

/** `--some-flag value` pairs as { someFlag: 'value' }; `--json` alone as { json: true }. */
export function parseArgs(argv: readonly string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') out.json = true;
    else if (arg.startsWith('--'))
      out[arg.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = argv[++i];
  }
  return out;
}

/** A string option of parseArgs' result (undefined when absent or a bare flag). */
export const stringArg = (args: Record<string, string | true>, name: string): string | undefined => {
  const value = args[name];
  return typeof value === 'string' ? value : undefined;
};

/**
 * Runs a script's main(): exit code 0 when it resolves (the bench's children
 * and timers must not keep the process alive), 1 with the error's stack when
 * it rejects.
 */
export function runMain(what: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${what} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
