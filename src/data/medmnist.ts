/**
 * MedMNIST v2 `.npz` archives (any 2-D set, any of the MedMNIST+ sizes): keys `<split>_images`
 * (uint8 `[N,H,W]` grayscale or `[N,H,W,3]` RGB) and `<split>_labels` (`[N,1]` class index, or `[N,K]`
 * 0/1 for the multi-label ChestMNIST). Stored and deflated archives both read (io/npz.ts).
 *
 * Images become float32 `[N,C,H,W]` in 0..1 (value/255). Errors name the file and the key.
 */
import { Tensor } from '../tensor/tensor.js';
import type { NpzArchive } from '../io/npz.js';
import { openNpzFileSync } from '../io/files.js';
import { checkDataset, defaultClassNames, type ImageDataset } from './dataset.js';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

const ORGAN = ['bladder', 'femur-left', 'femur-right', 'heart', 'kidney-left', 'kidney-right', 'liver', 'lung-left', 'lung-right', 'pancreas', 'spleen'];

/** Class names of the MedMNIST v2 2-D sets (the `label` entries of medmnist's INFO). */
export const MEDMNIST_CLASSES: Readonly<Record<string, readonly string[]>> = {
  pathmnist: ['adipose', 'background', 'debris', 'lymphocytes', 'mucus', 'smooth muscle', 'normal colon mucosa', 'cancer-associated stroma', 'colorectal adenocarcinoma epithelium'],
  chestmnist: ['atelectasis', 'cardiomegaly', 'effusion', 'infiltration', 'mass', 'nodule', 'pneumonia', 'pneumothorax', 'consolidation', 'edema', 'emphysema', 'fibrosis', 'pleural', 'hernia'],
  dermamnist: ['actinic keratoses and intraepithelial carcinoma', 'basal cell carcinoma', 'benign keratosis-like lesions', 'dermatofibroma', 'melanoma', 'melanocytic nevi', 'vascular lesions'],
  octmnist: ['choroidal neovascularization', 'diabetic macular edema', 'drusen', 'normal'],
  pneumoniamnist: ['normal', 'pneumonia'],
  retinamnist: ['0', '1', '2', '3', '4'],
  breastmnist: ['malignant', 'normal, benign'],
  bloodmnist: ['basophil', 'eosinophil', 'erythroblast', 'immature granulocytes (myelocytes, metamyelocytes and promyelocytes)', 'lymphocyte', 'monocyte', 'neutrophil', 'platelet'],
  tissuemnist: ['Collecting Duct, Connecting Tubule', 'Distal Convoluted Tubule', 'Glomerular endothelial cells', 'Interstitial endothelial cells', 'Leukocytes', 'Podocytes', 'Proximal Tubule Segments', 'Thick Ascending Limb'],
  organamnist: ORGAN,
  organcmnist: ORGAN,
  organsmnist: ORGAN,
};

/** The MedMNIST set a path names (`…/pneumoniamnist_64.npz` → `pneumoniamnist`), or null. */
export function medMnistName(path: string): string | null {
  const base = path.split(/[\\/]/).pop()!.toLowerCase().replace(/\.npz$/, '').replace(/_\d+$/, '');
  return base in MEDMNIST_CLASSES ? base : null;
}

export interface MedMnistOptions {
  /** Which set, for class names (default: from the file name). */
  name?: string;
  /** Class names to use instead of the table's. */
  classNames?: readonly string[];
  /** Keep only the first `limit` images (quick runs). */
  limit?: number;
  /**
   * Read MedMNIST 3-D layouts (`<split>_images` [N, D, H, W] uint8, e.g. OrganMNIST3D's 28³) as volumes
   * [N, 1, D, H, W] (candor explain and train on 3-D models ask for this). Without it such a file is an error
   * saying that the command takes 2-D images.
   */
  volumes?: boolean;
}

const INT_DTYPES = new Set(['uint8', 'int8', 'int16', 'uint16', 'int32', 'int64', 'bool']);

function labelValues(t: Tensor<any>): Int32Array {
  const out = new Int32Array(t.size);
  const d = t.data as ArrayLike<number | bigint>;
  for (let i = 0; i < out.length; i++) out[i] = Number(d[i]);
  return out;
}

