/**
 * Builds a vector-Jacobian-product ONNX model from a forward model (DESIGN.md §2).
 *
 *   inputs : the forward inputs, plus `seed` shaped like the differentiated output
 *   outputs: the forward outputs, `act:<name>` for exposed tensors, `grad:<name>` for each requested gradient
 *
 * Reverse sweep over the nodes that lie between the requested tensors and the output;
 * integer/boolean tensors are never differentiated; a tensor reached by several paths
 * gets its contributions summed.
 */
import { GraphBuilder } from '../onnx/builder.js';
import { type Dim, type Graph, type Model, type Node, type ValueInfo, A, DataType, cloneModel, constantValues, defaultOpset, describeNode, isFloatType, topoSort } from '../onnx/ir.js';
import { type ShapeHints, inferShapes } from '../onnx/shape-inference.js';
import { type Placement, type RuleOptions, type RuleSet, type StridedPlacement, makeContext, processRuleOptions } from './rule.js';
import { DEFAULT_RULES } from './rules/index.js';

export const VJP_MIN_OPSET = 17;

export interface VjpRequest {
  /** Output to differentiate; default: the first graph output. */
  output?: string;
  /** Tensors whose gradients are wanted: graph inputs, intermediate tensors, initializers. */
  wrt: string[];
  /** Intermediate tensors to expose as outputs (`act:<name>`). */
  expose?: string[];
  /** Per-op backward-rule overrides (Guided Backprop, LRP…). */
  rules?: RuleSet;
  /** Choices between equivalent formulations of the default rules. */
  ruleOptions?: RuleOptions;
  /** Name used in error messages. */
  source?: string;
  /** Name of the seed input; default 'seed'. */
  seedName?: string;
  /**
   * Concrete shapes for graph inputs whose dims are symbolic (e.g. H×W of a fully convolutional
   * model): some backward rules (Conv, pooling, Resize) need static spatial sizes.
   */
  inputShapes?: Record<string, Dim[]>;
  /** Shapes learned from the model for tensors static inference cannot size (src/runtime/shape-probe.ts). */
  shapeHints?: ShapeHints;
}

export interface VjpModel {
  model: Model;
  seed: string;
  output: string;
  /** Forward tensor name → output name. */
  activations: Map<string, string>;
  grads: Map<string, string>;
}

export const gradName = (t: string) => `grad:${t}`;
export const actName = (t: string) => `act:${t}`;

