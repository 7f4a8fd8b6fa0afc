/**
 * One training run, as `candor train` and the audit's sanity-check models need it: optimiser and
 * schedule from options, `fit` with a progress bar, evaluation on the test split (and on the
 * marked test copy for shortcut data), and a model card. Saving is the caller's choice.
 */
import { DEFAULT_PREPROCESSING, preprocessingRecord } from '../data/preprocessing.js';
import { fit } from './fit.js';
import { recomputeBatchNormStats } from './precise-bn.js';
import { createOptimizer, normAndBias, type OptimizerType } from './optim.js';
import { constant, cosine, oneCycle } from './schedule.js';
import { evaluateLogits, type EpochMetrics } from './evaluate.js';
import { candorVersion, type ModelCard } from './card.js';
import { Progress } from './progress.js';
import type { PreparedData } from './prepare.js';
import { classCounts, type ImageDataset } from '../data/dataset.js';
import type { AugmentOptions } from '../data/augment.js';
import { modelFromBytes, nodeOrt } from '../runtime/node.js';
import { serializeModel } from '../onnx/proto.js';
import type { Model as IRModel } from '../onnx/ir.js';
import { describeScale } from '../data/transforms.js';

export interface TrainSettings {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerType;
  lr: number;
  weightDecay: number;
  schedule: 'constant' | 'cosine' | 'onecycle';
  classWeights?: number[];
  augment?: boolean;
  seed: number;
  threads?: number;
  /** Which epoch to keep (default 'best' on validation; see FitOptions.keep). */
  keep?: 'best' | 'last';
  /** Stop once training accuracy reaches this (`epochs` is then a maximum). */
  stopAtTrainAccuracy?: number;
}

export interface TrainRequest extends TrainSettings {
  /** The initialised forward model (e.g. from `buildArchitecture`). */
  model: IRModel;
  data: PreparedData;
  /** Card fields describing what was trained. */
  architecture: string;
  dataLabel: string;
  /** Extra card fields under `training` (random labels, shortcut spec…). */
  notes?: Record<string, unknown>;
  signal?: AbortSignal;
  /** Lines of progress (default: stderr). */
  log?: (line: string) => void;
  /** Draw per-epoch progress bars (default true). */
  bars?: boolean;
}

export interface TrainOutcome {
  model: IRModel;
  card: ModelCard;
}

