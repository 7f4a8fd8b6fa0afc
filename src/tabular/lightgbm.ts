/**
 * LightGBM's text model format (`Booster.save_model("m.txt")`, `model_to_string()`): numerical
 * splits `x <= threshold` in float64, the three missing-value types packed in `decision_type`, node
 * covers from `internal_count`/`leaf_count`. Internal nodes are numbered 0…L−2; a negative child
 * `c` is leaf `~c`. The init score is folded into the first tree, so the base margin is 0.
 */
import { Missing, makeTree, type Link, type Tree, type TreeEnsemble } from './ensemble.js';

export interface LgbLoadOptions {
  classIndex?: number;
  source?: string;
}

function fields(block: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    else if (line.trim()) m.set(line.trim(), '');
  }
  return m;
}

function numbers(m: Map<string, string>, key: string, count: number, where: string): number[] {
  const v = m.get(key);
  if (v === undefined) throw new Error(`${where}: missing '${key}'`);
  const out = v === '' ? [] : v.split(/\s+/).map(Number);
  if (out.length !== count) throw new Error(`${where}: '${key}' has ${out.length} values, expected ${count}`);
  const bad = out.findIndex((x) => Number.isNaN(x));
  if (bad >= 0) throw new Error(`${where}: '${key}' value ${bad} is not a number ('${v.split(/\s+/)[bad]}')`);
  return out;
}

function objectiveLink(objective: string, src: string): { link: Link; scale: number } {
  const [name = '', ...params] = objective.split(/\s+/);
  const param = (k: string) => params.find((p) => p.startsWith(`${k}:`))?.slice(k.length + 1);
  if (name === 'binary') return { link: 'logistic', scale: Number(param('sigmoid') ?? 1) };
  if (name === 'cross_entropy' || name === 'xentropy') return { link: 'logistic', scale: 1 };
  if (['poisson', 'gamma', 'tweedie'].includes(name)) return { link: 'exp', scale: 1 };
  if (['regression', 'regression_l2', 'regression_l1', 'huber', 'fair', 'quantile', 'mape', 'lambdarank', 'rank_xendcg', 'multiclass', 'multiclassova', 'custom', 'none'].includes(name)) return { link: 'identity', scale: 1 };
  throw new Error(`${src}: objective '${objective}' is not supported`);
}

