/**
 * The fit loop: seeded shuffling and augmentation, one onnxruntime call per batch for loss,
 * logits, batch statistics and all weight gradients (./graph.ts), the optimiser step in
 * TypeScript, PyTorch's running-statistics update, evaluation on a validation split after each
 * epoch, and the best epoch kept.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { type Model as IRModel, cloneModel } from '../onnx/ir.js';
import { GraphSession, type OrtSessionApi } from '../runtime/session.js';
import { Model, type OrtApi } from '../runtime/model.js';
import { type ShapeHints, inferShapes } from '../onnx/shape-inference.js';
import { unknownTensors } from '../runtime/shape-probe.js';
import type { ImageDataset } from '../data/dataset.js';
import { augment, type AugmentOptions } from '../data/augment.js';
import { type ConvGemmOptions, buildEvalGraph, buildTrainingGraph, updateRunningStats, type TrainingGraph } from './graph.js';
import { type EpochMetrics, evaluateLogits } from './evaluate.js';

/** What the loop needs of an optimiser (./optim.ts): update the parameters it was given. */
export interface StepOptimizer {
  step(grads: Map<string, Float32Array>, lr?: number): void;
}

export interface FitOptions {
  epochs: number;
  batchSize?: number;
  /** Builds the optimiser over the live parameter arrays. */
  optimizer: (params: Map<string, Float32Array>) => StepOptimizer;
  /** Learning rate at a global step (0-based), given the total number of steps. */
  learningRate: (step: number, totalSteps: number) => number;
  /** Per-class loss weights (single-label). */
  classWeights?: number[];
  augment?: AugmentOptions;
  seed?: number;
  threads?: number;
  /** Validation metric that picks the kept epoch. */
  selectBy?: 'auroc' | 'accuracy' | 'loss';
  /**
   * 'best' (default): the epoch with the best validation metric; 'last': the last epoch (a model trained
   * on random labels, whose validation metrics are noise, is wanted as memorised as it gets) — then the
   * validation split is evaluated once, after the last epoch, not after every epoch.
   */
  keep?: 'best' | 'last';
  /** Stop after the first epoch whose training accuracy reaches this (memorising random labels). */
  stopAtTrainAccuracy?: number;
  /** Called after every batch and every epoch (progress display). */
  onBatch?: (info: { epoch: number; batch: number; batches: number; loss: number; accuracy: number }) => void;
  onEpoch?: (record: EpochRecord) => void;
  /** Stop early (between batches); the best epoch so far is returned. */
  signal?: AbortSignal;
  source?: string;
  /** Convs of the training graph as batch-folded im2col GEMMs (./graph.ts; default on). */
  convGemm?: ConvGemmOptions | false;
}

export interface EpochRecord {
  epoch: number;
  train: { loss: number; accuracy: number };
  val?: EpochMetrics;
  lr: number;
  seconds: number;
  imagesPerSecond: number;
  /** Where the epoch's training time went, seconds: batch assembly (gather, augment, targets, feeds), the onnxruntime call, the optimiser step and running statistics. */
  timing: { data: number; graph: number; optimizer: number };
}

export interface FitResult {
  /** The model with the kept epoch's weights and running statistics. */
  model: IRModel;
  history: EpochRecord[];
  bestEpoch: number;
  interrupted: boolean;
}

type Arrays = Map<string, Float32Array>;

function copyArrays(m: Arrays): Arrays {
  return new Map([...m].map(([k, v]) => [k, Float32Array.from(v)]));
}

function gatherRows(images: Tensor, idx: ArrayLike<number>): Tensor {
  const row = images.size / images.shape[0]!;
  const out = new Float32Array(idx.length * row);
  for (let i = 0; i < idx.length; i++) out.set(images.data.subarray(idx[i]! * row, (idx[i]! + 1) * row), i * row);
  return new Tensor(out, [idx.length, ...images.shape.slice(1)]);
}

/** Loss targets for a batch (see ./graph.ts for the loss definitions). */
function targetsFor(ds: ImageDataset, idx: ArrayLike<number>, classWeights?: number[]): { target: Tensor; weight?: Tensor } {
  const n = idx.length;
  const k = ds.classNames.length;
  const target = new Float32Array(n * k);
  if (ds.task === 'single') {
    let total = 0;
    for (let i = 0; i < n; i++) total += classWeights?.[ds.labels[idx[i]!]!] ?? 1;
    for (let i = 0; i < n; i++) {
      const y = ds.labels[idx[i]!]!;
      target[i * k + y] = (classWeights?.[y] ?? 1) / total;
    }
    return { target: new Tensor(target, [n, k]) };
  }
  const weight = new Float32Array(n * k).fill(1 / (n * k));
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) target[i * k + j] = ds.labels.data[idx[i]! * k + j]!;
  return { target: new Tensor(target, [n, k]), weight: new Tensor(weight, [n, k]) };
}

