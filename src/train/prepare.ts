/**
 * Training data as the models see it: load a MedMNIST archive (or the bundled PneumoniaMNIST),
 * resize (antialiased), optionally draw a label-correlated shortcut, scale to [-1, 1] as the
 * tutorial does ((x − 0.5) / 0.5), repeat channels for RGB architectures, and optionally permute
 * the training labels (data-randomization sanity check).
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename, dirname } from 'node:path';
import { type ImageDataset } from '../data/dataset.js';
import { loadMedMnistSplits, type Split } from '../data/medmnist.js';
import { mapImages, repeatChannels, resizeDataset, stratifiedSample, toMinusOneOne, takeFirst } from '../data/transforms.js';
import { classCounts } from '../data/dataset.js';
import { injectShortcutDataset, parseShortcut } from '../data/shortcut.js';
import { randomizeLabels, splitIndices } from '../data/labels.js';
import { loadImageFolder } from '../data/image-folder.js';
import { selectRows } from '../data/dataset.js';
import { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';

export const BUNDLED_DATASETS: Record<string, string> = {
  pneumoniamnist: fileURLToPath(new URL('../../data/pneumoniamnist.npz', import.meta.url)),
};

/** A dataset name ('pneumoniamnist'), a MedMNIST-style .npz, an image folder, or a CSV of file,label. */
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
  /** Keep about n images of each split, in class proportion (quick runs and tests). */
  limit?: number;
}

export interface PreparedData {
  train: ImageDataset;
  val: ImageDataset;
  test: ImageDataset;
  /** With a shortcut: the test split with every image of a marked class marked, and its masks. */
  testMarked?: { dataset: ImageDataset; mask: Tensor<Uint8Array>; marked: Uint8Array };
  path: string;
  description: string;
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
 * PNG/JPEG data (one folder per class, or a CSV of file,label) has no official splits: a seeded,
 * stratified 70 / 15 / 15 train / validation / test split is drawn.
 */
function loadImageSplits(path: string, size: number, rng: Rng): Record<Split, ImageDataset> {
  const isCsv = path.toLowerCase().endsWith('.csv');
  const all = isCsv ? loadImageFolder(dirname(path), { csv: basename(path), size }) : loadImageFolder(path, { size });
  const n = all.images.shape[0]!;
  const first = splitIndices(n, rng.fork('split:test'), { val: 0.15 }, all.labels);
  const rest = selectRows(all, first.train);
  const second = splitIndices(rest.images.shape[0]!, rng.fork('split:val'), { val: 0.15 / 0.85 }, rest.labels);
  return { train: selectRows(rest, second.train), val: selectRows(rest, second.val), test: selectRows(all, first.val) };
}

export function prepareData(data: string, opts: PrepareOptions): PreparedData {
  const path = resolveDataPath(data);
  const seed = opts.seed ?? 0;
  const rng = new Rng(seed);
  const isImages = statSync(path).isDirectory() || path.toLowerCase().endsWith('.csv');
  const raw = isImages ? loadImageSplits(path, opts.size, rng) : loadMedMnistSplits(path);
  const finish = (ds: ImageDataset) => {
    let out = mapImages(ds, toMinusOneOne);
    const c = out.images.shape[1]!;
    if (opts.channels !== undefined && c !== opts.channels) {
      if (c !== 1) throw new Error(`${path}: images have ${c} channels, the model takes ${opts.channels}`);
      out = mapImages(out, (t) => repeatChannels(t, opts.channels));
    }
    return out;
  };
  const sized = {} as Record<Split, ImageDataset>;
  for (const split of ['train', 'val', 'test'] as const) {
    let ds = raw[split];
    if (opts.limit) ds = limitSplit(ds, opts.limit, rng.fork(`limit:${split}`));
    sized[split] = resizeDataset(ds, opts.size, { antialias: true });
  }
  let testMarked: PreparedData['testMarked'];
  const notes: string[] = [`${path.split(/[\\/]/).pop()} at ${opts.size}×${opts.size}, scaled to [-1, 1]${isImages ? '; seeded stratified 70/15/15 split' : ''}`];
  if (opts.shortcut) {
    const spec = parseShortcut(opts.shortcut, opts.size);
    for (const split of ['train', 'val'] as const) {
      sized[split] = injectShortcutDataset(sized[split], { perClass: spec.perClass, probability: spec.probability, seed: rng.fork(`shortcut:${split}`) }).dataset;
    }
    const t = injectShortcutDataset(sized.test, { perClass: spec.perClass, probability: 1, seed: rng.fork('shortcut:test') });
    testMarked = { dataset: finish(t.dataset), mask: t.mask, marked: t.marked };
    notes.push(`shortcut '${opts.shortcut}' drawn on train and validation images (test kept clean, plus a marked copy)`);
  }
  let train = sized.train;
  if (opts.randomLabels) {
    train = randomizeLabels(train, rng.fork('labels'));
    notes.push('training labels randomly permuted');
  }
  return { train: finish(train), val: finish(sized.val), test: finish(sized.test), testMarked, path, description: notes.join('; ') };
}
