/**
 * Deterministic transforms of image batches and datasets: resize, normalisation, channel repeat,
 * seeded shuffling and subsets. All return new tensors/datasets and leave their inputs unchanged.
 * Seeded augmentation is in augment.ts; the resize filter is described in resize.ts.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';
import { datasetSize, selectRows, withImages, type ImageDataset } from './dataset.js';
import { resize, type ResizeOptions } from './resize.js';

/** [N, C, positions per channel] of an [N,C,H,W] image or [N,C,D,H,W] volume batch. */
function channelsOf(t: Tensor): [number, number, number] {
  if (t.shape.length !== 4 && t.shape.length !== 5) throw new Error(`expected an [N,C,H,W] (or [N,C,D,H,W]) batch, got [${t.shape.join(',')}]`);
  const [N, C, ...sp] = t.shape as number[];
  return [N!, C!, sp.reduce((a, b) => a * b, 1)];
}

function perChannel(v: number | readonly number[], C: number, what: string): number[] {
  if (typeof v === 'number') return new Array<number>(C).fill(v);
  if (v.length !== C) throw new Error(`${what}: ${v.length} values for ${C} channels`);
  return [...v];
}

/** (x − mean_c) / std_c per channel of an `[N,C,H,W]` (or `[N,C,D,H,W]`) batch (a number applies to every channel). */
export function normalize(t: Tensor, mean: number | readonly number[], std: number | readonly number[]): Tensor {
  const [N, C, P] = channelsOf(t);
  const m = perChannel(mean, C, 'normalize mean');
  const s = perChannel(std, C, 'normalize std');
  if (s.some((v) => !(v > 0))) throw new Error(`normalize: std must be positive, got [${s.join(', ')}]`);
  const out = new Float32Array(t.size);
  const d = t.data;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * P;
      const mc = m[c]!;
      const inv = 1 / s[c]!;
      for (let p = 0; p < P; p++) out[base + p] = (d[base + p]! - mc) * inv;
    }
  }
  return new Tensor(out, t.shape);
}

/** The inverse of {@link normalize}: x·std_c + mean_c. */
export function denormalize(t: Tensor, mean: number | readonly number[], std: number | readonly number[]): Tensor {
  const [, C] = channelsOf(t);
  const s = perChannel(std, C, 'denormalize std');
  const m = perChannel(mean, C, 'denormalize mean');
  return normalize(t, m.map((v, c) => -v / s[c]!), s.map((v) => 1 / v));
}

/**
 * What a model expects its pixels to be, from images in [0, 1] (after channel repetition):
 *   pm1: (x − 0.5) / 0.5 ∈ [−1, 1] — the tutorial's, and every model candor trains;
 *   unit: x ∈ [0, 1];
 *   imagenet: (x − mean) / std with torchvision's ImageNet statistics per channel (a 1-channel model
 *     gets their averages, mean 0.449 and std 0.226, as the workbench always did);
 *   byte: 255·x ∈ [0, 255] — Keras models that carry their own Rescaling layer.
 */
export const INPUT_SCALES = ['pm1', 'unit', 'imagenet', 'byte'] as const;
export type InputScale = (typeof INPUT_SCALES)[number];

export function scaleInput(t: Tensor, scale: InputScale): Tensor {
  const c = t.shape[1]!;
  switch (scale) {
    case 'pm1':
      return toMinusOneOne(t);
    case 'unit':
      return t;
    case 'byte':
      return normalize(t, 0, 1 / 255);
    case 'imagenet':
      if (c !== 1 && c !== 3) throw new Error(`imagenet scaling needs 1 or 3 channels, the images have ${c}`);
      return c === 3 ? normalize(t, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]) : normalize(t, 0.449, 0.226);
    default:
      throw new Error(`unknown input scale '${scale as string}' (valid: ${INPUT_SCALES.join(', ')})`);
  }
}

/** In words, for reports and cards. */
export function describeScale(scale: InputScale): string {
  return {
    pm1: '(x − 0.5) / 0.5 of [0, 1] pixels, i.e. [-1, 1]',
    unit: '[0, 1] pixels',
    imagenet: '(x − mean) / std of [0, 1] pixels, torchvision ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225)',
    byte: '[0, 255] pixels (255·x)',
  }[scale];
}

