/**
 * Training graphs (DESIGN.md §2, last paragraph): weights become graph inputs, BatchNormalization
 * uses batch statistics (ReduceMean ops for μ and σ², then onnxruntime's one-pass inference
 * BatchNormalization of x − μ; the batch mean/variance come out as outputs for the running
 * statistics; the backward is the closed form, see batchNormBackward), Convs become batch-folded
 * im2col GEMMs where that is faster (see lowerConvs), Dropout is made stochastic, the loss is
 * computed in the graph, and the VJP graph of the loss returns every weight gradient in one
 * onnxruntime call.
 *
 * Losses (`target` and `weight` are fed per batch, see ./loss.ts):
 *   single-label: L = −Σ target ⊙ LogSoftmax(logits)   (target = class-weighted one-hot / Σ weights)
 *   multi-label:  L = Σ weight ⊙ (softplus(z) − target ⊙ z), softplus(z) = relu(z) + log(1 + e^{−|z|})
 */
import { GraphBuilder } from '../onnx/builder.js';
import { type Graph, type Model, A, DataType, attrFloat, attrInt, attrInts, attrString, cloneModel } from '../onnx/ir.js';
import { type ShapeHints, inferShapes } from '../onnx/shape-inference.js';
import { seedRandomOps } from '../onnx/seed-random.js';
import { buildVjp, gradName } from '../autodiff/vjp.js';
import type { BackwardRule, RuleOptions, RuleSet } from '../autodiff/rule.js';
import { DEFAULT_RULES } from '../autodiff/rules/index.js';

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

/** Nodes of the batch-statistics BatchNorm whose backward is the closed form (`batchNormBackward`). */
interface TrainingBatchNorms {
  /** The inference BatchNormalization applied to the centred input, by node name → spatial rank. */
  affine: Map<string, number>;
  /** The centring Sub(x, μ) nodes. */
  centre: Set<string>;
}

/**
 * Replace inference BatchNormalization (2-D or 1-D spatial) by batch statistics:
 *   μ = ReduceMean(x), xc = x − μ, σ² = ReduceMean(xc²) (biased), y = BatchNormalization(xc, γ, β, 0, σ²)
 * (onnxruntime's inference BatchNorm: one pass, y = xc·γ/√(σ²+ε) + β). The backward of the whole
 * block is the closed form (see batchNormBackward), emitted at the BatchNormalization node; the
 * statistics' own subgraph then receives no gradient.
 */
function batchNormToTraining(g: Graph, b: GraphBuilder, imageShape: number[], marks: TrainingBatchNorms): BatchNormStat[] {
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
    const channels = g.initializers.get(mean)?.dims[0];
    if (channels === undefined) throw new Error(`BatchNormalization '${n.name}': running mean '${mean}' is not an initializer`);
    const axes = A.ints([0, ...spatial.map((_, i) => i + 2)]);
    const mu = b.op('ReduceMean', [x], { axes, keepdims: A.i(1) });
    const [xc] = b.node('Sub', [x, mu]);
    marks.centre.add(g.nodes[g.nodes.length - 1]!.name);
    const v = b.op('ReduceMean', [b.op('Mul', [xc!, xc!])], { axes, keepdims: A.i(1) });
    const batchMean = `bn_mean:${n.name}`;
    const batchVar = `bn_var:${n.name}`;
    b.node('Reshape', [mu, b.int64([-1])], {}, 1, [batchMean]);
    b.node('Reshape', [v, b.int64([-1])], {}, 1, [batchVar]);
    const zeros = b.initializer('bn_zero_mean', DataType.FLOAT, [channels], new Float32Array(channels));
    b.node('BatchNormalization', [xc!, gamma, beta, zeros, batchVar], { epsilon: A.f(eps) }, 1, [n.outputs[0]!]);
    marks.affine.set(g.nodes[g.nodes.length - 1]!.name, spatial.length);
    g.outputs.push({ name: batchMean, elemType: DataType.FLOAT, shape: null }, { name: batchVar, elemType: DataType.FLOAT, shape: null });
    stats.push({ node: n.name, runningMean: mean, runningVar: variance, momentum: 1 - onnxMomentum, batchMean, batchVar, perImage: spatial.reduce((p, q) => p * q, 1) });
  }
  return stats;
}

/**
 * Backward of batch-statistics BatchNorm, y = γ·x̂ + β, x̂ = xc·r, r = 1/√(σ²+ε), n = N·H·W:
 *   dβ = Σ dy,  dγ = r·Σ dy·xc,
 *   dx = γr·(dy − Σdy/n − xc·r²·Σ(dy·xc)/n)  (through μ and σ² included),
 * returned at the BatchNormalization node for its input xc; the centring Sub passes it on to x
 * unchanged and gives μ nothing; σ² gets nothing.
 */
