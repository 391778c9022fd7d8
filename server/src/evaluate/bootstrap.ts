/**
 * Percentile bootstrap confidence intervals with a fixed-seed generator, so the same inputs give
 * the same interval on every run and machine.
 */

import { mulberry32 } from "../util/random.js";

export { mulberry32 };

/** The q-quantile (0..1) of ascending values, interpolating linearly (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface BootstrapOptions {
  /** Resamples (default 1000). */
  samples?: number;
  seed?: number;
  /** Interval level (default 0.95). */
  level?: number;
}

export interface Interval {
  low: number;
  high: number;
}

/**
 * Resamples n items with replacement `samples` times, evaluates `statistic` on each resample's
 * indices and returns the central `level` percentile interval. Statistics that come out null or
 * NaN for a resample (e.g. F1 with no positives) are left out; null when none is left.
 */
export function bootstrapInterval(n: number, statistic: (indices: number[]) => number | null, options: BootstrapOptions = {}): Interval | null {
  const samples = options.samples ?? 1000;
  const level = options.level ?? 0.95;
  if (n === 0 || samples <= 0) return null;
  const random = mulberry32(options.seed ?? 12345);
  const values: number[] = [];
  const indices = new Array<number>(n);
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < n; i++) indices[i] = Math.floor(random() * n);
    const v = statistic(indices);
    if (v !== null && !Number.isNaN(v)) values.push(v);
  }
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return { low: quantile(values, tail), high: quantile(values, 1 - tail) };
}
