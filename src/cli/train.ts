/**
 * `candor train`: train a classifier on the candor engine and save it as plain ONNX with a JSON
 * card beside it. The sanity-check variants (random labels, a label-correlated shortcut) are flags.
 */
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { buildArchitecture, ARCHITECTURES } from '../train/arch/index.js';
import { prepareData } from '../train/prepare.js';
import { fit } from '../train/fit.js';
import { createOptimizer, normAndBias, type OptimizerType } from '../train/optim.js';
import { constant, cosine, oneCycle } from '../train/schedule.js';
import { evaluateLogits, type EpochMetrics } from '../train/evaluate.js';
import { saveModel, candorVersion, cardPath } from '../train/card.js';
import { Progress } from '../train/progress.js';
import { classCounts, type ImageDataset } from '../data/dataset.js';
import { modelFromBytes } from '../runtime/node.js';
import { serializeModel } from '../onnx/proto.js';
import type { OrtSessionApi } from '../runtime/session.js';
import type { AugmentOptions } from '../data/augment.js';
import { parse, parseIntArg, required, UsageError } from './args.js';

export const TRAIN_USAGE = `usage: candor train --out model.onnx [--data pneumoniamnist|file.npz|image-folder|labels.csv] [--arch small-cnn] [--size 64]
       [--epochs 10] [--batch-size 128] [--optimizer adam|adamw|sgd] [--lr 0.001] [--weight-decay 0]
       [--schedule constant|cosine|onecycle] [--class-weights balanced] [--augment]
       [--random-labels] [--shortcut corner:8|stripe:3|text:L[@p]] [--seed 0] [--threads N] [--limit N] [--force]

Trains on the training split, keeps the epoch with the best validation AUROC (accuracy for more
than two classes), evaluates on the test split, and writes model.onnx and model.json (the card).
MedMNIST archives bring their own splits; image folders (one sub-folder per class) and CSVs of
file,label get a seeded, stratified 70/15/15 split.
Architectures: ${Object.keys(ARCHITECTURES).join(', ')}.`;

const OPTIMIZERS: Record<string, OptimizerType> = { adam: 'Adam', adamw: 'AdamW', sgd: 'SGD' };

