/**
 * Training graphs (DESIGN.md §2, last paragraph): weights become graph inputs, BatchNormalization
 * uses batch statistics (written out as explicit ReduceMean/Sub/Mul/Sqrt ops, so the ordinary
 * backward rules differentiate it and the batch mean/variance come out as outputs for the running
 * statistics), Dropout is made stochastic, the loss is computed in the graph, and the VJP graph
 * of the loss returns every weight gradient in one onnxruntime call.
 *
 * Losses (`target` and `weight` are fed per batch, see ./loss.ts):
 *   single-label: L = −Σ target ⊙ LogSoftmax(logits)   (target = class-weighted one-hot / Σ weights)
 *   multi-label:  L = Σ weight ⊙ (softplus(z) − target ⊙ z), softplus(z) = relu(z) + log(1 + e^{−|z|})
 */
import { GraphBuilder } from '../onnx/builder.js';
import { type Graph, type Model, A, DataType, attrFloat, cloneModel } from '../onnx/ir.js';
import { inferShapes } from '../onnx/shape-inference.js';
import { buildVjp, gradName } from '../autodiff/vjp.js';
import type { RuleOptions } from '../autodiff/rule.js';

/** Which inputs of which ops are trainable weights. */
const PARAM_SLOTS: Record<string, number[]> = {
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  Gemm: [1, 2],
  MatMul: [1],
  BatchNormalization: [1, 2],
  InstanceNormalization: [1, 2],
  LayerNormalization: [1, 2],
  PRelu: [1],
};

export interface BatchNormStat {
  node: string;
  runningMean: string;
  runningVar: string;
  /** PyTorch momentum: running = (1 − m)·running + m·batch (the ONNX attribute is 1 − m). */
  momentum: number;
  /** Graph outputs holding the batch mean and the biased batch variance, each [C]. */
  batchMean: string;
  batchVar: string;
  /** Elements per channel in a batch of one image (H·W), to make the variance unbiased. */
  perImage: number;
}

export interface TrainingGraph {
  /** The VJP model: inputs = image input, parameters, target, weight (multi-label), seed. */
  model: Model;
  input: string;
  params: string[];
  batchNorms: BatchNormStat[];
  logits: string;
  loss: string;
  seed: string;
  target: string;
  weight?: string;
  grads: Map<string, string>;
}

export type Task = 'single' | 'multi';

/** Float initializers feeding weight slots: the trainable parameters, in graph order. */
export function trainableParams(model: Model): string[] {
  const g = model.graph;
  const out: string[] = [];
  const seen = new Set<string>();
  // torch.onnx.export de-duplicates equal initializers behind Identity nodes: follow them.
  const identitySource = new Map(g.nodes.filter((n) => n.opType === 'Identity').map((n) => [n.outputs[0]!, n.inputs[0]!]));
  for (const n of g.nodes) {
    for (const slot of PARAM_SLOTS[n.opType] ?? []) {
      let name = n.inputs[slot];
      while (name && identitySource.has(name) && !g.initializers.has(name)) name = identitySource.get(name)!;
      if (!name || seen.has(name)) continue;
      const t = g.initializers.get(name);
      if (t && t.dataType === DataType.FLOAT) {
        seen.add(name);
        out.push(name);
      }
    }
  }
  return out;
}

/** Move initializers to graph inputs (their values are then fed per run). */
export function initializersToInputs(g: Graph, names: readonly string[]): void {
  for (const name of names) {
    const t = g.initializers.get(name);
    if (!t) throw new Error(`no initializer '${name}'`);
    g.initializers.delete(name);
    g.inputs.push({ name, elemType: t.dataType, shape: [...t.dims] });
  }
}

