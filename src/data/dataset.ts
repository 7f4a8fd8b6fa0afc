/**
 * The in-memory image dataset that training and the stress tests share.
 *
 * Images are one float32 tensor `[N,C,H,W]` (values 0..1 as loaded; transforms may change the range).
 * Labels are either one class index per image (`task: 'single'`: binary and multi-class sets) or an
 * `[N,K]` 0/1 matrix (`task: 'multi'`: multi-label sets such as ChestMNIST). `source` says where the data
 * came from (file and split), for messages and model cards.
 */
import { Tensor } from '../tensor/tensor.js';

interface DatasetBase {
  /** `[N,C,H,W]` float32. */
  readonly images: Tensor;
  /** One name per class (single-label) or per finding (multi-label). */
  readonly classNames: readonly string[];
  /** Where the data came from, e.g. `pneumoniamnist.npz (train)`. */
  readonly source: string;
  /**
   * Where each image came from, when the loader knows: `pneumoniamnist.npz test[17]`,
   * `NORMAL/im1.png`, `scan.nii.gz#slice=12&axis=k`, `cine.dcm#frame=3`. Row selection keeps it in step.
   */
  readonly origins?: readonly string[];
  /**
   * Volumes: each one's voxel → world affine (RAS+ mm) on the dataset's grid, array axes (0, 1, 2) = columns
   * 0, 1, 2, when the source has one (NIfTI files; a .npz with an `affine` array); null for a volume without.
   * Figures use it to show anatomical planes. Row selection keeps it in step.
   */
  readonly affines?: readonly (number[][] | null)[];
}

export interface SingleLabelDataset extends DatasetBase {
  readonly task: 'single';
  /** Class index per image, in 0..classNames.length−1. */
  readonly labels: Int32Array;
}

export interface MultiLabelDataset extends DatasetBase {
  readonly task: 'multi';
  /** `[N,K]` uint8 matrix of 0/1, K = classNames.length. */
  readonly labels: Tensor<Uint8Array>;
}

export type ImageDataset = SingleLabelDataset | MultiLabelDataset;

/** Default class names: `class 0`, `class 1`, … */
export function defaultClassNames(k: number): string[] {
  return Array.from({ length: k }, (_, i) => `class ${i}`);
}

/** Number of images. */
export function datasetSize(ds: ImageDataset): number {
  return ds.images.shape[0]!;
}

/** `[C,H,W]` of one image. */
export function imageShape(ds: ImageDataset): [number, number, number] {
  const [, C, H, W] = ds.images.shape as number[];
  return [C!, H!, W!];
}

/**
 * Check a dataset's invariants (image rank, label count and range); returns it unchanged.
 * Loaders call this; code that builds datasets by hand can too.
 */
export function checkDataset<D extends ImageDataset>(ds: D): D {
  const s = ds.images.shape;
  if (s.length !== 4 && s.length !== 5) throw new Error(`${ds.source}: images must be [N,C,H,W] (or volumes [N,C,D,H,W]), got [${s.join(',')}]`);
  if (!(ds.images.data instanceof Float32Array)) throw new Error(`${ds.source}: images must be float32`);
  const n = s[0]!;
  const k = ds.classNames.length;
  if (ds.task === 'single') {
    if (ds.labels.length !== n) throw new Error(`${ds.source}: ${n} images but ${ds.labels.length} labels`);
    for (let i = 0; i < n; i++) {
      const v = ds.labels[i]!;
      if (v < 0 || v >= k) throw new Error(`${ds.source}: label ${v} of image ${i} is outside 0..${k - 1} (${k} classes)`);
    }
  } else {
    const ls = ds.labels.shape;
    if (ls.length !== 2 || ls[0] !== n || ls[1] !== k) {
      throw new Error(`${ds.source}: multi-label matrix is [${ls.join(',')}], expected [${n},${k}]`);
    }
    const d = ds.labels.data;
    for (let i = 0; i < d.length; i++) {
      if (d[i]! > 1) throw new Error(`${ds.source}: multi-label value ${d[i]} at row ${Math.floor(i / k)} is not 0/1`);
    }
  }
  return ds;
}

