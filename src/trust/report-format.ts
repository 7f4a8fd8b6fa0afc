/** Shared pieces of the trust report parts: the Part shape, the common input, number formatting. */
import type { CheckItem, Figure, Table } from '../report/types.js';

export type Probs = Float64Array | Float32Array | ArrayLike<number>;

/** A slice of a Section that one analysis contributes (the CLI commands write one Part each). */
export interface Part {
  summary: string[];
  figures: Figure[];
  tables: Table[];
  results: Record<string, unknown>;
  checks: CheckItem[];
}

export const emptyPart = (): Part => ({ summary: [], figures: [], tables: [], results: {}, checks: [] });

export function mergeParts(parts: Part[]): Part {
  const out = emptyPart();
  for (const p of parts) {
    out.summary.push(...p.summary);
    out.figures.push(...p.figures);
    out.tables.push(...p.tables);
    Object.assign(out.results, p.results);
    out.checks.push(...p.checks);
  }
  return out;
}

/** Predictions with labels, as the parts take them. */
export interface LabelledProbs {
  /** [N, K] row-major probabilities. */
  probs: Probs;
  labels: ArrayLike<number>;
  /** [N, K] logits when known (temperature scaling uses them; otherwise log p). */
  logits?: Probs;
}

export const pct = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(digits)} %`);
export const num = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));
export const ci = (i: { lower: number; upper: number } | null | undefined, digits = 1): string => (i ? `${(100 * i.lower).toFixed(digits)}–${(100 * i.upper).toFixed(digits)} %` : 'n/a');

/** JSON-safe copy: ±∞ and NaN become null, typed arrays become plain arrays. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, (x) => jsonSafe(x));
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

export function check(k: number, probs: Probs, labels: ArrayLike<number>, what: string): void {
  if (!Number.isInteger(k) || k < 2) throw new Error(`${what}: need at least 2 classes, got ${k}`);
  if (probs.length !== labels.length * k) throw new Error(`${what}: ${probs.length} probabilities are not [${labels.length}, ${k}]`);
  if (labels.length === 0) throw new Error(`${what}: no cases`);
}