/** Train, evaluate on the test split (and the marked copy), and describe the run in a card. */
export async function trainModel(req: TrainRequest): Promise<TrainOutcome> {
  const log = req.log ?? ((l: string) => console.error(l));
  const { data, epochs, batchSize, lr } = req;
  const size = data.train.images.shape[2]!;
  const inChannels = data.train.images.shape[1]!;
  const total = Math.ceil(data.train.images.shape[0]! / batchSize) * epochs;
  const schedule = req.schedule === 'onecycle' ? oneCycle({ maxLr: lr, totalSteps: total }) : undefined;
  const lrAt = schedule ? schedule.lr : req.schedule === 'cosine' ? cosine({ baseLr: lr, tMax: total }) : constant(lr);
  let bar: Progress | undefined;
  let opt: ReturnType<typeof createOptimizer> | undefined;
  const result = await fit(req.model, data.train, data.val, nodeOrt, {
    epochs,
    batchSize,
    seed: req.seed,
    threads: req.threads,
    classWeights: req.classWeights,
    // augmentation is 2-D (flips, rotation, crops of images); volumes are trained without it (said below)
    augment: req.augment && data.train.images.shape.length === 4 ? ({ flip: 0.5, rotate: 10, cropPadding: Math.round(size / 16) } satisfies AugmentOptions) : undefined,
    optimizer: (params) => (opt = createOptimizer(params, { type: req.optimizer, lr, weightDecay: req.weightDecay, excludeFromWeightDecay: normAndBias })),
    learningRate: (step) => {
      if (schedule && opt) opt.setMomentum(schedule.momentum(step));
      return lrAt(step);
    },
    signal: req.signal,
    source: req.architecture,
    keep: req.keep,
    stopAtTrainAccuracy: req.stopAtTrainAccuracy,
    onBatch: (b) => {
      if (req.bars === false) return;
      if (b.batch === 0) bar = new Progress({ total: b.batches, label: `epoch ${b.epoch + 1}/${epochs}`, unit: 'batch' });
      bar!.tick(1, { loss: b.loss.toFixed(4), acc: b.accuracy.toFixed(3) });
    },
    onEpoch: (r) => {
      bar?.finish();
      const val = r.val ? `  val loss ${r.val.loss.toFixed(4)} acc ${r.val.accuracy.toFixed(3)}${r.val.auroc !== undefined ? ` auroc ${r.val.auroc.toFixed(3)}` : ''}` : '';
      log(`  epoch ${r.epoch + 1}: train loss ${r.train.loss.toFixed(4)} acc ${r.train.accuracy.toFixed(3)}${val}  (${r.imagesPerSecond.toFixed(0)} img/s)`);
    },
  });
  if (result.history.length === 0) throw new Error('interrupted before the first epoch finished; nothing saved');

  // Volumes train with small batches: the running BatchNorm statistics are recomputed for the kept weights
  // (precise-bn.ts), or the model in eval mode can rank well and still put every volume in one class.
  const volumes = data.train.images.shape.length === 5;
  let final = result.model;
  if (volumes) {
    log('  recomputing BatchNorm statistics for the kept weights (one pass over the training volumes)…');
    final = await recomputeBatchNormStats(result.model, data.train, nodeOrt, { batchSize, threads: req.threads, source: req.architecture });
  }
  const trained = modelFromBytes(serializeModel(final), { source: req.architecture, threads: req.threads });
  const evaluate = async (ds: ImageDataset): Promise<EpochMetrics> => evaluateLogits(await trained.forward(ds.images, { batchSize: 256 }), ds);
  const test = await evaluate(data.test);
  const extra: Record<string, EpochMetrics> = {};
  if (data.testMarked) extra['test (marked)'] = await evaluate(data.testMarked.dataset);
  await trained.dispose();
  const card: ModelCard = {
    candorVersion: candorVersion(),
    createdAt: new Date().toISOString(),
    architecture: req.architecture,
    task: data.train.task === 'multi' ? 'multilabel' : 'single',
    input: { channels: inChannels, size, ...(data.train.images.shape.length === 5 ? { spatial: data.train.images.shape.slice(2), ...(data.voxelOrder ? { voxelOrder: data.voxelOrder } : {}) } : {}), normalization: describeScale(data.preprocessing?.scale ?? 'pm1') },
    preprocessing: preprocessingRecord(data.preprocessing ?? DEFAULT_PREPROCESSING),
    classes: data.train.classNames,
    data: {
      path: req.dataLabel === data.path ? data.path : `${req.dataLabel} (bundled: ${data.path.split(/[\\/]/).slice(-2).join('/')})`,
      description: data.description,
      splits: { train: data.train.images.shape[0]!, val: data.val.images.shape[0]!, test: data.test.images.shape[0]! },
    },
    training: {
      epochs,
      epochsRun: result.history.length,
      keep: req.keep ?? 'best',
      ...(req.stopAtTrainAccuracy !== undefined ? { stopAtTrainAccuracy: req.stopAtTrainAccuracy } : {}),
      batchSize,
      optimizer: req.optimizer,
      lr,
      weightDecay: req.weightDecay,
      schedule: req.schedule,
      classWeights: req.classWeights,
      augment: !!req.augment && data.train.images.shape.length === 4,
      ...(volumes ? { batchNormStats: 'recomputed for the kept weights over the training set (precise BN)' } : {}),
      ...req.notes,
      threads: req.threads ?? null,
    },
    seed: req.seed,
    history: result.history,
    bestEpoch: result.bestEpoch,
    interrupted: result.interrupted,
    test,
    extra: Object.keys(extra).length ? extra : undefined,
  };
  return { model: final, card };
}

/** Class weights n / (k · n_c), as sklearn's 'balanced'. */
export function balancedClassWeights(ds: ImageDataset): number[] {
  const counts = classCounts(ds);
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (c ? n / (counts.length * c) : 0));
}

/** One line summarising test metrics. */
export function formatMetrics(m: EpochMetrics): string {
  return `acc ${m.accuracy.toFixed(3)}${m.auroc !== undefined ? `, AUROC ${m.auroc.toFixed(3)}` : ''}${m.sensitivity !== undefined ? `, sensitivity ${m.sensitivity.toFixed(3)}, specificity ${m.specificity!.toFixed(3)}` : ''}`;
}