export async function trainCommand(argv: string[]): Promise<void> {
  const { values: v } = parse(
    argv,
    {
      out: { type: 'string' },
      data: { type: 'string', default: 'pneumoniamnist' },
      arch: { type: 'string', default: 'small-cnn' },
      size: { type: 'string', default: '64' },
      epochs: { type: 'string', default: '10' },
      'batch-size': { type: 'string', default: '128' },
      optimizer: { type: 'string', default: 'adam' },
      lr: { type: 'string', default: '0.001' },
      'weight-decay': { type: 'string', default: '0' },
      schedule: { type: 'string', default: 'constant' },
      'class-weights': { type: 'string' },
      augment: { type: 'boolean', default: false },
      'random-labels': { type: 'boolean', default: false },
      shortcut: { type: 'string' },
      seed: { type: 'string', default: '0' },
      threads: { type: 'string' },
      limit: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    TRAIN_USAGE,
  );
  if (v.help) {
    console.log(TRAIN_USAGE);
    return;
  }
  const out = required(v.out, '--out', TRAIN_USAGE);
  if (!out.endsWith('.onnx')) throw new UsageError(`--out must name an .onnx file, got '${out}'`);
  if (!v.force && (existsSync(out) || existsSync(cardPath(out)))) throw new UsageError(`${out} exists; use --force to replace it`);
  const size = parseIntArg(v.size, '--size', 64);
  const epochs = parseIntArg(v.epochs, '--epochs', 10);
  const batchSize = parseIntArg(v['batch-size'], '--batch-size', 128);
  const seed = Number(v.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${v.seed}'`);
  const lr = Number(v.lr);
  const weightDecay = Number(v['weight-decay']);
  if (!(lr > 0) || !(weightDecay >= 0)) throw new UsageError('--lr must be > 0 and --weight-decay ≥ 0');
  const optType = OPTIMIZERS[v.optimizer!.toLowerCase()];
  if (!optType) throw new UsageError(`--optimizer must be one of ${Object.keys(OPTIMIZERS).join(', ')}`);
  if (!['constant', 'cosine', 'onecycle'].includes(v.schedule!)) throw new UsageError('--schedule must be constant, cosine or onecycle');

  console.error(`candor train: preparing ${v.data} at ${size}×${size}…`);
  const data = prepareData(v.data!, { size, shortcut: v.shortcut, randomLabels: v['random-labels'], seed, limit: v.limit ? parseIntArg(v.limit, '--limit', 0) : undefined });
  const k = data.train.classNames.length;
  const inChannels = data.train.images.shape[1]!;
  const model = buildArchitecture(v.arch!, { inChannels, numClasses: k, inputSize: size, seed, dropout: 'inference' });
  const classWeights = v['class-weights'] === 'balanced' ? balancedWeights(data.train) : v['class-weights'] ? parseWeights(v['class-weights'], k) : undefined;
  const threads = v.threads ? parseIntArg(v.threads, '--threads', 0) : undefined;
  const counts = data.train.task === 'single' ? classCounts(data.train) : [];
  console.error(`  ${data.description}\n  train ${data.train.images.shape[0]} (${counts.map((c, i) => `${data.train.classNames[i]} ${c}`).join(', ')}), val ${data.val.images.shape[0]}, test ${data.test.images.shape[0]}`);

  const batchesPerEpoch = Math.ceil(data.train.images.shape[0]! / batchSize);
  const total = batchesPerEpoch * epochs;
  const schedule =
    v.schedule === 'onecycle' ? oneCycle({ maxLr: lr, totalSteps: total }) : undefined;
  const lrAt = schedule ? schedule.lr : v.schedule === 'cosine' ? cosine({ baseLr: lr, tMax: total }) : constant(lr);
  const controller = new AbortController();
  const onSigint = () => {
    console.error('\ncandor train: interrupted; stopping after this batch (nothing half-written is saved)');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  let bar: Progress | undefined;
  let opt: ReturnType<typeof createOptimizer> | undefined;
  const result = await fit(model, data.train, data.val, ort as unknown as OrtSessionApi, {
    epochs,
    batchSize,
    seed,
    threads,
    classWeights,
    augment: v.augment ? ({ flip: 0.5, rotate: 10, cropPadding: Math.round(size / 16) } satisfies AugmentOptions) : undefined,
    optimizer: (params) => (opt = createOptimizer(params, { type: optType, lr, weightDecay, excludeFromWeightDecay: normAndBias })),
    learningRate: (step) => {
      if (schedule && opt) opt.setMomentum(schedule.momentum(step));
      return lrAt(step);
    },
    signal: controller.signal,
    source: v.arch,
    onBatch: (b) => {
      if (b.batch === 0) bar = new Progress({ total: b.batches, label: `epoch ${b.epoch + 1}/${epochs}`, unit: 'batch' });
      bar!.tick(1, { loss: b.loss.toFixed(4), acc: b.accuracy.toFixed(3) });
    },
    onEpoch: (r) => {
      bar?.finish();
      const val = r.val ? `  val loss ${r.val.loss.toFixed(4)} acc ${r.val.accuracy.toFixed(3)}${r.val.auroc !== undefined ? ` auroc ${r.val.auroc.toFixed(3)}` : ''}` : '';
      console.error(`  epoch ${r.epoch + 1}: train loss ${r.train.loss.toFixed(4)} acc ${r.train.accuracy.toFixed(3)}${val}  (${r.imagesPerSecond.toFixed(0)} img/s)`);
    },
  });
  process.off('SIGINT', onSigint);
  if (result.history.length === 0) throw new Error('interrupted before the first epoch finished; nothing saved');

  const evaluate = async (ds: ImageDataset): Promise<EpochMetrics> => {
    const m = modelFromBytes(serializeModel(result.model), { source: out, threads });
    const logits = await m.forward(ds.images, { batchSize: 256 });
    await m.dispose();
    return evaluateLogits(logits, ds);
  };
  const test = await evaluate(data.test);
  const extra: Record<string, EpochMetrics> = {};
  if (data.testMarked) extra['test (marked)'] = await evaluate(data.testMarked.dataset);
  await saveModel(out, result.model, {
    candorVersion: candorVersion(),
    createdAt: new Date().toISOString(),
    architecture: v.arch!,
    input: { channels: inChannels, size, normalization: '(x − 0.5) / 0.5 of [0, 1] pixels, i.e. [-1, 1]' },
    classes: data.train.classNames,
    data: { path: v.data === data.path ? data.path : `${v.data} (bundled: ${data.path.split(/[\\/]/).slice(-2).join('/')})`, description: data.description, splits: { train: data.train.images.shape[0]!, val: data.val.images.shape[0]!, test: data.test.images.shape[0]! } },
    training: { epochs, batchSize, optimizer: optType, lr, weightDecay, schedule: v.schedule, classWeights, augment: v.augment, randomLabels: v['random-labels'], shortcut: v.shortcut ?? null, threads: threads ?? null },
    seed,
    history: result.history,
    bestEpoch: result.bestEpoch,
    interrupted: result.interrupted,
    test,
    extra: Object.keys(extra).length ? extra : undefined,
  });
  const fmt = (m: EpochMetrics) => `acc ${m.accuracy.toFixed(3)}${m.auroc !== undefined ? `, AUROC ${m.auroc.toFixed(3)}` : ''}${m.sensitivity !== undefined ? `, sensitivity ${m.sensitivity.toFixed(3)}, specificity ${m.specificity!.toFixed(3)}` : ''}`;
  console.log(`${out}: kept epoch ${result.bestEpoch + 1}${result.interrupted ? ' (interrupted)' : ''}; test ${fmt(test)}${data.testMarked ? `; marked test ${fmt(extra['test (marked)']!)}` : ''}`);
}

function balancedWeights(ds: ImageDataset): number[] {
  const counts = classCounts(ds);
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (c ? n / (counts.length * c) : 0));
}

function parseWeights(s: string, k: number): number[] {
  const w = s.split(',').map(Number);
  if (w.length !== k || w.some((x) => !(x >= 0))) throw new UsageError(`--class-weights needs 'balanced' or ${k} non-negative numbers, got '${s}'`);
  return w;
}