/** Replace inference BatchNormalization (2-D or 1-D spatial) by explicit batch-statistics ops. */
function batchNormToTraining(g: Graph, b: GraphBuilder, imageShape: number[]): BatchNormStat[] {
  const stats: BatchNormStat[] = [];
  const nodes = [...g.nodes];
  g.nodes.length = 0;
  // Shapes are needed for H·W per channel; infer lazily from the forward graph.
  const shapeOf = spatialSizes(g, nodes, imageShape);
  for (const n of nodes) {
    if (n.opType !== 'BatchNormalization') {
      g.nodes.push(n);
      continue;
    }
    const [x, gamma, beta, mean, variance] = n.inputs as [string, string, string, string, string];
    const eps = attrFloat(n, 'epsilon', 1e-5);
    const onnxMomentum = attrFloat(n, 'momentum', 0.9);
    const spatial = shapeOf.get(x);
    if (!spatial) throw new Error(`BatchNormalization '${n.name}': the shape of its input could not be inferred`);
    const axes = A.ints([0, ...spatial.map((_, i) => i + 2)]);
    const bshape = b.int64([1, -1, ...spatial.map(() => 1)]);
    const mu = b.op('ReduceMean', [x], { axes, keepdims: A.i(1) });
    const xc = b.op('Sub', [x, mu]);
    const v = b.op('ReduceMean', [b.op('Mul', [xc, xc])], { axes, keepdims: A.i(1) });
    const inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [v, b.float(eps)])])]);
    const scaled = b.op('Mul', [b.op('Mul', [xc, inv]), b.op('Reshape', [gamma, bshape])]);
    b.node('Add', [scaled, b.op('Reshape', [beta, bshape])], {}, 1, [n.outputs[0]!]);
    const batchMean = `bn_mean:${n.name}`;
    const batchVar = `bn_var:${n.name}`;
    b.node('Reshape', [mu, b.int64([-1])], {}, 1, [batchMean]);
    b.node('Reshape', [v, b.int64([-1])], {}, 1, [batchVar]);
    g.outputs.push({ name: batchMean, elemType: DataType.FLOAT, shape: null }, { name: batchVar, elemType: DataType.FLOAT, shape: null });
    stats.push({ node: n.name, runningMean: mean, runningVar: variance, momentum: 1 - onnxMomentum, batchMean, batchVar, perImage: spatial.reduce((p, q) => p * q, 1) });
  }
  return stats;
}

/** Spatial sizes of every BatchNormalization input, for an image of `imageShape` [C, H, W]. */
function spatialSizes(g: Graph, nodes: Graph['nodes'], imageShape: number[]): Map<string, number[]> {
  const image = g.inputs.find((v) => !g.initializers.has(v.name))!.name;
  const probe: Graph = { ...g, nodes, inputs: g.inputs.map((v) => (v.name === image ? { ...v, shape: ['batch', ...imageShape] } : v)) };
  const info = inferShapes(probe).info;
  const out = new Map<string, number[]>();
  for (const n of nodes) {
    if (n.opType !== 'BatchNormalization') continue;
    const s = info.get(n.inputs[0]!)?.shape;
    if (s && s.slice(2).every((d) => typeof d === 'number')) out.set(n.inputs[0]!, s.slice(2) as number[]);
  }
  return out;
}

/**
 * Dropout nodes become stochastic (training_mode = true), each with its own seed derived from
 * the training seed, so that a run is reproducible (onnxruntime's generator otherwise seeds itself).
 */
function dropoutToTraining(g: Graph, b: GraphBuilder, seed: number): void {
  let k = 0;
  for (const n of g.nodes) {
    if (n.opType !== 'Dropout') continue;
    n.attrs['seed'] = A.i((seed * 7919 + 104729 * ++k) % 2147483647);
    const ratio = n.inputs[1] || b.float(0.5);
    const on = b.initializer('dropout_on', DataType.BOOL, [], new Uint8Array([1]));
    n.inputs = [n.inputs[0]!, ratio, on];
  }
}