/** The images and labels at `indices` (in that order; repeats allowed), as a new dataset. */
export function selectRows<D extends ImageDataset>(ds: D, indices: ArrayLike<number>, source?: string): D {
  const n = datasetSize(ds);
  const m = indices.length;
  const row = n > 0 ? ds.images.size / n : 0;
  const img = new Float32Array(m * row);
  for (let j = 0; j < m; j++) {
    const i = indices[j]!;
    if (!(i >= 0 && i < n) || !Number.isInteger(i)) throw new Error(`selectRows: index ${i} outside 0..${n - 1}`);
    img.set(ds.images.data.subarray(i * row, (i + 1) * row), j * row);
  }
  const images = new Tensor(img, [m, ...ds.images.shape.slice(1)]);
  const src = source ?? ds.source;
  const origins = ds.origins ? Array.from({ length: m }, (_, j) => ds.origins![indices[j]!]!) : undefined;
  const affines = ds.affines ? Array.from({ length: m }, (_, j) => ds.affines![indices[j]!]!) : undefined;
  if (ds.task === 'single') {
    const labels = new Int32Array(m);
    for (let j = 0; j < m; j++) labels[j] = ds.labels[indices[j]!]!;
    return { ...ds, images, labels, source: src, origins, affines };
  }
  const k = ds.classNames.length;
  const lab = new Uint8Array(m * k);
  for (let j = 0; j < m; j++) lab.set(ds.labels.data.subarray(indices[j]! * k, (indices[j]! + 1) * k), j * k);
  return { ...ds, images, labels: new Tensor(lab, [m, k]), source: src, origins, affines };
}

/** Replace the images (same N), keeping labels and names: the hook for transforms. */
export function withImages<D extends ImageDataset>(ds: D, images: Tensor): D {
  if (images.shape.length !== ds.images.shape.length || images.shape[0] !== datasetSize(ds)) {
    throw new Error(`withImages: expected [${datasetSize(ds)},C,${ds.images.shape.length === 5 ? 'D,' : ''}H,W], got [${images.shape.join(',')}]`);
  }
  return { ...ds, images };
}

/** Images per class (single-label) or positives per finding (multi-label). */
export function classCounts(ds: ImageDataset): number[] {
  const k = ds.classNames.length;
  const counts = new Array<number>(k).fill(0);
  if (ds.task === 'single') {
    for (const v of ds.labels) counts[v]!++;
  } else {
    const d = ds.labels.data;
    for (let i = 0; i < d.length; i++) counts[i % k]! += d[i]!;
  }
  return counts;
}

/** Concatenate datasets with the same image shape, task and class names. */
export function concatDatasets<D extends ImageDataset>(parts: readonly D[], source?: string): D {
  if (parts.length === 0) throw new Error('concatDatasets: nothing to concatenate');
  const first = parts[0]!;
  for (const p of parts) {
    if (p.task !== first.task || p.classNames.join('\u0000') !== first.classNames.join('\u0000')) {
      throw new Error(`concatDatasets: ${p.source} and ${first.source} have different tasks or classes`);
    }
  }
  const images = Tensor.concat0(parts.map((p) => p.images));
  const src = source ?? parts.map((p) => p.source).join(' + ');
  const origins = parts.every((p) => p.origins) ? parts.flatMap((p) => [...p.origins!]) : undefined;
  const affines = parts.every((p) => p.affines) ? parts.flatMap((p) => [...p.affines!]) : undefined;
  if (first.task === 'single') {
    const labels = new Int32Array(images.shape[0]!);
    let off = 0;
    for (const p of parts as readonly SingleLabelDataset[]) {
      labels.set(p.labels, off);
      off += p.labels.length;
    }
    return { ...first, images, labels, source: src, origins, affines };
  }
  const labels = Tensor.concat0((parts as readonly MultiLabelDataset[]).map((p) => p.labels));
  return { ...first, images, labels, source: src, origins, affines } as D;
}
