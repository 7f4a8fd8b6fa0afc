/**
 * One in-memory form for every tree ensemble candor explains (XGBoost JSON, LightGBM text, ONNX-ML
 * TreeEnsemble, candor's own random forest and boosted trees): flat typed arrays per tree, a single
 * output (one class of a multi-class model is chosen when loading), a base margin and a link.
 *
 * The model's output in *margin* (raw) space is `base + Σ_trees leaf value`; the link maps it to the
 * probability space (`logistic`), or to the mean of a log-link regression (`exp`), or not at all.
 */

/** How a feature value reaching a node that splits on it chooses a branch. */
export const Missing = {
  /** NaN goes the default way; anything else is compared with the threshold. */
  NanDefault: 0,
  /** NaN is read as 0 before comparing (LightGBM `missing_type=None`). */
  NanAsZero: 1,
  /** NaN and 0 (|x| ≤ 1e-35, LightGBM's kZeroThreshold) go the default way (LightGBM `missing_type=Zero`). */
  ZeroDefault: 2,
} as const;

export interface Tree {
  /** Child taken when the comparison holds; -1 at a leaf. */
  left: Int32Array;
  /** Child taken otherwise; -1 at a leaf. */
  right: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  /** 1: go left when `x <= threshold`; 0: when `x < threshold`. */
  le: Uint8Array;
  /** 1: missing values go left; 0: right. */
  defaultLeft: Uint8Array;
  missing: Uint8Array;
  /** Leaf values (margin contributions); unused at internal nodes. */
  value: Float64Array;
  /** Training weight (count or hessian sum) reaching each node; null when the format has none. */
  cover: Float64Array | null;
}

export type Link = 'identity' | 'logistic' | 'exp';

export interface TreeEnsemble {
  trees: Tree[];
  nFeatures: number;
  featureNames: string[];
  /** Added to the sum of the trees, in margin space. */
  base: number;
  link: Link;
  /** XGBoost and ONNX compare in float32: inputs are rounded to float32 before every comparison. */
  float32: boolean;
  /** Where the model came from, for messages and reports ("XGBoost 1.7.4 binary:logistic, 20 trees"). */
  description: string;
  /** What the margin is, for labels ("log-odds", "probability" for a forest of class frequencies…). */
  outputLabel?: string;
  /** Multi-class models (one margin per class): how many classes, and which one these trees are. */
  numClasses?: number;
  classIndex?: number;
}

export function marginLabel(e: TreeEnsemble): string {
  return e.outputLabel ?? (e.link === 'logistic' ? 'log-odds' : e.link === 'exp' ? 'log of the mean' : 'value');
}

export function isLeaf(t: Tree, node: number): boolean {
  return t.left[node]! < 0;
}

/** The child of `node` that the value `v` (already rounded if the model is float32) goes to. */
export function nextNode(t: Tree, node: number, v: number): number {
  const m = t.missing[node]!;
  if (v !== v) {
    if (m === Missing.NanAsZero) v = 0;
    else return t.defaultLeft[node] ? t.left[node]! : t.right[node]!;
  }
  if (m === Missing.ZeroDefault && v >= -1e-35 && v <= 1e-35) return t.defaultLeft[node] ? t.left[node]! : t.right[node]!;
  const thr = t.threshold[node]!;
  const goLeft = t.le[node] ? v <= thr : v < thr;
  return goLeft ? t.left[node]! : t.right[node]!;
}

/** Rows as the model compares them: a float32 copy when the model is float32, else the input itself. */
export function modelInput(e: TreeEnsemble, X: Float64Array): Float64Array {
  if (!e.float32) return X;
  const out = new Float64Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = Math.fround(X[i]!);
  return out;
}

/** The leaf a row (offset `off` into `x`, already model input) reaches. */
export function leafOf(t: Tree, x: Float64Array, off: number): number {
  let n = 0;
  while (t.left[n]! >= 0) n = nextNode(t, n, x[off + t.feature[n]!]!);
  return n;
}

/** Margin-space predictions for `n` rows of `d` features (row-major). */
export function predictMargin(e: TreeEnsemble, X: Float64Array, n: number): Float64Array {
  checkRows(e, X, n);
  const x = modelInput(e, X);
  const d = e.nFeatures;
  const out = new Float64Array(n).fill(e.base);
  for (const t of e.trees) for (let r = 0; r < n; r++) out[r] += t.value[leafOf(t, x, r * d)]!;
  return out;
}

export function applyLink(link: Link, m: number): number {
  if (link === 'logistic') return 1 / (1 + Math.exp(-m));
  if (link === 'exp') return Math.exp(m);
  return m;
}

/** Predictions after the link (probabilities for a logistic model). */
export function predict(e: TreeEnsemble, X: Float64Array, n: number): Float64Array {
  const m = predictMargin(e, X, n);
  if (e.link !== 'identity') for (let i = 0; i < n; i++) m[i] = applyLink(e.link, m[i]!);
  return m;
}

export function checkRows(e: TreeEnsemble, X: Float64Array, n: number): void {
  if (X.length !== n * e.nFeatures) throw new Error(`expected ${n} rows of ${e.nFeatures} features (${n * e.nFeatures} values), got ${X.length} values`);
}