export interface TrainingGraphOptions {
  task: Task;
  /** Image shape [C, H, W] (fixes symbolic spatial dims for the backward rules). */
  imageShape: number[];
  /** Freeze these parameters (no gradient, not updated). */
  frozen?: (name: string) => boolean;
  /** Seeds the Dropout nodes' generators. */
  seed?: number;
  /** Choices between equivalent backward formulations (benchmarks, tests). */
  ruleOptions?: RuleOptions;
  source?: string;
}

export function buildTrainingGraph(forward: Model, opts: TrainingGraphOptions): TrainingGraph {
  const m = cloneModel(forward);
  const g = m.graph;
  const input = g.inputs.find((v) => !g.initializers.has(v.name))!.name;
  const logits = g.outputs[0]!.name;
  const params = trainableParams(m).filter((p) => !opts.frozen?.(p));
  const b = new GraphBuilder(g, 'train');
  const batchNorms = batchNormToTraining(g, b, opts.imageShape);
  initializersToInputs(g, params);
  dropoutToTraining(g, b, opts.seed ?? 0);

  const target = 'target';
  let weight: string | undefined;
  g.inputs.push({ name: target, elemType: DataType.FLOAT, shape: ['batch', null] });
  let loss: string;
  if (opts.task === 'single') {
    const logp = b.op('LogSoftmax', [logits], { axis: A.i(1) });
    loss = b.op('Neg', [b.op('ReduceSum', [b.op('Mul', [target, logp])], { keepdims: A.i(0) })]);
  } else {
    weight = 'weight';
    g.inputs.push({ name: weight, elemType: DataType.FLOAT, shape: ['batch', null] });
    const softplus = b.op('Add', [b.op('Relu', [logits]), b.op('Log', [b.op('Add', [b.float(1), b.op('Exp', [b.op('Neg', [b.op('Abs', [logits])])])])])]);
    const perElem = b.op('Sub', [softplus, b.op('Mul', [target, logits])]);
    loss = b.op('ReduceSum', [b.op('Mul', [weight, perElem])], { keepdims: A.i(0) });
  }
  const lossName = 'loss';
  b.node('Identity', [loss], {}, 1, [lossName]);
  g.outputs.push({ name: lossName, elemType: DataType.FLOAT, shape: [] });

  const vjp = buildVjp(m, {
    output: lossName,
    wrt: params,
    source: opts.source ?? 'training graph',
    inputShapes: { [input]: ['batch', ...opts.imageShape] },
    ruleOptions: opts.ruleOptions,
  });
  return {
    model: vjp.model,
    input,
    params,
    batchNorms,
    logits,
    loss: lossName,
    seed: vjp.seed,
    target,
    weight,
    grads: new Map(params.map((p) => [p, gradName(p)])),
  };
}

/**
 * The forward graph with weights and BatchNorm running statistics as inputs, so evaluation during
 * training feeds the current values without building a new onnxruntime session.
 */
export function buildEvalGraph(forward: Model, params: readonly string[], batchNorms: readonly BatchNormStat[]): Model {
  const m = cloneModel(forward);
  initializersToInputs(m.graph, [...params, ...batchNorms.flatMap((s) => [s.runningMean, s.runningVar])]);
  return m;
}

/**
 * PyTorch's running-statistics update after a training step: running ← (1 − m)·running + m·batch,
 * with the batch variance made unbiased (× n/(n − 1), n = images · H · W).
 */
export function updateRunningStats(stat: BatchNormStat, running: { mean: Float32Array; var: Float32Array }, batchMean: Float32Array, batchVar: Float32Array, images: number): void {
  const n = images * stat.perImage;
  const unbias = n > 1 ? n / (n - 1) : 1;
  const m = stat.momentum;
  for (let c = 0; c < running.mean.length; c++) {
    running.mean[c] = (1 - m) * running.mean[c]! + m * batchMean[c]!;
    running.var[c] = (1 - m) * running.var[c]! + m * batchVar[c]! * unbias;
  }
}