function batchNormBackward(marks: TrainingBatchNorms, rules: RuleSet): RuleSet {
  return {
    BatchNormalization: (c) => {
      const sp = marks.affine.get(c.node.name);
      if (sp === undefined) return rules.BatchNormalization!(c);
      const b = c.b;
      const [xc, gamma, , , variance] = c.node.inputs as [string, string, string, string, string];
      const dy = c.dy[0]!;
      const eps = attrFloat(c.node, 'epsilon', 1e-5);
      const axes = b.int64([0, ...Array.from({ length: sp }, (_, i) => i + 2)]);
      const bshape = b.int64([1, -1, ...Array(sp).fill(1)]);
      const r = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [variance, b.float(eps)])])]);
      const sumDy = b.op('ReduceSum', [dy, axes], { keepdims: A.i(0) });
      const sumDyXc = b.op('ReduceSum', [b.op('Mul', [dy, xc]), axes], { keepdims: A.i(0) });
      const out: (string | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
      if (c.needs[0]) {
        const count = b.op('Cast', [b.op('Div', [b.op('Size', [dy]), b.op('Size', [sumDy])])], { to: A.i(DataType.FLOAT) });
        const scale = b.op('Mul', [gamma, r]);
        const negScaleOverN = b.op('Neg', [b.op('Div', [scale, count])]);
        const shift = b.op('Mul', [negScaleOverN, sumDy]);
        const slope = b.op('Mul', [b.op('Mul', [negScaleOverN, b.op('Mul', [r, r])]), sumDyXc]);
        const dyPart = b.op('Mul', [dy, b.op('Reshape', [scale, bshape])]);
        const xcPart = b.op('Mul', [xc, b.op('Reshape', [slope, bshape])]);
        out[0] = b.op('Add', [b.op('Add', [dyPart, xcPart]), b.op('Reshape', [shift, bshape])]);
      }
      if (c.needs[1]) out[1] = b.op('Mul', [sumDyXc, r]);
      if (c.needs[2]) out[2] = sumDy;
      return out;
    },
    Sub: (c) => (marks.centre.has(c.node.name) ? [c.dy[0]!, undefined] : rules.Sub!(c)),
  };
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

/** A lowering Gather: which input row (0…HW−1, HW = the appended zero row) each column row reads. */
interface Im2col {
  /** H·W + 1 */
  rows: number;
  /** Per tap, Ho·Wo rows then one extra row (the zero row). */
  index: number[];
  /** Position of the extra row within tap 0 (Ho·Wo): its column gradient is exactly zero. */
  zero: number;
}

/** Which Convs of a training graph become batch-folded im2col GEMMs (see lowerConvs). */
export interface ConvGemmOptions {
  /** Lower a Conv whose output map has at most this many positions (Ho·Wo). Default 64. */
  maxSpatial?: number;
  /** …or whose im2col matrix per image (C·kh·kw·Ho·Wo floats) is at most this. Default 2¹⁸ (1 MB). */
  maxColsPerImage?: number;
  /** Build im2col as a 0/1 selection MatMul (instead of a Gather) up to this Ho·Wo. Default 16. */
  matmulSpatial?: number;
}

/**
 * Convolutions are rewritten as one batch-folded GEMM over an explicit im2col (ConvGemmOptions says
 * which: at 64×64 every Conv of ResNet-18), with the batch as the innermost axis:
 *   X [N,C,H,W] → [C, H·W, N] (+ one zero row for the padding) → Gather of kh·kw·Ho·Wo rows
 *   → cols [C·kh·kw, Ho·Wo·N];  Yᵀ = Gemm(W as [M, C·kh·kw], cols) [M, Ho·Wo·N] → Y [N,M,Ho,Wo].
 * Exact (the same products and sums as the Conv, in another order). onnxruntime's Conv with a
 * non-constant weight (no pre-packing, no NCHWc) runs one small GEMM per image (Ho·Wo columns: 4 at
 * ResNet's layer4 at 64×64), far below the GEMM peak, and its backward needs a flipped-kernel Conv
 * and per-tap GEMMs; the folded GEMM has Ho·Wo·N columns. Its backward (Gemm rule) gives the weight
 * gradient and the column gradient as one GEMM each; col2im is `im2colBackward` (a Gather and a
 * ReduceSum) or, for selection-MatMul im2col, the MatMul rule. ResNet-18 at 64×64, batch 128: the
 * training graph runs about 2× faster than with onnxruntime's Conv (bench/train.bench.ts).
 * Only plain 2-D Convs (group 1, dilation 1, explicit or VALID pads) with static spatial sizes.
 */
