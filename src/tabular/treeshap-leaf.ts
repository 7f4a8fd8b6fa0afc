/**
 * Path-dependent TreeSHAP by per-leaf tables (the idea of Yang's "Fast TreeSHAP v2", 2021): the same
 * values as Algorithm 2 with O(L·D) work per row and tree instead of O(L·D²).
 *
 * A tree's cover-weighted game is a sum over leaves of product games
 * `g_l(S) = v_l · ∏_{j ∈ U_l} (j ∈ S ? o_j : z_j)`, where U_l holds the distinct features on the path
 * to leaf l, o_j ∈ {0, 1} says whether the row satisfies every split on j along that path, and z_j is
 * the product of the cover fractions of those splits. With M = {j : o_j = 1}, k = |U_l|,
 * P = ∏_{j ∈ U∖M} z_j and `s(T) = Σ_{S ⊆ T} |S|!(k−|S|−1)!/k! · ∏_{j ∈ T∖S} z_j`, the leaf gives
 *   φ_i += v·(1 − z_i)·P·s(M∖{i})   for i ∈ M,       φ_i −= v·P·s(M)   for i ∈ U∖M.
 * `s` depends only on the mask, so it is tabulated once per leaf (2^k entries) and each row only
 * computes its mask. Trees whose paths hold more than MAX_UNIQUE distinct features use Algorithm 2.
 */
import { nextNode, type Tree } from './ensemble.js';

export const MAX_UNIQUE = 14;

export interface LeafTables {
  /** Per leaf: node id, value, number k of distinct features, offsets into the flat arrays. */
  leafNode: Int32Array;
  leafValue: Float64Array;
  k: Int32Array;
  /** Offset of a leaf's k features / z values in `feat`/`z`. */
  uOff: Int32Array;
  feat: Int32Array;
  z: Float64Array;
  /** Offset of a leaf's 2^k table in `table`. */
  tOff: Int32Array;
  table: Float64Array;
  /**
   * Per internal node, the position of its feature among the distinct features of the path above it
   * (the same for every leaf below, since positions are given in order of first appearance); per
   * node, the leaf number at leaves (−1 elsewhere).
   */
  nodePos: Int32Array;
  leafOfNode: Int32Array;
}

/** The tables of one tree, or null when some path has more than MAX_UNIQUE distinct features. */
export function buildLeafTables(t: Tree): LeafTables | null {
  const cover = t.cover!;
  const leaves: { node: number; steps: [number, number, number][]; feats: number[]; z: number[] }[] = [];
  const path: [number, number][] = [];
  let tooDeep = false;
  const visit = (node: number): void => {
    if (tooDeep) return;
    if (t.left[node]! < 0) {
      const feats: number[] = [];
      const z: number[] = [];
      const steps: [number, number, number][] = [];
      for (const [n, wentLeft] of path) {
        const f = t.feature[n]!;
        let pos = feats.indexOf(f);
        if (pos < 0) {
          pos = feats.length;
          feats.push(f);
          z.push(1);
        }
        const child = wentLeft ? t.left[n]! : t.right[n]!;
        z[pos]! *= cover[child]! / cover[n]!;
        steps.push([n, wentLeft, pos]);
      }
      if (feats.length > MAX_UNIQUE) tooDeep = true;
      leaves.push({ node, steps, feats, z });
      return;
    }
    path.push([node, 1]);
    visit(t.left[node]!);
    path[path.length - 1] = [node, 0];
    visit(t.right[node]!);
    path.pop();
  };
  visit(0);
  if (tooDeep) return null;
  const L = leaves.length;
  const tabs: LeafTables = {
    leafNode: new Int32Array(L),
    leafValue: new Float64Array(L),
    k: new Int32Array(L),
    uOff: new Int32Array(L),
    feat: new Int32Array(leaves.reduce((s, l) => s + l.feats.length, 0)),
    z: new Float64Array(leaves.reduce((s, l) => s + l.feats.length, 0)),
    tOff: new Int32Array(L),
    table: new Float64Array(leaves.reduce((s, l) => s + (1 << l.feats.length), 0)),
    nodePos: new Int32Array(t.left.length),
    leafOfNode: new Int32Array(t.left.length).fill(-1),
  };
  let u = 0, tt = 0;
  leaves.forEach((l, i) => {
    const k = l.feats.length;
    tabs.leafNode[i] = l.node;
    tabs.leafValue[i] = t.value[l.node]!;
    tabs.k[i] = k;
    tabs.uOff[i] = u;
    tabs.tOff[i] = tt;
    tabs.leafOfNode[l.node] = i;
    for (let j = 0; j < k; j++) {
      tabs.feat[u + j] = l.feats[j]!;
      tabs.z[u + j] = l.z[j]!;
    }
    for (const [n, , pos] of l.steps) tabs.nodePos[n] = pos;
    fillTable(tabs.table, tt, l.z, k);
    u += k;
    tt += 1 << k;
  });
  return tabs;
}