export function parseLightgbmText(text: string, opts: LgbLoadOptions = {}): TreeEnsemble {
  const src = opts.source ?? 'LightGBM model';
  const body = text.split(/\nend of trees/)[0]!;
  const blocks = body.split(/\n(?=Tree=)/);
  const head = fields(blocks[0]!);
  if (!blocks[0]!.trimStart().startsWith('tree')) throw new Error(`${src}: not a LightGBM text model (expected a first line 'tree')`);
  const maxFeature = Number(head.get('max_feature_idx'));
  if (!Number.isInteger(maxFeature) || maxFeature < 0) throw new Error(`${src}: 'max_feature_idx' must be a non-negative integer, got '${head.get('max_feature_idx')}'`);
  const nFeatures = maxFeature + 1;
  const perIteration = Number(head.get('num_tree_per_iteration') ?? 1);
  const numClass = Number(head.get('num_class') ?? 1);
  const objective = head.get('objective') ?? 'regression';
  const { link: baseLink, scale } = objectiveLink(objective, src);
  const link = numClass > 1 ? 'identity' : baseLink;
  const classIndex = opts.classIndex ?? 0;
  if (!(classIndex >= 0 && classIndex < perIteration)) throw new Error(`${src}: class index ${classIndex} out of range (num_tree_per_iteration ${perIteration})`);
  const average = head.has('average_output');
  const names = head.get('feature_names')?.split(/\s+/) ?? [];

  const trees: Tree[] = [];
  const treeBlocks = blocks.slice(1);
  const kept = treeBlocks.filter((_, i) => i % perIteration === classIndex);
  const factor = scale / (average ? Math.max(1, kept.length) : 1);
  treeBlocks.forEach((block, i) => {
    if (i % perIteration !== classIndex) return;
    const m = fields(block);
    const where = `${src}: Tree=${m.get('Tree')}`;
    const L = Number(m.get('num_leaves'));
    if (!Number.isInteger(L) || L < 1) throw new Error(`${where}: 'num_leaves' must be a positive integer, got '${m.get('num_leaves')}'`);
    const leafValue = numbers(m, 'leaf_value', L, where);
    if (L === 1) {
      trees.push(makeTree({ left: [-1], right: [-1], feature: [0], threshold: [0], value: [leafValue[0]! * factor], cover: [1] }, nFeatures, where));
      return;
    }
    if (Number(m.get('num_cat') ?? 0) > 0) throw new Error(`${where}: 'num_cat' is ${m.get('num_cat')}; categorical splits are not supported`);
    const ni = L - 1;
    const feat = numbers(m, 'split_feature', ni, where);
    const thr = numbers(m, 'threshold', ni, where);
    const dt = numbers(m, 'decision_type', ni, where);
    const lc = numbers(m, 'left_child', ni, where);
    const rc = numbers(m, 'right_child', ni, where);
    const hasCounts = m.has('internal_count') && m.has('leaf_count');
    const ic = hasCounts ? numbers(m, 'internal_count', ni, where) : null;
    const lcount = hasCounts ? numbers(m, 'leaf_count', L, where) : null;
    const node = (c: number) => (c >= 0 ? c : ni + ~c);
    const n = ni + L;
    const left = new Array<number>(n).fill(-1), right = new Array<number>(n).fill(-1);
    const feature = new Array<number>(n).fill(0), threshold = new Array<number>(n).fill(0), value = new Array<number>(n).fill(0);
    const defaultLeft = new Array<number>(n).fill(0), missing = new Array<number>(n).fill(0);
    const cover = hasCounts ? new Array<number>(n).fill(0) : null;
    for (let k = 0; k < ni; k++) {
      if (dt[k]! & 1) throw new Error(`${where}: decision_type[${k}] is categorical; categorical splits are not supported`);
      for (const [name, c] of [['left_child', lc[k]!], ['right_child', rc[k]!]] as const)
        if (!Number.isInteger(c) || c >= ni || ~c >= L) throw new Error(`${where}: '${name}[${k}]' = ${c} points outside the tree (${ni} internal nodes, ${L} leaves)`);
      left[k] = node(lc[k]!);
      right[k] = node(rc[k]!);
      feature[k] = feat[k]!;
      threshold[k] = thr[k]!;
      defaultLeft[k] = dt[k]! & 2 ? 1 : 0;
      const type = (dt[k]! >> 2) & 3;
      missing[k] = type === 0 ? Missing.NanAsZero : type === 1 ? Missing.ZeroDefault : Missing.NanDefault;
      if (cover) cover[k] = ic![k]!;
    }
    for (let l = 0; l < L; l++) {
      value[ni + l] = leafValue[l]! * factor;
      if (cover) cover[ni + l] = lcount![l]!;
    }
    trees.push(makeTree({ left, right, feature, threshold, value, cover, defaultLeft, le: true, missing }, nFeatures, where));
  });
  if (trees.length === 0) throw new Error(`${src}: no trees found (expected blocks starting 'Tree=0')`);
  return {
    trees,
    nFeatures,
    featureNames: names.length === nFeatures ? names : Array.from({ length: nFeatures }, (_, i) => `Column_${i}`),
    base: 0,
    link,
    float32: false,
    description: `LightGBM ${head.get('version') ?? ''} ${objective}${numClass > 1 ? ` (class ${classIndex} of ${numClass})` : ''}${average ? ' (random forest)' : ''}, ${trees.length} trees`.replace(/\s+/g, ' '),
    ...(numClass > 1 ? { numClasses: numClass, classIndex } : {}),
  };
}