function lowerConvs(g: Graph, b: GraphBuilder, imageShape: number[], opts: ConvGemmOptions): Map<string, Im2col> {
  const lowered = new Map<string, Im2col>();
  const maxSpatial = opts.maxSpatial ?? 64;
  const maxCols = opts.maxColsPerImage ?? 2 ** 18;
  const matmulSpatial = opts.matmulSpatial ?? 16;
  const image = g.inputs.find((v) => !g.initializers.has(v.name))!.name;
  const probe: Graph = { ...g, inputs: g.inputs.map((v) => (v.name === image ? { ...v, shape: ['batch', ...imageShape] } : v)) };
  const info = inferShapes(probe).info;
  const nodes = [...g.nodes];
  g.nodes.length = 0;
  for (const n of nodes) {
    const xs = n.opType === 'Conv' ? info.get(n.inputs[0]!)?.shape : undefined;
    const ys = xs ? info.get(n.outputs[0]!)?.shape : undefined;
    const ws = xs ? info.get(n.inputs[1]!)?.shape : undefined;
    const auto = n.opType === 'Conv' ? attrString(n, 'auto_pad', 'NOTSET') : '';
    const ok =
      xs && ys && ws && xs.length === 4 && ws.length === 4 &&
      [xs[1], xs[2], xs[3], ys[1], ys[2], ys[3], ...ws].every((d) => typeof d === 'number') &&
      attrInt(n, 'group', 1) === 1 &&
      (attrInts(n, 'dilations') ?? [1, 1]).every((d) => d === 1) &&
      (auto === 'NOTSET' || auto === '' || auto === 'VALID') &&
      ((ys[2] as number) * (ys[3] as number) <= maxSpatial ||
        (xs[1] as number) * (ws[2] as number) * (ws[3] as number) * (ys[2] as number) * (ys[3] as number) <= maxCols);
    if (!ok) {
      g.nodes.push(n);
      continue;
    }
    const [C, H, W] = xs.slice(1) as [number, number, number];
    const [M, Ho, Wo] = ys.slice(1) as [number, number, number];
    const [kh, kw] = (ws as number[]).slice(2) as [number, number];
    const [sh, sw] = attrInts(n, 'strides') ?? [1, 1];
    const pads = auto === 'VALID' ? [0, 0, 0, 0] : attrInts(n, 'pads') ?? [0, 0, 0, 0];
    const [x, w, bias] = n.inputs as [string, string, string | undefined];
    const byMatMul = Ho * Wo <= matmulSpatial;
    // Row of [C, H·W (+ zero row), N] read by tap (i, j) at output (ho, wo), in (tap, ho, wo) order.
    const index: number[] = [];
    let padded = false;
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let ho = 0; ho < Ho; ho++)
          for (let wo = 0; wo < Wo; wo++) {
            const r = ho * sh! + i - pads[0]!;
            const q = wo * sw! + j - pads[1]!;
            const inside = r >= 0 && r < H && q >= 0 && q < W;
            padded ||= !inside;
            index.push(inside ? r * W + q : H * W);
          }
    let xr = b.op('Reshape', [b.op('Transpose', [x], { perm: A.ints([1, 2, 3, 0]) }), b.int64([C, H * W, -1])]);
    const identity = !padded && index.every((v, k) => v === k) && index.length === H * W;
    // Gather im2col: one extra, all-zero output position per tap (it reads the zero row). The GEMM
    // output there is dropped, so its gradient is zero and the column gradient carries exact zeros
    // that col2im uses for missing terms (instead of padding the column gradient, 9× larger).
    const extra = !identity && !byMatMul;
    const P = Ho * Wo + (extra ? 1 : 0);
    let cols: string;
    if (identity) cols = b.op('Reshape', [xr, b.int64([C, -1])]);
    else if (byMatMul) {
      // cols[c] = S · X[c], S [T, H·W] a 0/1 selection matrix (zero rows for padding): exact.
      const sel = new Float32Array(index.length * H * W);
      index.forEach((r, t) => {
        if (r < H * W) sel[t * H * W + r] = 1;
      });
      const gathered = b.op('MatMul', [b.initializer('im2col_sel', DataType.FLOAT, [index.length, H * W], sel), xr]);
      cols = b.op('Reshape', [gathered, b.int64([C * kh * kw, -1])]);
    } else {
      xr = b.op('Pad', [xr, b.int64([0, 0, 0, 0, 1, 0])]);
      const withExtra: number[] = [];
      for (let t = 0; t < kh * kw; t++) withExtra.push(...index.slice(t * Ho * Wo, (t + 1) * Ho * Wo), H * W);
      const [gathered] = b.node('Gather', [xr, b.initializer('im2col_idx', DataType.INT64, [withExtra.length], BigInt64Array.from(withExtra, BigInt))], { axis: A.i(1) });
      lowered.set(g.nodes[g.nodes.length - 1]!.name, { rows: H * W + 1, index: withExtra, zero: Ho * Wo });
      cols = b.op('Reshape', [gathered!, b.int64([C * kh * kw, -1])]);
    }
    const wm = b.op('Reshape', [w, b.int64([M, C * kh * kw])]);
    let yt = bias ? b.op('Gemm', [wm, cols, b.op('Reshape', [bias, b.int64([M, 1])])]) : b.op('Gemm', [wm, cols]);
    yt = b.op('Reshape', [yt, b.int64([M, P, -1])]);
    if (extra) yt = b.op('Slice', [yt, b.int64([0]), b.int64([Ho * Wo]), b.int64([1])]);
    b.node('Transpose', [b.op('Reshape', [yt, b.int64([M, Ho, Wo, -1])])], { perm: A.ints([3, 0, 1, 2]) }, 1, [n.outputs[0]!]);
  }
  return lowered;
}