/** table[mask] = Σ_r w(m − r, k)·e_r(z over mask), m = |mask|, w(s, k) = s!(k−s−1)!/k!. */
function fillTable(table: Float64Array, off: number, z: number[], k: number): void {
  const w = new Float64Array(k + 1);
  const fact = [1];
  for (let i = 1; i <= k; i++) fact.push(fact[i - 1]! * i);
  for (let s = 0; s < k; s++) w[s] = (fact[s]! * fact[k - s - 1]!) / fact[k]!;
  const e = new Float64Array(k + 1);
  for (let mask = 0; mask < 1 << k; mask++) {
    // elementary symmetric polynomials of the z's in the mask
    e.fill(0);
    e[0] = 1;
    let m = 0;
    for (let j = 0; j < k; j++) {
      if (!(mask & (1 << j))) continue;
      m++;
      for (let r = m; r >= 1; r--) e[r]! += e[r - 1]! * z[j]!;
    }
    let s = 0;
    for (let r = 0; r <= m; r++) if (m - r < k) s += w[m - r]! * e[r]!;
    table[off + mask] = s;
  }
}

/**
 * Adds one tree's path-dependent SHAP values for the row `x[xOff…]` to `phi[phiOff…]`: one walk
 * over the tree carries the mask of satisfied features (a bit is cleared on entering the branch the
 * row does not take), then each leaf reads its table. `stack` is scratch of ≥ 2·(nodes + 1) entries.
 */
export function leafShapRow(t: Tree, tabs: LeafTables, x: Float64Array, xOff: number, phi: Float64Array, phiOff: number, stack: Int32Array): void {
  const { leafValue, k: K, uOff, feat, z, tOff, table, nodePos, leafOfNode } = tabs;
  const left = t.left, right = t.right;
  let sp = 0;
  stack[sp++] = 0;
  stack[sp++] = -1; // all bits set
  while (sp > 0) {
    const mask0 = stack[--sp]!;
    const node = stack[--sp]!;
    const l = left[node]!;
    if (l >= 0) {
      const bit = ~(1 << nodePos[node]!);
      const hotLeft = nextNode(t, node, x[xOff + t.feature[node]!]!) === l;
      stack[sp++] = l;
      stack[sp++] = hotLeft ? mask0 : mask0 & bit;
      stack[sp++] = right[node]!;
      stack[sp++] = hotLeft ? mask0 & bit : mask0;
      continue;
    }
    const li = leafOfNode[node]!;
    const k = K[li]!;
    const mask = mask0 & ((1 << k) - 1);
    const u = uOff[li]!;
    let P = leafValue[li]!;
    for (let j = 0; j < k; j++) if (!(mask & (1 << j))) P *= z[u + j]!;
    if (P === 0) continue;
    const to = tOff[li]!;
    const out = P * table[to + mask]!;
    for (let j = 0; j < k; j++) {
      const b = 1 << j;
      if (mask & b) phi[phiOff + feat[u + j]!]! += (1 - z[u + j]!) * P * table[to + (mask ^ b)]!;
      else phi[phiOff + feat[u + j]!]! -= out;
    }
  }
}