/** Depth of the deepest leaf (root alone = 0). */
export function treeDepth(t: Tree): number {
  let max = 0;
  const stack: number[] = [0, 0];
  while (stack.length) {
    const d = stack.pop()!;
    const n = stack.pop()!;
    if (t.left[n]! < 0) max = Math.max(max, d);
    else stack.push(t.left[n]!, d + 1, t.right[n]!, d + 1);
  }
  return max;
}

/** Cover-weighted mean of a tree's leaves: its expected value under the training distribution. */
export function treeExpectation(t: Tree, node = 0): number {
  if (!t.cover) throw new Error('tree has no node covers (use interventional SHAP or attach covers)');
  if (t.left[node]! < 0) return t.value[node]!;
  const c = t.cover[node]!;
  if (!(c > 0)) throw new Error(`node ${node} has cover ${c}; covers must be positive`);
  return (t.cover[t.left[node]!]! * treeExpectation(t, t.left[node]!) + t.cover[t.right[node]!]! * treeExpectation(t, t.right[node]!)) / c;
}

/** Whether every tree carries covers (path-dependent TreeSHAP needs them). */
export function hasCovers(e: TreeEnsemble): boolean {
  return e.trees.every((t) => t.cover !== null);
}

/**
 * Node covers counted from data: how many rows of `X` pass through each node. For formats that carry
 * no covers (ONNX-ML), this gives path-dependent TreeSHAP the distribution of the data passed.
 */
export function coversFromData(e: TreeEnsemble, X: Float64Array, n: number): TreeEnsemble {
  checkRows(e, X, n);
  const x = modelInput(e, X);
  const trees = e.trees.map((t) => {
    const cover = new Float64Array(t.left.length);
    for (let r = 0; r < n; r++) {
      let node = 0;
      cover[0]! += 1;
      while (t.left[node]! >= 0) {
        node = nextNode(t, node, x[r * e.nFeatures + t.feature[node]!]!);
        cover[node]! += 1;
      }
    }
    return { ...t, cover };
  });
  return { ...e, trees };
}

/** Replace every tree's covers (e.g. from a sidecar file): one array per tree, one number per node. */
export function withCovers(e: TreeEnsemble, covers: number[][], source = 'covers'): TreeEnsemble {
  if (covers.length !== e.trees.length) throw new Error(`${source}: ${covers.length} cover arrays for ${e.trees.length} trees`);
  const trees = e.trees.map((t, i) => {
    const c = covers[i]!;
    if (c.length !== t.left.length) throw new Error(`${source}[${i}]: ${c.length} covers for ${t.left.length} nodes`);
    return { ...t, cover: Float64Array.from(c) };
  });
  return { ...e, trees };
}

/** Builds a tree from per-node arrays, checking that child indices form a tree rooted at 0. */
export function makeTree(
  p: {
    left: ArrayLike<number>;
    right: ArrayLike<number>;
    feature: ArrayLike<number>;
    threshold: ArrayLike<number>;
    value: ArrayLike<number>;
    cover?: ArrayLike<number> | null;
    defaultLeft?: ArrayLike<number>;
    le?: ArrayLike<number> | boolean;
    missing?: ArrayLike<number> | number;
  },
  nFeatures: number,
  where: string,
): Tree {
  const n = p.left.length;
  const fields: [string, ArrayLike<number> | null | undefined][] = [['right', p.right], ['feature', p.feature], ['threshold', p.threshold], ['value', p.value], ['cover', p.cover], ['defaultLeft', p.defaultLeft]];
  for (const [k, a] of fields) if (a && a.length !== n) throw new Error(`${where}: '${k}' has ${a.length} entries, expected ${n} (one per node)`);
  const t: Tree = {
    left: Int32Array.from(p.left),
    right: Int32Array.from(p.right),
    feature: Int32Array.from(p.feature),
    threshold: Float64Array.from(p.threshold),
    value: Float64Array.from(p.value),
    cover: p.cover ? Float64Array.from(p.cover) : null,
    defaultLeft: p.defaultLeft ? Uint8Array.from(p.defaultLeft) : new Uint8Array(n),
    le: typeof p.le === 'boolean' || p.le === undefined ? new Uint8Array(n).fill(p.le ? 1 : 0) : Uint8Array.from(p.le),
    missing: typeof p.missing === 'number' || p.missing === undefined ? new Uint8Array(n).fill(p.missing ?? 0) : Uint8Array.from(p.missing),
  };
  const seen = new Uint8Array(n);
  const stack = [0];
  while (stack.length) {
    const i = stack.pop()!;
    if (seen[i]) throw new Error(`${where}: node ${i} is reached twice (the child indices do not form a tree)`);
    seen[i] = 1;
    const l = t.left[i]!, r = t.right[i]!;
    if (l < 0 !== r < 0) throw new Error(`${where}: node ${i} has one child (left ${l}, right ${r})`);
    if (l < 0) {
      if (!Number.isFinite(t.value[i])) throw new Error(`${where}: leaf ${i} has value ${t.value[i]}`);
      continue;
    }
    if (l >= n || r >= n) throw new Error(`${where}: node ${i} has a child index out of range (left ${l}, right ${r}, ${n} nodes)`);
    const f = t.feature[i]!;
    if (!(f >= 0 && f < nFeatures)) throw new Error(`${where}: node ${i} splits on feature ${f}, but the model has ${nFeatures} features`);
    if (Number.isNaN(t.threshold[i])) throw new Error(`${where}: node ${i} has threshold NaN`);
    stack.push(l, r);
  }
  return t;
}