/**
 * col2im, the backward of a lowering Gather (Y = Gather(X, I, axis 1), X [C, R, N], Y [C, T, N]):
 * dX[:, r] = Σ_{t: I[t] = r} dY[:, t], as one Gather of dY by the inverse index map
 * [R, max multiplicity] (missing terms read the extra row, whose gradient is exactly zero) and a
 * ReduceSum. The zero row of X gets no gradient (the Pad before it drops it).
 */
function im2colBackward(lowered: Map<string, Im2col>): BackwardRule {
  return (c) => {
    const low = lowered.get(c.node.name);
    if (!low) return DEFAULT_RULES.Gather!(c);
    const b = c.b;
    const zeroRow = low.rows - 1;
    const sources: number[][] = Array.from({ length: low.rows }, () => []);
    low.index.forEach((r, t) => {
      if (r !== zeroRow) sources[r]!.push(t);
    });
    const R = Math.max(1, ...sources.map((s) => s.length));
    const inv = new BigInt64Array(low.rows * R).fill(BigInt(low.zero));
    sources.forEach((s, r) => s.forEach((t, k) => (inv[r * R + k] = BigInt(t))));
    const dyz = c.dy[0]!;
    if (R === 1) return [b.op('Gather', [dyz, b.initializer('col2im_idx', DataType.INT64, [low.rows], inv)], { axis: A.i(1) })];
    const gathered = b.op('Gather', [dyz, b.initializer('col2im_idx', DataType.INT64, [low.rows, R], inv)], { axis: A.i(1) });
    return [b.op('ReduceSum', [gathered, b.int64([2])], { keepdims: A.i(0) })];
  };
}

/**
 * Dropout nodes become stochastic (training_mode = true), each with its own seed derived from
 * the training seed, so that a run is reproducible (onnxruntime's generator otherwise seeds itself).
 */
function dropoutToTraining(g: Graph, b: GraphBuilder, seed: number): void {
  seedRandomOps(g, seed);
  for (const n of g.nodes) {
    if (n.opType !== 'Dropout') continue;
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
  /** Shapes learned from a probe run of the forward model (transformers' run-time shapes; see runtime/shape-probe.ts). */
  shapeHints?: ShapeHints;
  /** Convs as batch-folded im2col GEMMs (default: see ConvGemmOptions); false keeps every Conv. */
  convGemm?: ConvGemmOptions | false;
  source?: string;
}

export function buildTrainingGraph(forward: Model, opts: TrainingGraphOptions): TrainingGraph {
  const m = cloneModel(forward);
  const g = m.graph;
  const input = g.inputs.find((v) => !g.initializers.has(v.name))!.name;
  const logits = g.outputs[0]!.name;
  const params = trainableParams(m).filter((p) => !opts.frozen?.(p));
  const b = new GraphBuilder(g, 'train');
  const marks: TrainingBatchNorms = { affine: new Map(), centre: new Set() };
  const batchNorms = batchNormToTraining(g, b, opts.imageShape, marks);
  const lowered = opts.convGemm === false ? new Map<string, Im2col>() : lowerConvs(g, b, opts.imageShape, opts.convGemm ?? {});
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
    shapeHints: opts.shapeHints,
    rules: { ...batchNormBackward(marks, DEFAULT_RULES), Gather: im2colBackward(lowered) },
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