/** The tutorial's normalisation: (x − 0.5) / 0.5, mapping 0..1 to −1..1. */
export function toMinusOneOne(t: Tensor): Tensor {
  return normalize(t, 0.5, 0.5);
}

/** Per-channel mean and (population) standard deviation of a batch, for mean/std normalisation. */
export function channelStats(t: Tensor): { mean: number[]; std: number[] } {
  const [N, C, P] = channelsOf(t);
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0;
    let s2 = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * P;
      for (let p = 0; p < P; p++) {
        const v = t.data[base + p]!;
        s += v;
        s2 += v * v;
      }
    }
    const cnt = N * P;
    const mu = s / cnt;
    mean.push(mu);
    std.push(Math.sqrt(Math.max(0, s2 / cnt - mu * mu)));
  }
  return { mean, std };
}

/** Repeat a 1-channel `[N,1,H,W]` batch to `channels` channels (e.g. gray → RGB for ImageNet-shaped models). */
export function repeatChannels(t: Tensor, channels = 3): Tensor {
  const [N, C, P] = channelsOf(t);
  if (C === channels) return new Tensor(t.data.slice(), t.shape);
  if (C !== 1) throw new Error(`repeatChannels: input has ${C} channels; only 1-channel images can be repeated`);
  const out = new Float32Array(N * channels * P);
  for (let n = 0; n < N; n++) {
    const src = t.data.subarray(n * P, (n + 1) * P);
    for (let c = 0; c < channels; c++) out.set(src, (n * channels + c) * P);
  }
  return new Tensor(out, [N, channels, t.shape[2]!, t.shape[3]!]);
}

/** Resize every image of a dataset (see resize.ts). */
export function resizeDataset<D extends ImageDataset>(ds: D, size: number | readonly [number, number], opts?: ResizeOptions): D {
  return withImages(ds, resize(ds.images, size, opts));
}

/** Apply a batch transform to a dataset's images. */
export function mapImages<D extends ImageDataset>(ds: D, f: (images: Tensor) => Tensor): D {
  return withImages(ds, f(ds.images));
}

/** A seeded random order of the dataset (returns the order too, to apply it to side data). */
export function shuffleDataset<D extends ImageDataset>(ds: D, rng: Rng): { dataset: D; order: Int32Array } {
  const order = rng.permutation(datasetSize(ds));
  return { dataset: selectRows(ds, order), order };
}

/** The first `n` images (all if fewer). */
export function takeFirst<D extends ImageDataset>(ds: D, n: number): D {
  const m = Math.min(Math.max(0, Math.floor(n)), datasetSize(ds));
  return selectRows(ds, Int32Array.from({ length: m }, (_, i) => i), `${ds.source} [first ${m}]`);
}

/**
 * Indices of a seeded stratified sample: `perClass` images of each class (a number for all classes, or
 * one per class), chosen uniformly without replacement; a class with fewer images gives all of them.
 * The result is sorted (dataset order). Single-label datasets only.
 */
export function stratifiedIndices(labels: Int32Array, numClasses: number, perClass: number | readonly number[], rng: Rng): Int32Array {
  const want = typeof perClass === 'number' ? new Array<number>(numClasses).fill(perClass) : [...perClass];
  if (want.length !== numClasses) throw new Error(`stratifiedIndices: ${want.length} counts for ${numClasses} classes`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((v, i) => byClass[v]!.push(i));
  const picked: number[] = [];
  byClass.forEach((idx, k) => {
    const m = Math.min(idx.length, Math.max(0, Math.floor(want[k]!)));
    // partial Fisher–Yates: the first m of a seeded shuffle
    for (let i = 0; i < m; i++) {
      const j = i + rng.int(idx.length - i);
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
    }
    picked.push(...idx.slice(0, m));
  });
  return Int32Array.from(picked.sort((a, b) => a - b));
}

/** A seeded stratified subset of a single-label dataset (see {@link stratifiedIndices}). */
export function stratifiedSample<D extends ImageDataset>(ds: D, perClass: number | readonly number[], rng: Rng): D {
  if (ds.task !== 'single') throw new Error(`${ds.source}: stratified sampling needs single-label data`);
  const idx = stratifiedIndices(ds.labels, ds.classNames.length, perClass, rng);
  return selectRows(ds, idx, `${ds.source} [stratified ${idx.length}]`);
}