function labelOf(ds: ImageDataset, i: number): number {
  return ds.task === 'single' ? ds.labels[i]! : -1;
}

/**
 * For graphs whose shapes are computed at run time (transformers): every tensor's shape in the forward graph,
 * learned from a probe run with the batch dim named 'batch' as the training graph names it (its lowered
 * convolutions hide shapes the forward graph's inference knew, so the usual unknown-only probe is not enough).
 * Graphs that static inference sizes fully (the CNNs) are not run.
 */
async function learnTrainingShapes(model: IRModel, imageShape: number[], ort: OrtSessionApi, opts: FitOptions): Promise<ShapeHints> {
  const ir = cloneModel(model);
  const inits = new Set(ir.graph.initializers.keys());
  const input = ir.graph.inputs.find((v) => !inits.has(v.name));
  if (!input) return new Map();
  input.shape = ['batch', ...imageShape];
  if (!unknownTensors(ir, inferShapes(ir.graph)).length) return new Map();
  const m = Model.fromIR(ir, ort as unknown as OrtApi, { source: opts.source, threads: opts.threads, inputLayout: 'nchw', outputHead: 'keep' });
  try {
    return await m.learnShapes(imageShape, { all: true });
  } finally {
    await m.dispose();
  }
}

export async function fit(model: IRModel, train: ImageDataset, val: ImageDataset | undefined, ort: OrtSessionApi, opts: FitOptions): Promise<FitResult> {
  const bs = opts.batchSize ?? 128;
  const imageShape = train.images.shape.slice(1) as number[];
  const shapeHints = await learnTrainingShapes(model, imageShape, ort, opts);
  const tg: TrainingGraph = buildTrainingGraph(model, { task: train.task, imageShape, source: opts.source, seed: opts.seed, convGemm: opts.convGemm, shapeHints });
  const evalGraph = buildEvalGraph(model, tg.params, tg.batchNorms);
  const trainSession = await GraphSession.create(tg.model, ort, { threads: opts.threads, source: `${opts.source ?? 'model'} (training graph)` });
  const evalSession = val ? await GraphSession.create(evalGraph, ort, { threads: opts.threads, source: `${opts.source ?? 'model'} (evaluation graph)` }) : undefined;

  const init = (name: string) => Float32Array.from(model.graph.initializers.get(name)!.data as Float32Array);
  const params: Arrays = new Map(tg.params.map((p) => [p, init(p)]));
  const stats = new Map(tg.batchNorms.map((b) => [b.node, { mean: init(b.runningMean), var: init(b.runningVar) }]));
  const optimizer = opts.optimizer(params);
  const n = train.images.shape[0]!;
  const batches = Math.ceil(n / bs);
  const totalSteps = batches * opts.epochs;
  const rng = new Rng(opts.seed ?? 0);
  const history: EpochRecord[] = [];
  let best: { epoch: number; score: number; params: Arrays; stats: Map<string, { mean: Float32Array; var: Float32Array }> } | undefined;
  let interrupted = false;
  const seedOne = new Tensor(new Float32Array([1]), []);
  const fetches = [tg.loss, tg.logits, ...tg.grads.values(), ...tg.batchNorms.flatMap((b) => [b.batchMean, b.batchVar])];

  try {
    for (let epoch = 0; epoch < opts.epochs && !interrupted; epoch++) {
      const t0 = performance.now();
      const order = rng.fork(`epoch:${epoch}`).permutation(n);
      const augRng = rng.fork(`augment:${epoch}`);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let lr = 0;
      const timing = { data: 0, graph: 0, optimizer: 0 };
      for (let bi = 0; bi < batches; bi++) {
        const tb = performance.now();
        if (opts.signal?.aborted) {
          interrupted = true;
          break;
        }
        const idx = order.slice(bi * bs, Math.min(n, (bi + 1) * bs));
        let x = gatherRows(train.images, idx);
        if (opts.augment) x = augment(x, augRng, opts.augment).images;
        const { target, weight } = targetsFor(train, idx, opts.classWeights);
        const feeds: Record<string, Tensor> = { [tg.input]: x, [tg.target]: target, [tg.seed]: seedOne };
        if (weight && tg.weight) feeds[tg.weight] = weight;
        for (const [p, data] of params) feeds[p] = new Tensor(data, model.graph.initializers.get(p)!.dims);
        const tr = performance.now();
        const r = await trainSession.run(feeds, fetches);
        const to = performance.now();
        const step = epoch * batches + bi;
        lr = opts.learningRate(step, totalSteps);
        optimizer.step(new Map(tg.params.map((p) => [p, r[tg.grads.get(p)!]!.data])), lr);
        for (const b of tg.batchNorms) updateRunningStats(b, stats.get(b.node)!, r[b.batchMean]!.data, r[b.batchVar]!.data, idx.length);
        const te = performance.now();
        timing.data += (tr - tb) / 1000;
        timing.graph += (to - tr) / 1000;
        timing.optimizer += (te - to) / 1000;
        const loss = r[tg.loss]!.data[0]!;
        lossSum += loss * idx.length;
        const logits = r[tg.logits]!;
        const k = logits.shape[1]!;
        if (train.task === 'single') {
          for (let i = 0; i < idx.length; i++) {
            let arg = 0;
            for (let j = 1; j < k; j++) if (logits.data[i * k + j]! > logits.data[i * k + arg]!) arg = j;
            if (arg === labelOf(train, idx[i]!)) correct++;
          }
        }
        seen += idx.length;
        opts.onBatch?.({ epoch, batch: bi, batches, loss: lossSum / seen, accuracy: correct / seen });
      }
      if (seen === 0) break;
      const seconds = (performance.now() - t0) / 1000;
      const record: EpochRecord = { epoch, train: { loss: lossSum / seen, accuracy: correct / seen }, lr, seconds, imagesPerSecond: seen / seconds, timing };
      const stopping = interrupted || epoch === opts.epochs - 1 || (opts.stopAtTrainAccuracy !== undefined && record.train.accuracy >= opts.stopAtTrainAccuracy);
      // keep 'last': validation cannot choose the epoch, so it runs once, on the epoch kept
      if (val && evalSession && (opts.keep !== 'last' || stopping)) {
        record.val = await evaluateWith(evalSession, evalGraph, tg, params, stats, val, bs);
        const score = selectScore(record.val, opts.selectBy ?? (val.task === 'single' && val.classNames.length === 2 ? 'auroc' : 'accuracy'));
        if (opts.keep !== 'last' && (!best || score > best.score)) best = { epoch, score, params: copyArrays(params), stats: new Map([...stats].map(([k, v]) => [k, { mean: Float32Array.from(v.mean), var: Float32Array.from(v.var) }])) };
      }
      history.push(record);
      opts.onEpoch?.(record);
      if (opts.stopAtTrainAccuracy !== undefined && record.train.accuracy >= opts.stopAtTrainAccuracy) break;
    }
  } finally {
    await trainSession.release();
    await evalSession?.release();
  }
  const keep = best ?? { epoch: history.length - 1, score: 0, params, stats };
  return { model: withWeights(model, tg, keep.params, keep.stats), history, bestEpoch: keep.epoch, interrupted };
}