export function buildVjp(forward: Model, req: VjpRequest): VjpModel {
  const source = req.source ?? 'model';
  const opset = defaultOpset(forward);
  if (opset < VJP_MIN_OPSET) {
    throw new Error(`${source}: opset ${opset} is below ${VJP_MIN_OPSET}; upgrade the model first (upgradeOpset)`);
  }
  const model = cloneModel(forward);
  const g = model.graph;
  inferenceDropoutToIdentity(g);
  const output = req.output ?? g.outputs[0]?.name;
  if (!output) throw new Error(`${source}: the model has no outputs`);
  for (const [name, shape] of Object.entries(req.inputShapes ?? {})) {
    const v = g.inputs.find((i) => i.name === name);
    if (!v) throw new Error(`${source}: no graph input named '${name}'`);
    if (v.shape && v.shape.length !== shape.length) throw new Error(`${source}: input '${name}' has rank ${v.shape.length}, got shape [${shape}]`);
    v.shape = v.shape ? v.shape.map((d, i) => (typeof d === 'number' ? d : shape[i] ?? d)) : [...shape];
  }
  const inferred = inferShapes(g, req.shapeHints);
  const known = (t: string) => inferred.info.has(t);
  for (const t of [...req.wrt, ...(req.expose ?? []), output]) {
    if (!known(t)) throw new Error(`${source}: no tensor named '${t}' in the model`);
  }
  const rules: RuleSet = { ...DEFAULT_RULES, ...req.rules };
  const order = topoSort(g);
  const isFloat = (t: string) => {
    const et = inferred.info.get(t)?.elemType ?? 0;
    return et === 0 || isFloatType(et); // unknown types stay in, so an unsupported op errors instead of cutting the gradient
  };
  for (const t of req.wrt) {
    const et = inferred.info.get(t)?.elemType ?? 0;
    if (et !== 0 && et !== DataType.FLOAT) {
      throw new Error(`${source}: cannot differentiate with respect to '${t}': its type is not float32`);
    }
  }

  // Forward activity: tensors that depend on a requested tensor.
  const varied = new Set(req.wrt);
  for (const n of order) {
    if (n.inputs.some((i) => i && varied.has(i))) for (const o of n.outputs) if (o && isFloat(o)) varied.add(o);
  }
  // Backward usefulness: tensors the output depends on.
  const useful = new Set([output]);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    if (n.outputs.some((o) => useful.has(o))) for (const i of n.inputs) if (i) useful.add(i);
  }

  const b = new GraphBuilder(g, 'vjp');
  const seed = req.seedName ?? 'seed';
  const outInfo = inferred.info.get(output)!;
  g.inputs.push({ name: seed, elemType: DataType.FLOAT, shape: outInfo.shape });

  const contributions = new Map<string, string[]>([[output, [seed]]]);
  const finalized = new Map<string, string>();
  const placements = new Map<string, Placement>();
  const strided = new Map<string, StridedPlacement>();
  const finalize = (t: string): string => {
    const done = finalized.get(t);
    if (done !== undefined) return done;
    const list = contributions.get(t) ?? [];
    const r = list.length === 0 ? '' : list.length === 1 ? list[0]! : (joinPlacements(b, t, list, placements) ?? joinStrided(b, t, list, strided, () => shapeOf(t)) ?? b.op('Sum', list));
    finalized.set(t, r);
    return r;
  };
  const shapeCache = new Map<string, string>();
  const shapeOf = (t: string): string => {
    const s = inferred.info.get(t)?.shape;
    if (s && s.every((d) => typeof d === 'number')) return b.int64(s as number[]);
    let st = shapeCache.get(t);
    if (!st) shapeCache.set(t, (st = b.op('Shape', [t])));
    return st;
  };

  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    if (!n.outputs.some((o) => useful.has(o) && varied.has(o))) continue;
    const needs = n.inputs.map((i) => !!i && varied.has(i) && useful.has(i) && isFloat(i));
    if (!needs.some(Boolean)) continue;
    const dy = n.outputs.map((o) => (o ? finalize(o) : ''));
    if (dy.every((d) => !d)) continue;
    const rule = n.domain && n.domain !== 'ai.onnx' ? undefined : rules[n.opType];
    if (!rule) throw missingRule(n, source, rules);
    const ctx = makeContext(n, b, dy, needs, inferred, source, shapeCache, { ...processRuleOptions, ...req.ruleOptions }, placements, strided);
    const grads = rule(ctx);
    n.inputs.forEach((inp, i) => {
      const gi = grads[i];
      if (!needs[i] || !gi) return;
      if (finalized.has(inp)) throw new Error(`${source}: internal error: gradient of '${inp}' used before complete (${describeNode(n)})`);
      let list = contributions.get(inp);
      if (!list) contributions.set(inp, (list = []));
      list.push(gi);
    });
  }

  const activations = new Map<string, string>();
  const grads = new Map<string, string>();
  const addOutput = (name: string, src: string, like: ValueInfo | undefined) => {
    b.node('Identity', [src], {}, 1, [name]);
    g.outputs.push({ name, elemType: DataType.FLOAT, shape: like?.shape ?? null });
  };
  for (const t of req.expose ?? []) {
    const name = actName(t);
    addOutput(name, t, inferred.info.get(t));
    activations.set(t, name);
  }
  for (const t of req.wrt) {
    const name = gradName(t);
    let gsrc = finalize(t);
    if (!gsrc) gsrc = b.op('ConstantOfShape', [b.op('Shape', [t])], { value: { type: 'tensor', value: { name: '', dataType: 1, dims: [1], data: new Float32Array([0]) } } });
    addOutput(name, gsrc, inferred.info.get(t));
    grads.set(t, name);
  }
  removeDeadNodes(g);
  return { model, seed, output, activations, grads };
}

/**
 * Drop nodes none of whose outputs reach a graph output: the zero-padded copies that a joined placement
 * replaced (onnxruntime still runs them: 13.6 ms of ViT-Ti's 378 ms VJP at batch 8), forward nodes
 * whose only use was a Softmax head that was removed, and the like.
 */
