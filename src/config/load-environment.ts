import { EnvironmentVariables, validateEnvironment } from './environment';

interface Parse {
  raw: Record<string, unknown>;
  env: EnvironmentVariables;
}

/**
 * The last parse. A `registerAs` factory takes no injections, so the result
 * the sections share is kept here rather than in a provider.
 */
let last: Parse | undefined;

/**
 * The environment validated once per boot: main.ts's check before Nest
 * starts, ConfigModule's `validate`, the adapter and every `registerAs`
 * section get the same parse. It is parsed again only when the variables
 * change, as tests do between the apps they build. Throws
 * ConfigValidationError.
 */
export function loadEnvironment(raw: Record<string, unknown> = process.env): EnvironmentVariables {
  if (!last || !isSameEnvironment(raw, last)) last = { raw: { ...raw }, env: validateEnvironment(raw) };
  return last.env;
}

/**
 * True when `raw` holds the variables `last` was parsed from. ConfigModule
 * copies the validated values into process.env for the variables that were
 * unset (their defaults, as strings); that copy is the same environment, not
 * a new one.
 */
function isSameEnvironment(raw: Record<string, unknown>, { raw: parsed, env }: Parse): boolean {
  const validated = env as unknown as Record<string, unknown>;
  const names = new Set([...Object.keys(raw), ...Object.keys(parsed)]);
  for (const name of names) {
    if (raw[name] === parsed[name]) continue;
    if (parsed[name] === undefined && raw[name] === copiedByConfigModule(validated[name])) continue;
    return false;
  }
  return true;
}

/** How ConfigModule writes a validated value into process.env (it skips what is not a primitive). */
function copiedByConfigModule(value: unknown): string | undefined {
  return ['string', 'number', 'boolean'].includes(typeof value) ? String(value) : undefined;
}
