/**
 * Summaries of repeated measurements: median, 99th percentile, minimum and maximum, and the
 * ratio of each contender's median to the best peer's in the same row group.
 *
 * @example
 * ```ts
 * import { summarise } from "./stats.ts";
 * summarise([3, 1, 2]).median; // 2
 * ```
 *
 * @module
 */

/** A summary of samples. */
export interface Summary {
  /** Number of samples. */
  n: number;
  /** Median. */
  median: number;
  /** 99th percentile (nearest rank). */
  p99: number;
  /** Smallest sample. */
  min: number;
  /** Largest sample. */
  max: number;
}

/** The `q` quantile (0..1) of sorted `values`, nearest rank; `NaN` when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

/** Median of `values` (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Summarises `values`. */
export function summarise(values: readonly number[]): Summary {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: median(sorted),
    p99: quantile(sorted, 0.99),
    min: sorted.length ? sorted[0] : NaN,
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}
