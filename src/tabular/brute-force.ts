/**
 * Shapley values by enumerating every coalition — exponential, for checking the fast algorithms on
 * small models. Value functions: path-dependent conditional expectation (cover-weighted traversal of
 * the features outside S) and interventional (features outside S taken from background rows).
 */
import { applyLink, modelInput, nextNode, type Tree, type TreeEnsemble } from './ensemble.js';

/** φ_i = Σ_{S ⊆ N∖{i}} |S|!(d−|S|−1)!/d! · (v(S ∪ {i}) − v(S)), with v given on bitmasks. */
export function shapleyFromGame(v: (mask: number) => number, d: number): Float64Array {
  if (d > 20) throw new Error(`brute-force Shapley values over ${d} features would take 2^${d} evaluations`);
  const vals = new Float64Array(1 << d);
  for (let m = 0; m < 1 << d; m++) vals[m] = v(m);
  const fact = [1];
  for (let i = 1; i <= d; i++) fact.push(fact[i - 1]! * i);
  const phi = new Float64Array(d);
  for (let m = 0; m < 1 << d; m++) {
    let k = 0;
    for (let j = 0; j < d; j++) if (m & (1 << j)) k++;
    const w = (fact[k]! * fact[d - k - 1 >= 0 ? d - k - 1 : 0]!) / fact[d]!;
    for (let i = 0; i < d; i++) if (!(m & (1 << i))) phi[i]! += w * (vals[m | (1 << i)]! - vals[m]!);
  }
  return phi;
}

function condExpectation(t: Tree, x: Float64Array, off: number, mask: number, node = 0): number {
  if (t.left[node]! < 0) return t.value[node]!;
  const f = t.feature[node]!;
  if (mask & (1 << f)) return condExpectation(t, x, off, mask, nextNode(t, node, x[off + f]!));
  const l = t.left[node]!, r = t.right[node]!;
  const c = t.cover!;
  return (c[l]! * condExpectation(t, x, off, mask, l) + c[r]! * condExpectation(t, x, off, mask, r)) / c[node]!;
}

/** Path-dependent game: v(S) = base + Σ_t E_cover[f_t | x_S]; margin space. */
export function bruteForcePathDependent(e: TreeEnsemble, X: Float64Array, row: number): Float64Array {
  const x = modelInput(e, X);
  const d = e.nFeatures;
  return shapleyFromGame((mask) => e.trees.reduce((s, t) => s + condExpectation(t, x, row * d, mask), e.base), d);
}

function leafValue(t: Tree, get: (f: number) => number): number {
  let n = 0;
  while (t.left[n]! >= 0) n = nextNode(t, n, get(t.feature[n]!));
  return t.value[n]!;
}

/** Interventional game: v(S) = mean_z link?(base + Σ_t f_t(x_S, z_S̄)); `probability` applies the link inside the mean. */
export function bruteForceInterventional(e: TreeEnsemble, X: Float64Array, row: number, background: Float64Array, nb: number, probability = false): Float64Array {
  const x = modelInput(e, X);
  const z = modelInput(e, background);
  const d = e.nFeatures;
  return shapleyFromGame((mask) => {
    let s = 0;
    for (let b = 0; b < nb; b++) {
      const get = (f: number) => (mask & (1 << f) ? x[row * d + f]! : z[b * d + f]!);
      const m = e.trees.reduce((acc, t) => acc + leafValue(t, get), e.base);
      s += probability ? applyLink(e.link, m) : m;
    }
    return s / nb;
  }, d);
}
