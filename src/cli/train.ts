/**
 * `candor train`: train a classifier on the candor engine and save it as plain ONNX with a JSON
 * card beside it. The sanity-check variants (random labels, a label-correlated shortcut) are flags.
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildArchitecture, ARCHITECTURES, isVolumeArchitecture } from '../train/arch/index.js';
import { prepareDataAsync } from '../train/prepare.js';
import type { OptimizerType } from '../train/optim.js';
import { saveModel, cardPath } from '../train/card.js';
import { balancedClassWeights, formatMetrics, trainModel } from '../train/train-model.js';
import { classCounts } from '../data/dataset.js';
import { parse, parseFrames, parseIntArg, parseVoxelOrder, required, UsageError } from './args.js';
import { PREPROCESS_HELP, PREPROCESS_OPTIONS, resolvePreprocessing } from './preprocess-args.js';

export const TRAIN_USAGE = `usage: candor train --out model.onnx [--data pneumoniamnist|file.npz|image-folder|labels.csv] [--arch small-cnn] [--size 64]
       [--epochs 10] [--batch-size 128] [--optimizer adam|adamw|sgd] [--lr 0.001] [--weight-decay 0]
       [--schedule constant|cosine|onecycle] [--class-weights balanced] [--augment]
       [--random-labels] [--shortcut corner:8|stripe:3|text:L[@p]] [--seed 0] [--threads N] [--limit N] [--force]
       [--scale pm1] [--window C,W] [--axis k] [--resize stretch|pad|crop] [--frames first|all] [--strict] [--voxel-order ijk|kji|ras]

Trains on the training split, keeps the epoch with the best validation AUROC (accuracy for more
than two classes), evaluates on the test split, and writes model.onnx and model.json (the card).
MedMNIST archives bring their own splits; folders (one sub-folder per class, searched recursively:
PNG, JPEG and DICOM — by its DICM marker, any extension) and CSVs of file,label[,group] (DICOM,
PNG/JPEG, NIfTI slices as scan.nii.gz#slice=12, DICOM frames as cine.dcm#frame=3) get a seeded,
stratified 70/15/15 split that keeps a file (or a CSV group: patient) in one split. DICOM is windowed
by --window C,W, else the file's own window, else min–max; MONOCHROME1 is inverted. An unreadable file
is skipped and listed in the output and the card (--strict stops at the first). The card records
the preprocessing, and every command (explain, metrics, audit, the workbench…) uses it for this model.
With a 3-D architecture (small_cnn_3d, r3d_18), a folder or CSV of NIfTI files is read as volumes, one
sample per file, resampled to size³ with the voxel axes in --voxel-order (ijk as stored, the default, as
nibabel and MONAI read them; kji as SimpleITK does; ras after reorienting), recorded in the card.
Architectures: ${Object.keys(ARCHITECTURES).join(', ')}.

${PREPROCESS_HELP}`;

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
      ...PREPROCESS_OPTIONS,
      frames: { type: 'string' },
      strict: { type: 'boolean', default: false },
      'voxel-order': { type: 'string' },
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
  // Before any training: the folder of --out must exist or be creatable (the model was lost at the end otherwise).
  try {
    mkdirSync(dirname(resolve(out)), { recursive: true });
    accessSync(dirname(resolve(out)), constants.W_OK);
  } catch (e) {
    throw new UsageError(`--out ${out}: cannot write to its folder (${(e as Error).message})`);
  }
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

  const arch3d = isVolumeArchitecture(v.arch ?? '');
  console.error(`candor train: preparing ${v.data} at ${size}×${size}${arch3d ? `×${size}` : ''}…`);
  const { pre } = resolvePreprocessing(v);
  const data = await prepareDataAsync(v.data!, { size, shortcut: v.shortcut, randomLabels: v['random-labels'], seed, limit: v.limit ? parseIntArg(v.limit, '--limit', 0) : undefined, window: pre.window, axis: pre.axis, resize: pre.resize, scale: pre.scale, frames: parseFrames(v.frames), strict: v.strict, volumes: arch3d, voxelOrder: parseVoxelOrder(v['voxel-order'], arch3d) });
  const k = data.train.classNames.length;
  const inChannels = data.train.images.shape[1]!;
  const volumes = data.train.images.shape.length === 5;
  if (volumes !== arch3d) throw new UsageError(volumes ? `${v.data} holds volumes; train a 3-D architecture (small_cnn_3d, r3d_18), not ${v.arch}` : `${v.arch} takes volumes; ${v.data} holds 2-D images`);
  const model = buildArchitecture(v.arch!, { inChannels, numClasses: k, inputSize: size, ...(volumes ? { inputShape3d: data.train.images.shape.slice(2) as [number, number, number] } : {}), seed, dropout: 'inference' });
  const classWeights = v['class-weights'] === 'balanced' ? balancedClassWeights(data.train) : v['class-weights'] ? parseWeights(v['class-weights'], k) : undefined;
  const threads = v.threads ? parseIntArg(v.threads, '--threads', 0) : undefined;
  const counts = data.train.task === 'single' ? classCounts(data.train) : [];
  console.error(`  ${data.description}\n  train ${data.train.images.shape[0]} (${counts.map((c, i) => `${data.train.classNames[i]} ${c}`).join(', ')}), val ${data.val.images.shape[0]}, test ${data.test.images.shape[0]}`);

  const controller = new AbortController();
  const onSigint = () => {
    console.error('\ncandor train: interrupted; stopping after this batch (nothing half-written is saved)');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  let outcome;
  try {
    outcome = await trainModel({
      model,
      data,
      epochs,
      batchSize,
      optimizer: optType,
      lr,
      weightDecay,
      schedule: v.schedule as 'constant' | 'cosine' | 'onecycle',
      classWeights,
      augment: v.augment,
      seed,
      threads,
      architecture: v.arch!,
      dataLabel: v.data!,
      notes: { randomLabels: v['random-labels'], shortcut: v.shortcut ?? null },
      // Random labels: validation metrics are noise, so the last (most memorised) epoch is kept.
      keep: v['random-labels'] ? 'last' : 'best',
      signal: controller.signal,
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  const { card } = outcome;
  await saveModel(out, outcome.model, card);
  const marked = card.extra?.['test (marked)'];
  console.log(`${out}: kept epoch ${card.bestEpoch + 1}${card.interrupted ? ' (interrupted)' : ''}; test ${formatMetrics(card.test)}${marked ? `; marked test ${formatMetrics(marked)}` : ''}`);
}

function parseWeights(s: string, k: number): number[] {
  const w = s.split(',').map(Number);
  if (w.length !== k || w.some((x) => !(x >= 0))) throw new UsageError(`--class-weights needs 'balanced' or ${k} non-negative numbers, got '${s}'`);
  return w;
}
