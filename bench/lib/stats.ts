/** Rounds to `digits` decimals (NaN stays NaN, which JSON writes as null). */
export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** round() for a value that may be missing. */
export const roundOrNull = (n: number | null | undefined, digits = 2): number | null =>
  n === null || n === undefined || Number.isNaN(n) ? null : round(n, digits);

export const mean = (values: readonly number[]): number | null =>
  values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The p-th percentile (0..100) of an ascending array (the element at floor(p% × n)); undefined when empty. */
export function percentileOfSorted(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** [value, count] pairs sorted by value: wrk's latency histogram (µs). */
export type Histogram = Array<[value: number, count: number]>;

/** The value at percentile `p` of a histogram (nearest rank); null when it is empty. */
export function percentileOfHistogram(histogram: Histogram, p: number): number | null {
  const total = histogram.reduce((a, [, count]) => a + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [value, count] of histogram) {
    seen += count;
    if (seen >= rank) return value;
  }
  return histogram[histogram.length - 1][0];
}

/** Sums histograms into one, sorted by value. */
export function mergeHistograms(histograms: readonly Histogram[]): Histogram {
  const counts = new Map<number, number>();
  for (const histogram of histograms)
    for (const [value, count] of histogram) counts.set(value, (counts.get(value) ?? 0) + count);
  return [...counts.entries()].sort((a, b) => a[0] - b[0]);
}
