/**
 * ONNX-ML `TreeEnsembleClassifier` / `TreeEnsembleRegressor` (ai.onnx.ml opset 1–3, as written by
 * skl2onnx, onnxmltools and hummingbird's tree mode). These carry no node covers, so only
 * interventional TreeSHAP applies — unless covers are attached (`withCovers` from a sidecar, or
 * `coversFromData`). The tree node must read the graph input directly: a model that scales or casts
 * first is a general ONNX model (explain it with KernelSHAP).
 *
 * Margin: for a regressor, `base_values[0] + Σ target weights` (divided by the number of trees for
 * AVERAGE); for a classifier, the chosen class's `base_values` entry plus its class weights, with a
 * binary model that stores weights for one class only explaining that class.
 */
import { parseModel } from '../onnx/proto.js';
import type { Attr, Node } from '../onnx/ir.js';
import { makeTree, type Link, type Tree, type TreeEnsemble } from './ensemble.js';

export interface OnnxTreeOptions {
  source?: string;
  /** Class to explain for a classifier (index into the class labels); default: the last class (positive class of a binary model). */
  classIndex?: number;
}

function attrNums(node: Node, name: string, src: string, required = true): number[] {
  const a: Attr | undefined = node.attrs[name] ?? node.attrs[`${name}_as_tensor`];
  if (!a) {
    if (required) throw new Error(`${src}: ${node.opType} has no attribute '${name}'`);
    return [];
  }
  if (a.type === 'floats' || a.type === 'ints') return a.value;
  if (a.type === 'tensor') return Array.from(a.value.data as ArrayLike<number | bigint>, Number);
  throw new Error(`${src}: attribute '${name}' has type ${a.type}, expected a list of numbers`);
}

function attrStrings(node: Node, name: string, src: string): string[] {
  const a = node.attrs[name];
  if (!a) throw new Error(`${src}: ${node.opType} has no attribute '${name}'`);
  if (a.type !== 'strings') throw new Error(`${src}: attribute '${name}' must be a list of strings`);
  return a.value;
}

function attrString(node: Node, name: string, dflt: string): string {
  const a = node.attrs[name];
  return a && a.type === 'string' ? a.value : dflt;
}