function removeDeadNodes(g: Graph): void {
  const needed = new Set(g.outputs.map((o) => o.name));
  const keep = new Set<Node>();
  const order = topoSort(g);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    if (n.outputs.some((o) => o && needed.has(o))) {
      keep.add(n);
      for (const i of n.inputs) if (i) needed.add(i);
    }
  }
  g.nodes = g.nodes.filter((n) => keep.has(n));
}

/**
 * Dropout in inference mode (training_mode absent or a constant false), or with a constant ratio of 0,
 * whose mask is unused is the identity; as Identity onnxruntime removes it, while a Dropout node stays in the VJP graph and copies its
 * tensor (24 in Swin-T's attention: 2 % of its VJP time).
 */
function inferenceDropoutToIdentity(g: Graph): void {
  const used = new Set<string>([...g.nodes.flatMap((n) => n.inputs), ...g.outputs.map((o) => o.name)]);
  const constFalse = (name: string | undefined): boolean => {
    if (!name) return true;
    const v = constantValues(g, name, 1);
    return v?.length === 1 && v[0] === 0;
  };
  for (const n of g.nodes) {
    if (n.opType !== 'Dropout' || (n.domain && n.domain !== 'ai.onnx')) continue;
    // Inference (training_mode false), or a ratio of 0 (torch exports F.dropout(p=0.0, training=…) with
    // training_mode true, as torchvision's Swin does): either way the identity.
    if ((n.outputs[1] && used.has(n.outputs[1])) || !(constFalse(n.inputs[2]) || (n.inputs[1] !== undefined && n.inputs[1] !== '' && constFalse(n.inputs[1])))) continue;
    n.opType = 'Identity';
    n.inputs = [n.inputs[0]!];
    n.outputs = [n.outputs[0]!];
    n.attrs = {};
  }
}

/**
 * One Concat for gradients that are zero-padded slabs of `t` along one axis and tile it exactly (the three
 * Gathers of a q/k/v unbind, the two Slices of a roll): one pass instead of padded copies and a Sum.
 */
function joinPlacements(b: GraphBuilder, t: string, list: string[], placements: Map<string, Placement>): string | undefined {
  const ps = list.map((g) => placements.get(g));
  if (ps.some((p) => !p || p.x !== t || p.axis !== ps[0]!.axis)) return undefined;
  const sorted = (ps as Placement[]).slice().sort((p, q) => p.begin - q.begin);
  let at = 0;
  for (const p of sorted) {
    if (p.begin !== at) return undefined;
    at += p.len;
  }
  if (at !== sorted[0]!.total) return undefined;
  return b.op('Concat', sorted.map((p) => p.src), { axis: A.i(sorted[0]!.axis) });
}

/**
 * One nest of Concats for gradients that are strided sub-grids of `t` tiling it exactly (every offset of
 * the same steps on the same axes once): the inverse of the interleaving, instead of padded copies and a Sum.
 */
function joinStrided(b: GraphBuilder, t: string, list: string[], strided: Map<string, StridedPlacement>, shape: () => string): string | undefined {
  const ps = list.map((g) => strided.get(g));
  if (ps.some((p) => !p || p.x !== t)) return undefined;
  const all = ps as StridedPlacement[];
  const { phaseAxes, steps } = all[0]!;
  if (all.some((p) => p.phaseAxes.join() !== phaseAxes.join() || p.steps.join() !== steps.join())) return undefined;
  const byOffset = new Map(all.map((p) => [p.offsets.join(), p.src]));
  if (byOffset.size !== all.length || all.length !== steps.reduce((a, s) => a * s, 1)) return undefined;
  const build = (level: number, fixed: number[]): string => {
    if (level === steps.length) return byOffset.get(fixed.join())!;
    const parts = Array.from({ length: steps[level]! }, (_, o) => build(level + 1, [...fixed, o]));
    return b.op('Concat', parts, { axis: A.i(phaseAxes[level]!) });
  };
  return b.op('Reshape', [build(0, []), shape()]);
}

function missingRule(n: Node, source: string, rules: RuleSet): Error {
  const supported = Object.keys(rules).sort().join(', ');
  const dom = n.domain && n.domain !== 'ai.onnx' ? ` of domain '${n.domain}'` : '';
  return new Error(
    `${source}: no backward rule for op '${n.opType}'${dom} (${describeNode(n)}), which lies between the requested tensors and the output. ` +
      `A backward rule for it (src/autodiff/rules) would be needed, or a model exported without it. Ops with rules: ${supported}`,
  );
}
