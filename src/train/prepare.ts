/**
 * Training data as the models see it: load a MedMNIST archive (or the bundled PneumoniaMNIST), or a
 * folder / CSV of PNG, JPEG, DICOM and NIfTI slices (data/image-folder.ts, data/medical-folder.ts),
 * resize (antialiased), optionally draw a label-correlated shortcut, scale to [-1, 1] as the
 * tutorial does ((x − 0.5) / 0.5), repeat channels for RGB architectures, and optionally permute
 * the training labels (data-randomization sanity check).
 */
import { resampledAffine, type VoxelOrder } from '../data/volume.js';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename, dirname } from 'node:path';
import { type ImageDataset } from '../data/dataset.js';
import { loadMedMnistPresent, loadMedMnistSplits, type Split } from '../data/medmnist.js';
import { describeScale, type InputScale, mapImages, scaleInput, stratifiedSample, takeFirst } from '../data/transforms.js';
import { DEFAULT_PREPROCESSING, PreprocessLog, toModelSize, type Preprocessing, type ResizePolicy } from '../data/preprocessing.js';
import type { SliceAxis } from '../io/nifti.js';
import { classCounts, concatDatasets } from '../data/dataset.js';
import { injectShortcutDataset, parseShortcut } from '../data/shortcut.js';
import { binaryLabelView, randomizeLabels, splitIndices } from '../data/labels.js';
import { loadImageCollection } from '../data/image-folder.js';
import { loadJpeg2000Codec } from '../io/dicom.js';
import { openNpzFileSync } from '../io/files.js';
import { selectRows } from '../data/dataset.js';
import { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { resize } from '../data/resize.js';

export const BUNDLED_DATASETS: Record<string, string> = {
  pneumoniamnist: fileURLToPath(new URL('../../data/pneumoniamnist.npz', import.meta.url)),
};

/**
 * A dataset name ('pneumoniamnist'), a MedMNIST-style .npz, a folder with one sub-folder per class
 * (PNG, JPEG, DICOM), or a CSV of file,label (PNG, JPEG, DICOM, NIfTI slices as `vol.nii.gz#slice=12`).
 */
export function resolveDataPath(data: string): string {
  const bundled = BUNDLED_DATASETS[data.toLowerCase()];
  if (bundled) return bundled;
  if (!existsSync(data)) {
    throw new Error(`${data}: no such file, and not a bundled dataset (bundled: ${Object.keys(BUNDLED_DATASETS).join(', ')})`);
  }
  return data;
}

export interface PrepareOptions {
  /** Square image size the model takes. */
  size: number;
  /** Channels the model takes (grayscale images are repeated); default: the data's own. */
  channels?: number;
  /** Shortcut spec as in `parseShortcut` ('corner:8', 'stripe:3@0.9', 'text:L'). */
  shortcut?: string;
  randomLabels?: boolean;
  seed?: number;
  /** Pixel values the model expects (default 'pm1', [-1, 1], as candor trains; see scaleInput). */
  scale?: InputScale;
  /** Keep about n images of each split, in class proportion (quick runs and tests). */
  limit?: number;
  /**
   * DICOM/NIfTI window `[center, width]` in modality units (HU for CT), for every DICOM and NIfTI image.
   * Default: the file's own window — DICOM's first WindowCenter/WindowWidth, NIfTI's display range
   * cal_min–cal_max — else the image's min–max (DICOM: the file, NIfTI: the volume).
   */
  window?: readonly [number, number];
  /** Multi-frame DICOM in class folders (and CSV rows without `#frame=`): first frame only (default) or every frame. */
  frames?: 'first' | 'all';
  /** Multi-label data: keep finding k only, as a binary task (no finding / finding); see binaryLabelView. */
  label?: number;
  /** Names for the classes or findings (e.g. from a model card), used when their count matches the data's. */
  classNames?: readonly string[];
  /** NIfTI slice axis for CSV rows and folder volumes that name none (default 'k'). */
  axis?: SliceAxis;
  /** How images of another aspect ratio meet the model's size (default 'stretch'; data/preprocessing.ts). */
  resize?: ResizePolicy;
  /** Folders and CSVs: stop at the first unreadable file (default: skip it, and say so in the description). */
  strict?: boolean;
  /** Folders and CSVs hold NIfTI volumes for a 3-D model: each file is one sample, resampled to size³ (image-folder.ts). */
  volumes?: boolean;
  /** Volumes read from NIfTI files: the voxel order of the array axes (default 'ijk'). */
  voxelOrder?: VoxelOrder;
}

export interface PreparedData {
  train: ImageDataset;
  val: ImageDataset;
  test: ImageDataset;
  /** With a shortcut: the test split with every image of a marked class marked, and its masks. */
  testMarked?: { dataset: ImageDataset; mask: Tensor<Uint8Array>; marked: Uint8Array };
  path: string;
  description: string;
  /** What preprocessing did (aspect changes, colour to grey, windows), over every split. */
  log: PreprocessLog;
  /** Volumes read from NIfTI files (folder, CSV): their voxel order (recorded in the card). */
  voxelOrder?: VoxelOrder;
  /** The preprocessing applied (recorded in the card of a model trained on these data). */
  preprocessing: Preprocessing;
}

/** At most n images, in the split's class proportions (seeded), so quick runs see every class. */
function limitSplit(ds: ImageDataset, n: number, rng: Rng): ImageDataset {
  const total = ds.images.shape[0]!;
  if (n >= total) return ds;
  if (ds.task !== 'single') return takeFirst(ds, n);
  const per = classCounts(ds).map((c) => Math.max(c > 0 ? 1 : 0, Math.round((c * n) / total)));
  return stratifiedSample(ds, per, rng);
}

/**
 * Split `n` items into train/validation like `splitIndices`, but keeping each group (one source file:
 * the frames of a multi-frame DICOM or the slices of a NIfTI volume; or a CSV group) in one part. With
 * one item per group this is exactly `splitIndices`; otherwise groups are split, stratified by the label
 * of their first item, so the fraction counts groups.
 */
function groupSplit(groups: Int32Array, labels: Int32Array, rng: Rng, val: number): { train: Int32Array; val: Int32Array } {
  const n = groups.length;
  const first = new Map<number, number>();
  for (let i = 0; i < n; i++) if (!first.has(groups[i]!)) first.set(groups[i]!, i);
  if (first.size === n) return splitIndices(n, rng, { val }, labels);
  const ids = [...first.keys()];
  const slot = new Map(ids.map((g, k) => [g, k]));
  const r = splitIndices(ids.length, rng, { val }, Int32Array.from(ids, (g) => labels[first.get(g)!]!));
  const isVal = new Uint8Array(ids.length);
  for (const k of r.val) isVal[k] = 1;
  const tr: number[] = [];
  const va: number[] = [];
  for (let i = 0; i < n; i++) (isVal[slot.get(groups[i]!)!] ? va : tr).push(i);
  return { train: Int32Array.from(tr), val: Int32Array.from(va) };
}

/** What splits are stratified by: the class, or for multi-label data whether any finding is present. */
function strata(ds: ImageDataset): Int32Array {
  if (ds.task === 'single') return ds.labels;
  const [n, K] = ds.labels.shape as [number, number];
  return Int32Array.from({ length: n }, (_, i) => (ds.labels.data.subarray(i * K, (i + 1) * K).some((v) => v === 1) ? 1 : 0));
}

/**
 * Folder / CSV data (PNG, JPEG, DICOM, NIfTI slices) has no official splits: a seeded, stratified
 * 70 / 15 / 15 train / validation / test split is drawn, keeping the images of one file (or CSV group)
 * in one split.
 */
function loadImageSplits(path: string, opts: PrepareOptions, rng: Rng, log: PreprocessLog): { splits: Record<Split, ImageDataset>; notes: string[]; grouped: boolean } {
  const isCsv = path.toLowerCase().endsWith('.csv');
  const read = { size: opts.size, window: opts.window, frames: opts.frames, axis: opts.axis, resize: opts.resize, log, strict: opts.strict, channels: opts.channels === 1 ? (1 as const) : undefined, volumes: opts.volumes, voxelOrder: opts.voxelOrder };
  const { dataset: all, groups, notes } = isCsv ? loadImageCollection(dirname(path), { ...read, csv: basename(path) }) : loadImageCollection(path, read);
  const first = groupSplit(groups, strata(all), rng.fork('split:test'), 0.15);
  const rest = selectRows(all, first.train);
  const restGroups = Int32Array.from(first.train, (i) => groups[i]!);
  const second = groupSplit(restGroups, strata(rest), rng.fork('split:val'), 0.15 / 0.85);
  const grouped = new Set(groups).size < groups.length;
  return { splits: { train: selectRows(rest, second.train), val: selectRows(rest, second.val), test: selectRows(all, first.val) }, notes, grouped };
}

/**
 * {@link prepareData} after loading the JPEG 2000 decoder (WebAssembly, loaded asynchronously), so that
 * folders and CSVs may hold JPEG 2000 DICOM files. Everything else is the same.
 */
export async function prepareDataAsync(data: string, opts: PrepareOptions): Promise<PreparedData> {
  const path = resolveDataPath(data);
  if (statSync(path).isDirectory() || path.toLowerCase().endsWith('.csv')) await loadJpeg2000Codec();
  return prepareData(data, opts);
}

/** Splits with their classes renamed, when `names` has as many entries as they have classes. */
function renamed(splits: Record<Split, ImageDataset>, names?: readonly string[]): Record<Split, ImageDataset> {
  if (!names || names.length !== splits.test.classNames.length) return splits;
  const r = (ds: ImageDataset): ImageDataset => ({ ...ds, classNames: [...names] });
  return { train: r(splits.train), val: r(splits.val), test: r(splits.test) };
}

/** Resize a split to the model's size (folder data were resized as they were read). */
function sizeSplit(ds: ImageDataset, opts: PrepareOptions, log: PreprocessLog | undefined, path: string): ImageDataset {
  if (ds.images.shape.length === 5) {
    // volumes (MedMNIST 3-D): a cube of size³ voxels, trilinear (antialiased when shrinking)
    const sp = ds.images.shape.slice(2);
    if (sp.every((d) => d === opts.size)) return ds;
    log?.windows.add(`${path}: volumes resampled ${sp.join('×')} → ${opts.size}³ voxels (trilinear)`);
    const to = [opts.size, opts.size, opts.size];
    const out = mapImages(ds, (t) => resize(t, to));
    return ds.affines ? { ...out, affines: ds.affines.map((a) => (a ? resampledAffine(a, sp, to) : null)) } : out;
  }
  const [, c, h, w] = ds.images.shape as number[];
  return h === opts.size && w === opts.size ? ds : mapImages(ds, (t) => toModelSize(t, c!, [opts.size, opts.size], opts.resize ?? 'stretch', log, path));
}

/** The model's channels (grey repeated, RGB to grey by luma) and pixel scale. */
function finishSplit(ds: ImageDataset, opts: PrepareOptions, log: PreprocessLog | undefined, path: string): ImageDataset {
  let out = ds;
  if (out.images.shape.length === 5) {
    if (opts.channels !== undefined && opts.channels !== out.images.shape[1]) throw new Error(`${path}: volumes have ${out.images.shape[1]} channel(s), the model takes ${opts.channels}`);
    return mapImages(out, (t) => scaleInput(t, opts.scale ?? 'pm1'));
  }
  const [, c, h, w] = out.images.shape as number[];
  if (opts.channels !== undefined && c !== opts.channels) {
    if (c !== 1 && c !== 3) throw new Error(`${path}: images have ${c} channels, the model takes ${opts.channels}`);
    out = mapImages(out, (t) => toModelSize(t, opts.channels!, [h!, w!], 'stretch', log, path));
  }
  return mapImages(out, (t) => scaleInput(t, opts.scale ?? 'pm1'));
}

function preprocessingOf(opts: PrepareOptions): Preprocessing {
  return { scale: opts.scale ?? DEFAULT_PREPROCESSING.scale, ...(opts.window ? { window: opts.window } : {}), axis: opts.axis ?? DEFAULT_PREPROCESSING.axis, resize: opts.resize ?? DEFAULT_PREPROCESSING.resize };
}

/** Whether `data` is a .npz holding a test split and no training split: an external test set. */
export function isTestOnly(data: string): boolean {
  const path = resolveDataPath(data);
  if (!/\.npz$/i.test(path) || statSync(path).isDirectory()) return false;
  const npz = openNpzFileSync(path);
  return npz.has('test_images') && !npz.has('train_images');
}

/** A test-only data set: every image is evaluated, none is split off for training or validation. */
export interface EvaluationData {
  test: ImageDataset;
  path: string;
  description: string;
  log: PreprocessLog;
}

/**
 * An external validation set, whole: a folder or CSV (no 70/15/15 split is drawn) or a MedMNIST-style
 * .npz (every split it holds, in the order train, val, test — a test-only file holds just `test_*`),
 * through the same preprocessing as {@link prepareData}. `limit` keeps about that many images, in class
 * proportion.
 */
export function prepareEvaluationData(data: string, opts: Omit<PrepareOptions, 'shortcut' | 'randomLabels'>): EvaluationData {
  const path = resolveDataPath(data);
  const rng = new Rng(opts.seed ?? 0);
  const log = new PreprocessLog();
  const isImages = statSync(path).isDirectory() || path.toLowerCase().endsWith('.csv');
  let ds: ImageDataset;
  let notes: string[] = [];
  if (isImages) {
    const isCsv = path.toLowerCase().endsWith('.csv');
    const read = { size: opts.size, window: opts.window, frames: opts.frames, axis: opts.axis, resize: opts.resize, log, strict: opts.strict, channels: opts.channels === 1 ? (1 as const) : undefined, volumes: opts.volumes, voxelOrder: opts.voxelOrder };
    const c = isCsv ? loadImageCollection(dirname(path), { ...read, csv: basename(path) }) : loadImageCollection(path, read);
    ds = c.dataset;
    notes = c.notes;
  } else {
    const parts = loadMedMnistPresent(path);
    ds = parts.length === 1 ? parts[0]! : concatDatasets(parts, `${path} (${parts.map((p) => /\((\w+)\)$/.exec(p.source)?.[1]).join(' + ')})`);
  }
  if (opts.classNames && opts.classNames.length === ds.classNames.length) ds = { ...ds, classNames: [...opts.classNames] };
  if (opts.label !== undefined) ds = binaryLabelView(ds, opts.label);
  if (opts.limit) ds = limitSplit(ds, opts.limit, rng.fork('limit:all'));
  ds = finishSplit(sizeSplit(ds, opts, isImages ? undefined : log, path), opts, log, path);
  const test = { ...ds, source: `${ds.source} (all ${ds.images.shape[0]} images: external test set)` } as ImageDataset;
  const description = [`${path.split(/[\\/]/).pop()} as an external test set (every image evaluated, none trained on) at ${opts.size}×${opts.size}, scaled to ${describeScale(opts.scale ?? 'pm1')}`, ...notes, ...log.notes()].join('; ');
  return { test, path, description, log };
}

export function prepareData(data: string, opts: PrepareOptions): PreparedData {
  const path = resolveDataPath(data);
  const seed = opts.seed ?? 0;
  const rng = new Rng(seed);
  const isImages = statSync(path).isDirectory() || path.toLowerCase().endsWith('.csv');
  const log = new PreprocessLog();
  const loaded = isImages ? loadImageSplits(path, opts, rng, log) : undefined;
  const all = renamed(loaded ? loaded.splits : loadMedMnistSplits(path, { volumes: true }), opts.classNames);
  const label = opts.label;
  const raw = label === undefined ? all : { train: binaryLabelView(all.train, label), val: binaryLabelView(all.val, label), test: binaryLabelView(all.test, label) };
  const finish = (ds: ImageDataset, counted = true) => finishSplit(ds, opts, counted ? log : undefined, path);
  const sized = {} as Record<Split, ImageDataset>;
  for (const split of ['train', 'val', 'test'] as const) {
    let ds = raw[split];
    if (opts.limit) ds = limitSplit(ds, opts.limit, rng.fork(`limit:${split}`));
    sized[split] = sizeSplit(ds, opts, loaded ? undefined : log, path);
  }
  let testMarked: PreparedData['testMarked'];
  const notes: string[] = [
    `${path.split(/[\\/]/).pop()}${label === undefined ? '' : `, finding '${all.test.classNames[label]}' (present / absent)`} at ${opts.size}×${opts.size}${all.test.images.shape.length === 5 ? `×${opts.size} (volumes)` : ''}, scaled to ${describeScale(opts.scale ?? 'pm1')}` +
      (loaded ? `; seeded stratified 70/15/15 split${loaded.grouped ? ' (images of one file or CSV group kept in one split)' : ''}` : ''),
    ...(loaded?.notes ?? []),
  ];
  if (opts.shortcut) {
    const spec = parseShortcut(opts.shortcut, opts.size);
    for (const split of ['train', 'val'] as const) {
      sized[split] = injectShortcutDataset(sized[split], { perClass: spec.perClass, probability: spec.probability, seed: rng.fork(`shortcut:${split}`) }).dataset;
    }
    const t = injectShortcutDataset(sized.test, { perClass: spec.perClass, probability: 1, seed: rng.fork('shortcut:test') });
    testMarked = { dataset: finish(t.dataset, false), mask: t.mask, marked: t.marked };
    notes.push(`shortcut '${opts.shortcut}' drawn on train and validation images (test kept clean, plus a marked copy)`);
  }
  let train = sized.train;
  if (opts.randomLabels) {
    train = randomizeLabels(train, rng.fork('labels'));
    notes.push('training labels randomly permuted');
  }
  const result = { train: finish(train), val: finish(sized.val), test: finish(sized.test) };
  notes.push(...log.notes());
  const voxelOrder = loaded && opts.volumes ? (opts.voxelOrder ?? 'ijk') : undefined;
  if (voxelOrder) notes.push(`NIfTI volumes read whole, voxel order ${voxelOrder}`);
  return { ...result, testMarked, path, description: notes.join('; '), log, preprocessing: preprocessingOf(opts), ...(voxelOrder ? { voxelOrder } : {}) };
}