function selectScore(m: EpochMetrics, by: 'auroc' | 'accuracy' | 'loss'): number {
  if (by === 'loss') return -m.loss;
  if (by === 'auroc') return m.auroc ?? m.accuracy;
  return m.accuracy;
}

async function evaluateWith(
  s: GraphSession,
  g: IRModel,
  tg: TrainingGraph,
  params: Arrays,
  stats: Map<string, { mean: Float32Array; var: Float32Array }>,
  ds: ImageDataset,
  bs: number,
): Promise<EpochMetrics> {
  const feeds: Record<string, Tensor> = {};
  for (const [p, data] of params) feeds[p] = new Tensor(data, [...(g.graph.inputs.find((v) => v.name === p)!.shape as number[])]);
  for (const b of tg.batchNorms) {
    const st = stats.get(b.node)!;
    feeds[b.runningMean] = new Tensor(st.mean, [st.mean.length]);
    feeds[b.runningVar] = new Tensor(st.var, [st.var.length]);
  }
  const n = ds.images.shape[0]!;
  const parts: Tensor[] = [];
  for (let i = 0; i < n; i += bs) {
    const x = ds.images.slice0(i, Math.min(n, i + bs));
    parts.push((await s.run({ ...feeds, [tg.input]: x }, [tg.logits]))[tg.logits]!);
  }
  return evaluateLogits(Tensor.concat0(parts), ds);
}

/** The forward model with the given weights and running statistics as initializers. */
export function withWeights(model: IRModel, tg: TrainingGraph, params: Arrays, stats: Map<string, { mean: Float32Array; var: Float32Array }>): IRModel {
  const m = cloneModel(model);
  const set = (name: string, data: Float32Array) => {
    const t = m.graph.initializers.get(name)!;
    m.graph.initializers.set(name, { ...t, data: Float32Array.from(data) });
  };
  for (const [p, data] of params) set(p, data);
  for (const b of tg.batchNorms) {
    const st = stats.get(b.node)!;
    set(b.runningMean, st.mean);
    set(b.runningVar, st.var);
  }
  return m;
}