/** Read one split from an opened archive (browser-safe; `source` names the file in messages). */
export function medMnistFromArchive(npz: NpzArchive, split: Split, source: string, opts: MedMnistOptions = {}): ImageDataset {
  const ik = `${split}_images`;
  const lk = `${split}_labels`;
  for (const k of [ik, lk]) {
    if (!npz.has(k)) {
      const splits = SPLITS.filter((s) => npz.has(`${s}_images`));
      throw new Error(`${source}: no '${k}' array for the ${split} split (arrays: ${npz.keys.join(', ') || 'none'}; splits present: ${splits.join(', ') || 'none'})${splits.length && !splits.includes('train') ? '; a file without training images is an external test set: evaluate all of it with --split all (the audit then needs --train-data)' : ''}`);
    }
  }
  const img = npz.get(ik);
  const lab = npz.get(lk);
  if (img.dtype !== 'uint8') throw new Error(`${source}: '${ik}' has dtype ${img.dtype}; MedMNIST images are uint8`);
  const s = img.shape;
  const rgbLast = s.length === 4 && (s[3] === 3 || s[3] === 1);
  const volume = s.length === 4 && !rgbLast;
  if (volume && !opts.volumes) {
    throw new Error(`${source}: '${ik}' has shape [${s.join(',')}]: volumes [N,D,H,W] (a MedMNIST 3-D set); this command takes 2-D images [N,H,W] or [N,H,W,3] (candor explain, train and audit read volumes for 3-D models)`);
  }
  if (!(s.length === 3 || rgbLast || volume)) {
    throw new Error(`${source}: '${ik}' has shape [${s.join(',')}]; expected [N,H,W] (grayscale), [N,H,W,3] (RGB) or, for 3-D models, [N,D,H,W] volumes`);
  }
  if (!INT_DTYPES.has(lab.dtype)) throw new Error(`${source}: '${lk}' has dtype ${lab.dtype}; labels must be integers`);
  const ls = lab.shape;
  if (ls.length > 2 || ls.length === 0) throw new Error(`${source}: '${lk}' has shape [${ls.join(',')}]; expected [N,1] or [N,K]`);
  const n0 = s[0]!;
  if (ls[0] !== n0) throw new Error(`${source}: '${ik}' has ${n0} images but '${lk}' has ${ls[0]} labels`);
  const n = Math.min(n0, opts.limit ?? n0);
  const [H, W, C] = volume ? [s[2]!, s[3]!, 1] : [s[1]!, s[2]!, s.length === 4 ? s[3]! : 1];
  const plane = volume ? s[1]! * H * W : H * W;
  const px = new Float32Array(n * C * plane);
  const src = img.data as Uint8Array;
  if (C === 1) {
    for (let i = 0; i < px.length; i++) px[i] = src[i]! / 255;
  } else {
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < plane; p++) for (let c = 0; c < C; c++) px[(i * C + c) * plane + p] = src[(i * plane + p) * C + c]! / 255;
    }
  }
  const images = new Tensor(px, volume ? [n, 1, s[1]!, H, W] : [n, C, H, W]);
  const name = (opts.name ?? medMnistName(source) ?? '').toLowerCase();
  const table = opts.classNames ?? MEDMNIST_CLASSES[name];
  const where = `${source} (${split})`;
  const file = source.split(/[\\/]/).pop()!;
  const origins = Array.from({ length: n }, (_, i) => `${file} ${split}[${i}]`);
  // volumes: an optional `affine` [4, 4] (array axes 0, 1, 2 → world RAS+ mm, as candor synth-volumes writes) shared by every volume
  const affine = volume && npz.has('affine') ? affineArray(npz.get('affine'), source) : undefined;
  const affines = affine ? { affines: Array.from({ length: n }, () => affine) } : {};
  const K = ls.length === 2 ? ls[1]! : 1;
  const values = labelValues(lab);
  if (K > 1) {
    const m = new Uint8Array(n * K);
    for (let i = 0; i < n * K; i++) {
      const v = values[i]!;
      if (v !== 0 && v !== 1) throw new Error(`${source}: '${lk}' is multi-label [N,${K}] but holds ${v} at row ${Math.floor(i / K)}`);
      m[i] = v;
    }
    const classNames = table && table.length === K ? [...table] : defaultClassNames(K);
    return checkDataset({ task: 'multi', images, labels: new Tensor(m, [n, K]), classNames, source: where, origins, ...affines });
  }
  for (let i = 0; i < n0; i++) {
    if (values[i]! < 0) throw new Error(`${source}: '${lk}' holds a negative label (${values[i]}) at row ${i}`);
  }
  let k = table?.length ?? 0;
  if (!table || values.some((v) => v >= table.length)) {
    // Unknown set: count classes over every split's labels, so the splits agree.
    k = 0;
    for (const key of npz.keys.filter((x) => x.endsWith('_labels'))) {
      const t = key === lk ? values : labelValues(npz.get(key));
      for (const v of t) k = Math.max(k, v + 1);
    }
  }
  const classNames = table && table.length === k ? [...table] : defaultClassNames(k);
  return checkDataset({ task: 'single', images, labels: values.slice(0, n), classNames, source: where, origins, ...affines });
}

function affineArray(t: { shape: readonly number[]; data: ArrayLike<number> }, source: string): number[][] {
  if (t.shape.length !== 2 || t.shape[0] !== 4 || t.shape[1] !== 4) throw new Error(`${source}: 'affine' is [${t.shape.join(', ')}]; expected [4, 4] (array axes → world mm)`);
  const a = Array.from({ length: 4 }, (_, r) => Array.from({ length: 4 }, (_, c) => Number(t.data[r * 4 + c])));
  if (a.flat().some((v) => !Number.isFinite(v))) throw new Error(`${source}: 'affine' holds non-finite values`);
  return a;
}

/** Load one split of a MedMNIST `.npz` file. */
export function loadMedMnist(path: string, split: Split, opts: MedMnistOptions = {}): ImageDataset {
  return medMnistFromArchive(openNpzFileSync(path), split, path, opts);
}

/** Every split the file holds (train, val, test order); an error if it holds none. */
export function loadMedMnistPresent(path: string, opts: MedMnistOptions = {}): ImageDataset[] {
  const npz = openNpzFileSync(path);
  const present = SPLITS.filter((s) => npz.has(`${s}_images`));
  if (!present.length) throw new Error(`${path}: no '<split>_images' arrays (arrays: ${npz.keys.join(', ') || 'none'}); a MedMNIST-style .npz holds train_images/train_labels, val_…, test_…, or only test_… for an external test set`);
  return present.map((s) => medMnistFromArchive(npz, s, path, opts));
}

/** Load the train, val and test splits (the file is read once). */
export function loadMedMnistSplits(path: string, opts: MedMnistOptions = {}): Record<Split, ImageDataset> {
  const npz = openNpzFileSync(path);
  const [train, val, test] = SPLITS.map((s) => medMnistFromArchive(npz, s, path, opts)) as [ImageDataset, ImageDataset, ImageDataset];
  return { train, val, test };
}
