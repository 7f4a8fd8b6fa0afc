/**
 * Label randomization (the data-randomization sanity check of Adebayo et al. 2018: retrain on the same
 * images with labels permuted, which keeps the class frequencies and destroys the image–label link) and
 * seeded train/validation splits.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';
import { datasetSize, selectRows, type ImageDataset, checkDataset, type SingleLabelDataset } from './dataset.js';

/** A seeded permutation of single labels (a new array; the multiset of labels is unchanged). */
export function permuteLabels(labels: Int32Array, rng: Rng): Int32Array {
  const order = rng.permutation(labels.length);
  const out = new Int32Array(labels.length);
  for (let i = 0; i < out.length; i++) out[i] = labels[order[i]!]!;
  return out;
}

/** The same for a multi-label `[N,K]` matrix: whole label rows are permuted between images. */
export function permuteLabelRows(labels: Tensor<Uint8Array>, rng: Rng): Tensor<Uint8Array> {
  const [n, k] = labels.shape as [number, number];
  const order = rng.permutation(n);
  const out = new Uint8Array(n * k);
  for (let i = 0; i < n; i++) out.set(labels.data.subarray(order[i]! * k, (order[i]! + 1) * k), i * k);
  return new Tensor(out, [n, k]);
}

/** The dataset with its labels permuted (images untouched); `source` records the randomization. */
export function randomizeLabels<D extends ImageDataset>(ds: D, rng: Rng): D {
  const source = `${ds.source} [labels permuted]`;
  if (ds.task === 'single') return { ...ds, labels: permuteLabels(ds.labels, rng), source };
  return { ...ds, labels: permuteLabelRows(ds.labels, rng), source };
}

/** The fraction of positions where two label vectors agree (how much a permutation kept). */
export function labelAgreement(a: Int32Array, b: Int32Array): number {
  if (a.length !== b.length) throw new Error(`labelAgreement: lengths ${a.length} and ${b.length}`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length ? same / a.length : 1;
}

export interface SplitOptions {
  /** Validation fraction (default 0.1) or, if ≥ 1, the number of validation images. */
  val?: number;
  /** Keep class proportions in both parts (single labels only; default true when labels are given). */
  stratify?: boolean;
}

/**
 * Seeded train/validation index split of `n` items. With labels and `stratify`, each class is split
 * in the same proportion (rounded per class, so the validation size may differ by a few from the
 * target). Both index lists are sorted.
 */
export function splitIndices(n: number, rng: Rng, opts: SplitOptions = {}, labels?: Int32Array): { train: Int32Array; val: Int32Array } {
  const v = opts.val ?? 0.1;
  if (!(v >= 0) || (v >= 1 && !Number.isInteger(v)) || v > n) throw new Error(`splitIndices: val must be a fraction in [0,1) or a count ≤ ${n}, got ${v}`);
  const frac = v >= 1 ? v / n : v;
  const isVal = new Uint8Array(n);
  const stratify = opts.stratify ?? labels !== undefined;
  if (stratify && labels) {
    if (labels.length !== n) throw new Error(`splitIndices: ${labels.length} labels for ${n} items`);
    const groups = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const g = groups.get(labels[i]!);
      if (g) g.push(i);
      else groups.set(labels[i]!, [i]);
    }
    for (const k of [...groups.keys()].sort((a, b) => a - b)) {
      const idx = rng.shuffle(groups.get(k)!);
      const m = Math.round(frac * idx.length);
      for (let j = 0; j < m; j++) isVal[idx[j]!] = 1;
    }
  } else {
    const order = rng.permutation(n);
    const m = Math.round(frac * n);
    for (let j = 0; j < m; j++) isVal[order[j]!] = 1;
  }
  const train: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) (isVal[i] ? val : train).push(i);
  return { train: Int32Array.from(train), val: Int32Array.from(val) };
}

/** Split a dataset into train and validation parts (stratified for single-label data by default). */
export function trainValSplit<D extends ImageDataset>(ds: D, rng: Rng, opts: SplitOptions = {}): { train: D; val: D } {
  const labels = ds.task === 'single' ? ds.labels : undefined;
  const { train, val } = splitIndices(datasetSize(ds), rng, opts, labels);
  return { train: selectRows(ds, train, `${ds.source} [train part]`), val: selectRows(ds, val, `${ds.source} [val part]`) };
}

/**
 * One finding of a multi-label set as a binary data set: label k's column becomes the class (0: absent,
 * 1: present), named `no <finding>` / `<finding>`. What the audit of a multi-label model runs on, per finding.
 */
export function binaryLabelView(ds: ImageDataset, k: number): SingleLabelDataset {
  if (ds.task !== 'multi') throw new Error(`${ds.source}: one class per image already; a finding view needs multi-label data`);
  const K = ds.classNames.length;
  if (!Number.isInteger(k) || k < 0 || k >= K) throw new Error(`${ds.source}: no finding ${k} (it has ${K}: ${ds.classNames.join(', ')})`);
  const n = ds.labels.shape[0]!;
  const labels = Int32Array.from({ length: n }, (_, i) => ds.labels.data[i * K + k]!);
  const name = ds.classNames[k]!;
  return checkDataset({ task: 'single', images: ds.images, labels, classNames: [`no ${name}`, name], source: `${ds.source}, finding '${name}'` });
}
