/**
 * XGBoost's JSON model format (what `Booster.save_model("m.json")` and `XGBClassifier.save_model`
 * write, XGBoost ≥ 1.0): gbtree and dart boosters, numeric splits. Leaf values sit in
 * `split_conditions` at leaves (thresholds are float32, printed shortest: they are rounded back); node covers are `sum_hessian`. XGBoost compares `x < split_condition`
 * in float32, NaN going the `default_left` way.
 */
import { decimal } from '../data/label-text.js';
import { makeTree, type Link, type Tree, type TreeEnsemble } from './ensemble.js';

export interface XgbLoadOptions {
  /** For multi-class models: which class's trees to explain (default 0). */
  classIndex?: number;
  /** Name of the file, for messages. */
  source?: string;
}

type Json = Record<string, unknown>;

function obj(v: unknown, field: string, src: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${src}: '${field}' must be an object`);
  return v as Json;
}
function arr(v: unknown, field: string, src: string): number[] {
  if (!Array.isArray(v)) throw new Error(`${src}: '${field}' must be an array`);
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'number') throw new Error(`${src}: '${field}[${i}]' must be a number, got ${JSON.stringify(v[i])}`);
  return v as number[];
}
function num(v: unknown, field: string, src: string): number {
  const n = typeof v === 'string' ? decimal(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${src}: '${field}' must be a finite number, got ${JSON.stringify(v)}`);
  return n;
}

/** A count (features, classes, targets): a non-negative integer within reason. */
function count(v: unknown, field: string, src: string, max = 1_000_000): number {
  const n = num(v, field, src);
  if (!(Number.isInteger(n) && n >= 0 && n <= max)) throw new Error(`${src}: '${field}' must be a whole number from 0 to ${max.toLocaleString('en')}, got ${JSON.stringify(v)}`);
  return n;
}

/** The link and the margin-space base for an XGBoost objective and its `base_score`. */
function objectiveLink(objective: string, baseScore: number, src: string): { link: Link; base: number } {
  if (objective === 'binary:logistic' || objective === 'reg:logistic') {
    if (!(baseScore > 0 && baseScore < 1)) throw new Error(`${src}: 'learner_model_param.base_score' ${baseScore} must be in (0, 1) for ${objective}`);
    return { link: 'logistic', base: Math.log(baseScore / (1 - baseScore)) };
  }
  if (['count:poisson', 'reg:gamma', 'reg:tweedie', 'survival:cox'].includes(objective)) {
    if (!(baseScore > 0)) throw new Error(`${src}: 'learner_model_param.base_score' ${baseScore} must be > 0 for ${objective}`);
    return { link: 'exp', base: Math.log(baseScore) };
  }
  if (objective.startsWith('reg:') || objective === 'binary:logitraw' || objective === 'binary:hinge' || objective.startsWith('multi:') || objective.startsWith('rank:')) {
    return { link: 'identity', base: baseScore };
  }
  throw new Error(`${src}: objective '${objective}' is not supported`);
}

export function parseXgboostJson(text: string | Uint8Array, opts: XgbLoadOptions = {}): TreeEnsemble {
  const src = opts.source ?? 'XGBoost model';
  let root: unknown;
  try {
    root = JSON.parse(typeof text === 'string' ? text : new TextDecoder().decode(text));
  } catch (e) {
    throw new Error(`${src}: not JSON (${(e as Error).message}); save the model with save_model("m.json"), not the binary .model/.ubj format`);
  }
  const learner = obj(obj(root, '(root)', src).learner, 'learner', src);
  const mp = obj(learner.learner_model_param, 'learner.learner_model_param', src);
  const nFeatures = count(mp.num_feature, 'learner.learner_model_param.num_feature', src);
  const numClass = count(mp.num_class ?? 0, 'learner.learner_model_param.num_class', src, 100_000);
  const baseScore = num(mp.base_score, 'learner.learner_model_param.base_score', src);
  const objective = String(obj(learner.objective, 'learner.objective', src).name ?? '');
  if (!objective) throw new Error(`${src}: 'learner.objective.name' is missing`);
  const numTarget = count(mp.num_target ?? 1, 'learner.learner_model_param.num_target', src);
  if (numTarget > 1) throw new Error(`${src}: 'learner_model_param.num_target' is ${numTarget}; multi-target models are not supported`);

  const gb = obj(learner.gradient_booster, 'learner.gradient_booster', src);
  const boosterName = String(gb.name);
  let model: Json;
  let weightDrop: number[] | null = null;
  if (boosterName === 'gbtree') model = obj(gb.model, 'learner.gradient_booster.model', src);
  else if (boosterName === 'dart') {
    model = obj(obj(gb.gbtree, 'learner.gradient_booster.gbtree', src).model, 'learner.gradient_booster.gbtree.model', src);
    weightDrop = arr(gb.weight_drop, 'learner.gradient_booster.weight_drop', src);
  } else throw new Error(`${src}: 'learner.gradient_booster.name' is '${boosterName}'; only gbtree and dart (tree boosters) can be explained`);

  const treesJson = model.trees;
  if (!Array.isArray(treesJson)) throw new Error(`${src}: 'gradient_booster.model.trees' must be an array`);
  const treeInfo = arr(model.tree_info, 'gradient_booster.model.tree_info', src);
  if (treeInfo.length !== treesJson.length) throw new Error(`${src}: 'tree_info' has ${treeInfo.length} entries for ${treesJson.length} trees`);
  const classIndex = opts.classIndex ?? 0;
  if (numClass > 1 && !(classIndex >= 0 && classIndex < numClass)) throw new Error(`${src}: class index ${classIndex} out of range (num_class ${numClass})`);

  const { link, base } = numClass > 1 ? { link: 'identity' as Link, base: baseScore } : objectiveLink(objective, baseScore, src);
  const trees: Tree[] = [];
  treesJson.forEach((tj: unknown, i: number) => {
    if (numClass > 1 && treeInfo[i] !== classIndex) return;
    const where = `${src}: trees[${i}]`;
    const t = obj(tj, `trees[${i}]`, src);
    const f = (k: string) => arr(t[k], `trees[${i}].${k}`, src);
    const left = f('left_children');
    const right = f('right_children');
    const split = f('split_conditions');
    const splitType = t.split_type === undefined ? [] : f('split_type');
    const idx = splitType.findIndex((s, n) => s !== 0 && left[n]! >= 0);
    if (idx >= 0) throw new Error(`${where}.split_type[${idx}] is categorical; categorical splits are not supported`);
    let value = split;
    if (weightDrop) value = split.map((v) => v * weightDrop![i]!);
    trees.push(
      makeTree(
        { left, right, feature: f('split_indices'), threshold: split.map(Math.fround), value, cover: f('sum_hessian'), defaultLeft: f('default_left'), le: false },
        nFeatures,
        where,
      ),
    );
  });
  const names = Array.isArray(learner.feature_names) && learner.feature_names.length === nFeatures ? (learner.feature_names as string[]).map(String) : Array.from({ length: nFeatures }, (_, i) => `f${i}`);
  const version = Array.isArray((root as Json).version) ? ((root as Json).version as number[]).join('.') : '?';
  return {
    trees,
    nFeatures,
    featureNames: names,
    base,
    link,
    float32: true,
    description: `XGBoost ${version} ${boosterName} ${objective}${numClass > 1 ? ` (class ${classIndex} of ${numClass})` : ''}, ${trees.length} trees`,
    ...(numClass > 1 ? { numClasses: numClass, classIndex } : {}),
  };
}
