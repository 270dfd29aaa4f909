/** How far a JSON body may nest and how many object keys it may hold. */
export interface JsonBounds {
  /** Deepest nesting of a top-level field's value: `{}` and `[]` are 1 level, `{"a":[]}` is 2. */
  maxDepth: number;
  /** Object keys in the whole body, top-level and nested ones alike (array items are not keys). */
  maxKeys: number;
}

/** The first bound a body breaks: which top-level field (or `body` itself) and which limit. */
export interface JsonBoundsViolation {
  field: string;
  limit: 'depth' | 'keys';
}

/**
 * Checks a parsed JSON body against `bounds` before anything recursive
 * (class-transformer, class-validator, JSON.stringify) touches it: one
 * iterative pass that stops at the first breach, so a body thousands of
 * levels deep cannot overflow the stack and a body with tens of thousands of
 * keys costs a walk, not seconds of reflection.
 */
export function findJsonBoundsViolation(body: Record<string, unknown>, bounds: JsonBounds): JsonBoundsViolation | null {
  const fields = Object.keys(body);
  let keys = fields.length;
  if (keys > bounds.maxKeys) return { field: 'body', limit: 'keys' };
  for (const field of fields) {
    const pending: Array<[value: unknown, depth: number]> = [[body[field], 1]];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const [value, depth] = next;
      if (typeof value !== 'object' || value === null) continue;
      if (depth > bounds.maxDepth) return { field, limit: 'depth' };
      if (Array.isArray(value)) {
        for (const item of value as unknown[]) pending.push([item, depth + 1]);
        continue;
      }
      // Count before reading values: listing the keys of an object too wide costs half as much.
      const names = Object.keys(value);
      keys += names.length;
      if (keys > bounds.maxKeys) return { field, limit: 'keys' };
      for (const name of names) pending.push([(value as Record<string, unknown>)[name], depth + 1]);
    }
  }
  return null;
}
