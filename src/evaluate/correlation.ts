/**
 * Correlation coefficients on flat arrays, computed in float64.
 *
 *   Pearson   r = Σ (a − ā)(b − b̄) / √(Σ (a − ā)² · Σ (b − b̄)²)
 *   Spearman  ρ = Pearson(rank(a), rank(b)), ties given their average rank
 *             (scipy.stats.spearmanr / rankdata(method='average')).
 *
 * A constant input has no defined correlation: the result is NaN (scipy also returns nan).
 */

type Numbers = ArrayLike<number>;

function checkPair(a: Numbers, b: Numbers, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: a has ${a.length} values, b has ${b.length}`);
  if (a.length < 2) throw new Error(`${what}: need at least 2 values, got ${a.length}`);
}

/** Pearson correlation coefficient (NaN when either input is constant). */
export function pearson(a: Numbers, b: Numbers): number {
  checkPair(a, b, 'pearson');
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return NaN;
  const r = sab / Math.sqrt(saa * sbb);
  return Math.max(-1, Math.min(1, r));
}

/** Ranks 1..n with ties averaged (scipy.stats.rankdata, method='average'). NaN is not allowed. */
export function rankdata(a: Numbers): Float64Array {
  const n = a.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(a[i]!)) throw new Error(`rankdata: value ${i} is NaN`);
    order[i] = i;
  }
  order.sort((i, j) => a[i]! - a[j]! || i - j);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && a[order[j]!] === a[order[i]!]) j++;
    const avg = (i + 1 + j) / 2; // mean of ranks i+1 .. j
    for (let k = i; k < j; k++) ranks[order[k]!] = avg;
    i = j;
  }
  return ranks;
}

/** Spearman rank correlation (average ranks for ties), as scipy.stats.spearmanr. */
export function spearman(a: Numbers, b: Numbers): number {
  checkPair(a, b, 'spearman');
  return pearson(rankdata(a), rankdata(b));
}