export function parseOnnxTrees(bytes: Uint8Array, opts: OnnxTreeOptions = {}): TreeEnsemble {
  const src = opts.source ?? 'ONNX model';
  const model = parseModel(bytes);
  const node = model.graph.nodes.find((n) => n.opType === 'TreeEnsembleClassifier' || n.opType === 'TreeEnsembleRegressor');
  if (!node) throw new Error(`${src}: no TreeEnsembleClassifier or TreeEnsembleRegressor node (ops: ${[...new Set(model.graph.nodes.map((n) => n.opType))].join(', ')}); explain it with KernelSHAP instead`);
  const input = model.graph.inputs.find((v) => v.name === node.inputs[0]);
  if (!input) throw new Error(`${src}: the ${node.opType} node reads '${node.inputs[0]}', which is computed by other nodes; only a tree ensemble reading the graph input directly can be explained exactly (use KernelSHAP)`);
  const isClf = node.opType === 'TreeEnsembleClassifier';

  const treeIds = attrNums(node, 'nodes_treeids', src);
  const nodeIds = attrNums(node, 'nodes_nodeids', src);
  const featIds = attrNums(node, 'nodes_featureids', src);
  const values = attrNums(node, 'nodes_values', src);
  const modes = attrStrings(node, 'nodes_modes', src);
  const trueIds = attrNums(node, 'nodes_truenodeids', src);
  const falseIds = attrNums(node, 'nodes_falsenodeids', src);
  const missTrue = attrNums(node, 'nodes_missing_value_tracks_true', src, false);
  const N = treeIds.length;
  for (const [k, a] of [['nodes_nodeids', nodeIds], ['nodes_featureids', featIds], ['nodes_values', values], ['nodes_modes', modes], ['nodes_truenodeids', trueIds], ['nodes_falsenodeids', falseIds]] as const)
    if (a.length !== N) throw new Error(`${src}: '${k}' has ${a.length} entries, 'nodes_treeids' ${N}`);

  const pre = isClf ? 'class' : 'target';
  const wTree = attrNums(node, `${pre}_treeids`, src);
  const wNode = attrNums(node, `${pre}_nodeids`, src);
  const wId = attrNums(node, `${pre}_ids`, src);
  const wVal = attrNums(node, `${pre}_weights`, src);
  if (wNode.length !== wTree.length || wId.length !== wTree.length || wVal.length !== wTree.length) throw new Error(`${src}: the ${pre}_treeids/nodeids/ids/weights lists differ in length`);
  const base = attrNums(node, 'base_values', src, false);
  const post = attrString(node, 'post_transform', 'NONE');

  let target = 0;
  let nOut = 1;
  let description: string;
  if (isClf) {
    const labels = node.attrs.classlabels_int64s ?? node.attrs.classlabels_strings;
    nOut = labels ? (labels.value as unknown[]).length : Math.max(...wId) + 1;
    const ids = new Set(wId);
    target = opts.classIndex ?? nOut - 1;
    if (!(target >= 0 && target < nOut)) throw new Error(`${src}: class index ${target} out of range (${nOut} classes)`);
    // binary model with one weight column (skl2onnx's boosted trees): the weights are the positive class's score
    if (nOut === 2 && ids.size === 1) {
      if (target !== 1) throw new Error(`${src}: this binary classifier stores the score of class 1 only; explain class 1`);
      target = [...ids][0]!;
    }
    description = `ONNX-ML TreeEnsembleClassifier (class ${opts.classIndex ?? nOut - 1} of ${nOut}, post_transform ${post})`;
  } else {
    nOut = Number(node.attrs.n_targets?.value ?? 1);
    if (nOut !== 1) throw new Error(`${src}: n_targets is ${nOut}; only single-target regressors are supported`);
    description = 'ONNX-ML TreeEnsembleRegressor';
  }
  const link: Link = post === 'LOGISTIC' ? 'logistic' : post === 'NONE' || post === 'SOFTMAX' || post === 'SOFTMAX_ZERO' ? 'identity' : (() => { throw new Error(`${src}: post_transform '${post}' is not supported`); })();
  const agg = attrString(node, 'aggregate_function', 'SUM');
  if (agg !== 'SUM' && agg !== 'AVERAGE') throw new Error(`${src}: aggregate_function '${agg}' is not supported (SUM or AVERAGE)`);

  const dim = input.shape?.[1];
  const nFeatures = typeof dim === 'number' && dim > 0 ? dim : Math.max(0, ...featIds) + 1;

  // group nodes by tree; local index by node id
  const byTree = new Map<number, number[]>();
  for (let i = 0; i < N; i++) {
    const list = byTree.get(treeIds[i]!) ?? [];
    list.push(i);
    byTree.set(treeIds[i]!, list);
  }
  const leafWeight = new Map<string, number>();
  for (let i = 0; i < wTree.length; i++) {
    if (wId[i] !== target) continue;
    const key = `${wTree[i]}:${wNode[i]}`;
    leafWeight.set(key, (leafWeight.get(key) ?? 0) + wVal[i]!);
  }
  const scale = agg === 'AVERAGE' ? 1 / byTree.size : 1;
  const trees: Tree[] = [];
  for (const [tid, list] of [...byTree].sort((a, b) => a[0] - b[0])) {
    const where = `${src}: tree ${tid}`;
    const local = new Map<number, number>();
    list.forEach((i, k) => local.set(nodeIds[i]!, k));
    const n = list.length;
    const left = new Array<number>(n).fill(-1), right = new Array<number>(n).fill(-1), feature = new Array<number>(n).fill(0);
    const threshold = new Array<number>(n).fill(0), value = new Array<number>(n).fill(0), le = new Array<number>(n).fill(0), defaultLeft = new Array<number>(n).fill(0);
    const isChild = new Uint8Array(n);
    list.forEach((i, k) => {
      const mode = modes[i]!;
      if (mode === 'LEAF') {
        value[k] = (leafWeight.get(`${tid}:${nodeIds[i]}`) ?? 0) * scale;
        return;
      }
      const t = local.get(trueIds[i]!), f = local.get(falseIds[i]!);
      if (t === undefined || f === undefined) throw new Error(`${where}: node ${nodeIds[i]} points to a missing child (true ${trueIds[i]}, false ${falseIds[i]})`);
      isChild[t] = isChild[f] = 1;
      const trueGoesLeft = mode === 'BRANCH_LEQ' || mode === 'BRANCH_LT';
      if (!trueGoesLeft && mode !== 'BRANCH_GTE' && mode !== 'BRANCH_GT') throw new Error(`${where}: node ${nodeIds[i]} has mode '${mode}'; only BRANCH_LEQ/LT/GTE/GT and LEAF are supported`);
      // GTE ≡ not LT, GT ≡ not LEQ: keep the comparison as <, <= and swap the branches
      le[k] = mode === 'BRANCH_LEQ' || mode === 'BRANCH_GT' ? 1 : 0;
      left[k] = trueGoesLeft ? t : f;
      right[k] = trueGoesLeft ? f : t;
      const nanTrue = (missTrue[i] ?? 0) !== 0;
      defaultLeft[k] = nanTrue === trueGoesLeft ? 1 : 0;
      feature[k] = featIds[i]!;
      threshold[k] = Math.fround(values[i]!);
    });
    const roots = [...isChild.keys()].filter((k) => !isChild[k]);
    if (roots.length !== 1) throw new Error(`${where}: expected one root node, found ${roots.length}`);
    // reorder so the root is node 0
    const order = [roots[0]!, ...[...Array(n).keys()].filter((k) => k !== roots[0])];
    const pos = new Array<number>(n);
    order.forEach((k, j) => (pos[k] = j));
    const re = <T,>(a: T[]) => order.map((k) => a[k]!);
    const remap = (a: number[]) => order.map((k) => (a[k]! < 0 ? -1 : pos[a[k]!]!));
    trees.push(makeTree({ left: remap(left), right: remap(right), feature: re(feature), threshold: re(threshold), value: re(value), le: re(le), defaultLeft: re(defaultLeft) }, nFeatures, where));
  }
  return {
    trees,
    nFeatures,
    featureNames: Array.from({ length: nFeatures }, (_, i) => `x${i}`),
    base: base[target] ?? (isClf && nOut === 2 && base.length === 1 ? base[0]! : 0),
    link,
    float32: true,
    description: `${description}, ${trees.length} trees`,
  };
}
