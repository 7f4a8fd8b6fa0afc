/** Input checks and helpers shared by the binary statistics (scores where higher = more positive, labels 0/1). */

export type Nums = ArrayLike<number>;

/** Throws a clear error unless scores and labels are equal-length, non-empty, finite and 0/1. Returns the positives count. */
export function checkBinary(what: string, scores: Nums, labels: Nums): number {
  if (scores.length !== labels.length) throw new Error(`${what}: ${scores.length} scores but ${labels.length} labels`);
  if (labels.length === 0) throw new Error(`${what}: no samples`);
  let pos = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y === 1) pos++;
    else if (y !== 0) throw new Error(`${what}: labels must be 0 or 1, got ${y} at index ${i}`);
    if (!Number.isFinite(scores[i])) throw new Error(`${what}: score at index ${i} is ${scores[i]} (not a finite number)`);
  }
  return pos;
}

/** Throws unless both classes are present (ROC, AUROC, DeLong need positives and negatives). */
export function requireBothClasses(what: string, scores: Nums, labels: Nums): { pos: number; neg: number } {
  const pos = checkBinary(what, scores, labels);
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) {
    throw new Error(`${what}: needs both classes in the labels, got only ${pos === 0 ? 'negatives (0)' : 'positives (1)'} (${labels.length} samples)`);
  }
  return { pos, neg };
}

/** Column c of a flat row-major [N, K] array. */
export function column(flat: Nums, k: number, c: number): Float64Array {
  const n = flat.length / k;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = flat[i * k + c]!;
  return out;
}

/** labels == c as 0/1. */
export function oneVsRest(labels: Nums, c: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] === c ? 1 : 0;
  return out;
}

/** Ratio a / b, or null when b = 0 (a defined value instead of NaN). */
export function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}
