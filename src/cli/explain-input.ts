/**
 * Inputs of `candor explain --input`: what each form reads and how it becomes the model's batch.
 *
 *  - `x.npy` of exactly the model's shape [N,C,H,W] (float32/64): used as is (already preprocessed).
 *    Arrays [H,W] or [N,H,W] (any dtype), or integer [N,1|3,H,W], are taken as raw images: each
 *    image min–max scaled to [0,1], then preprocessed as below. A float 4-D array of another shape
 *    is an error (a batch preprocessed for another model).
 *  - `data.npz[:split[:range]]` or a bundled dataset name: MedMNIST images (split train|val|test,
 *    default test; range K or A-B, end exclusive, default 0-8), uint8 / 255.
 *  - `a.png,b.jpg,...`: PNG/JPEG files decoded to [0,1] (grey if the model takes 1 channel).
 *  - `scan.dcm[:range]`: DICOM frames, windowed to [0,1] with the file's window (else its full range;
 *    MONOCHROME1 inverted), frames selected by range (default all, at most 8).
 *  - `vol.nii[.gz][:axis[:range]]`: NIfTI slices along axis (k default — the third voxel axis as stored,
 *    as training data and the workbench read volumes — or i, j, or axial, coronal, sagittal after
 *    reorienting to RAS+; range default: 8 slices around the middle), scaled to [0,1] by the header's cal_min–cal_max when set, else over the volume's min–max (src/io/nifti-scale.ts).
 * Preprocessing of everything but a ready `.npy`: antialiased resize to the model's H×W
 * (src/data/resize.ts), channels repeated when the model takes 3 and the image has 1 (RGB averaged
 * when the model takes 1), then `--scale` (src/data/transforms.ts scaleInput): pm1 (x·2 − 1, candor's
 * training scaling; default), unit ([0,1] as is), imagenet ((x − mean)/std with torchvision's ImageNet
 * statistics) or byte (255·x, for Keras models with their own Rescaling layer).
 */
import { existsSync, readFileSync } from 'node:fs';
import { Tensor, firstNonFinite } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { readNpyFile } from '../io/files.js';
import { decodeImage } from '../io/image.js';
import { loadJpeg2000Codec } from '../io/dicom.js';
import type { SliceAxis } from '../io/nifti.js';
import { MedicalReader } from '../data/medical-folder.js';
import { DEFAULT_PREPROCESSING, PreprocessLog, SLICE_AXES, toModelSize, type Preprocessing } from '../data/preprocessing.js';
import { loadMedMnist, SPLITS, type Split } from '../data/medmnist.js';
import { selectRows, datasetSize } from '../data/dataset.js';
import { scaleInput } from '../data/transforms.js';
import { resolveDataPath, BUNDLED_DATASETS } from '../train/prepare.js';
import { cardPath } from '../train/card.js';
import { displayImage } from '../viz/overlay.js';
import { UsageError } from './args.js';

export const DEFAULT_COUNT = 8;

export interface Batch {
  /** Model input [N,C,H,W]. */
  x: Tensor;
  /** Images for display, [N,C,H,W] in [0,1]. */
  display: Tensor;
  /** True class per image, when known. */
  labels?: Int32Array;
  classNames?: readonly string[];
  description: string;
  /** Where each image comes from: file, dataset split and index, DICOM frame or NIfTI slice (and window). */
  sources: ImageSource[];
  /** What preprocessing did beyond a plain resize (aspect ratio changed, colour to grey, windows). */
  notes?: string[];
}

export interface ImageSource {
  file: string;
  /** MedMNIST split and row; .npy batch row. */
  split?: string;
  index?: number;
  /** DICOM frame, NIfTI axis and slice. */
  frame?: number;
  axis?: string;
  slice?: number;
  /** How the pixels were scaled to [0, 1] before the model's --scale. */
  window?: string;
}

/** A short label for a grid row: where in the file first (grid titles are narrow), then the file name. */
export function sourceLabel(s: ImageSource): string {
  const name = s.file.split(/[\\/]/).pop()!.replace(/\.(npz|npy)$/i, '');
  if (s.slice !== undefined) return `${s.axis} ${s.slice} ${name}`;
  if (s.frame !== undefined) return `frame ${s.frame} ${name}`;
  if (s.index !== undefined) return `${s.split ?? 'row'} ${s.index} ${name}`;
  return name;
}

export interface ModelSpec {
  channels: number;
  /** Depth of a 3-D model's input [N,C,D,H,W]; undefined for image models. */
  depth?: number;
  height: number;
  width: number;
  classNames?: readonly string[];
}

/** Input size and class names: from the model's declared input, else from its card. */
export function modelSpec(model: Model, path: string): ModelSpec {
  let card: { input?: { channels?: number; size?: number }; classes?: string[] } = {};
  const cp = cardPath(path);
  if (existsSync(cp)) {
    try {
      card = JSON.parse(readFileSync(cp, 'utf8'));
    } catch {
      card = {};
    }
  }
  const s = model.inputShape;
  const num = (i: number, fallback?: number): number => {
    const d = s[i];
    if (typeof d === 'number' && d > 0) return d;
    if (fallback !== undefined) return fallback;
    throw new UsageError(`${path}: the model's input dimension ${i} is not fixed ([${s.join(', ')}]) and there is no model card giving it`);
  };
  if (s.length !== 4 && s.length !== 5) throw new UsageError(`${path}: expected an image classifier with a 4-D input [N,C,H,W] or a volume classifier with a 5-D input [N,C,D,H,W], got [${s.join(', ')}]`);
  const classNames = Array.isArray(card.classes) && card.classes.length === model.numClasses ? card.classes : undefined;
  if (s.length === 5) return { channels: num(1, card.input?.channels), depth: num(2, card.input?.size), height: num(3, card.input?.size), width: num(4, card.input?.size), classNames };
  return { channels: num(1, card.input?.channels), height: num(2, card.input?.size), width: num(3, card.input?.size), classNames };
}

const expectShape = (m: ModelSpec) => `[N, ${m.channels}, ${m.height}, ${m.width}]`;

/** Images [N,C,h,w] in [0,1] → the model's batch and the display copy (data/preprocessing.ts: channels, size, scale). */
function preprocess(images: Tensor, spec: ModelSpec, pre: Preprocessing, where: string, log: PreprocessLog): { x: Tensor; display: Tensor } {
  let display: Tensor;
  try {
    display = toModelSize(images, spec.channels, [spec.height, spec.width], pre.resize, log, where);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { x: scaleInput(display, pre.scale), display };
}

/** Per-image (per-volume) min–max scaling to [0,1]. */
export function unitPerImage(t: Tensor): Tensor {
  const n = t.shape[0]!;
  const row = t.size / n;
  const out = new Float32Array(t.size);
  for (let i = 0; i < n; i++) out.set(displayImage(new Tensor(Float32Array.from(t.data.subarray(i * row, (i + 1) * row)), [row])).data, i * row);
  return new Tensor(out, t.shape);
}

function rows(file: string, n: number, window?: string): ImageSource[] {
  return Array.from({ length: n }, (_, index) => ({ file, index, ...(window ? { window } : {}) }));
}

export function parseRange(r: string | undefined, n: number, where: string, dflt: [number, number] = [0, Math.min(DEFAULT_COUNT, n)]): number[] {
  let [a, b] = dflt;
  if (r !== undefined && r !== '') {
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    if (!m) throw new UsageError(`${where}: range '${r}' is not K or A-B (e.g. 0-8)`);
    a = Number(m[1]);
    b = m[2] === undefined ? a + 1 : Number(m[2]);
  }
  if (!(a < b && b <= n)) throw new UsageError(`${where}: range ${a}-${b} is empty or outside the ${n} available (valid: 0..${n - 1}, as K or A-B with B ≤ ${n})`);
  return Array.from({ length: b - a }, (_, i) => a + i);
}

async function npyBatch(path: string, spec: ModelSpec, pre: Preprocessing, log: PreprocessLog): Promise<Batch> {
  const raw = await readNpyFile(path);
  if (raw.dtype === 'bool') throw new UsageError(`${path}: bool arrays are not images`);
  const x = raw.dtype === 'float32' ? (raw as Tensor) : new Tensor(Float32Array.from(raw.data as ArrayLike<number>, Number), raw.shape);
  const s = x.shape;
  if (s.length === 4 && s[0]! > 0 && s[1] === spec.channels && s[2] === spec.height && s[3] === spec.width) {
    // A ready batch: display each image min–max scaled (its preprocessing is unknown).
    return { x, display: unitPerImage(x), description: `${path} [${s.join(', ')}], used as is`, sources: rows(path, s[0]!) };
  }
  // A float 4-D array of another shape is most likely a batch preprocessed for another model: an error.
  const integer = !raw.dtype.startsWith('float');
  const shaped = s.length === 2 ? x.reshape([1, 1, s[0]!, s[1]!]) : s.length === 3 ? x.reshape([s[0]!, 1, s[1]!, s[2]!]) : s.length === 4 && integer && (s[1] === 1 || s[1] === 3) ? x : null;
  if (!shaped) {
    throw new UsageError(`${path}: shape [${s.join(', ')}] does not fit the model, which takes ${expectShape(spec)} (a float batch, already preprocessed); raw images are [H,W] or [N,H,W] arrays, or integer [N,1|3,H,W]`);
  }
  const { x: mx, display } = preprocess(unitPerImage(shaped), spec, pre, path, log);
  return { x: mx, display, description: `${path} [${s.join(', ')}] as raw images (min–max per image), at ${spec.height}×${spec.width}`, sources: rows(path, shaped.shape[0]!, 'min–max per image') };
}

function npzBatch(arg: string, spec: ModelSpec, pre: Preprocessing, log: PreprocessLog): Batch {
  const m = /^(.*?)(?::([^:]*))?(?::([^:]*))?$/i.exec(arg)!;
  const [, file, splitArg, rangeArg] = m;
  const split = (splitArg === undefined || splitArg === '' ? 'test' : splitArg.toLowerCase()) as Split;
  if (!SPLITS.includes(split)) throw new UsageError(`${arg}: unknown split '${splitArg}' (valid: ${SPLITS.join(', ')})`);
  let path: string;
  try {
    path = resolveDataPath(file!);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const ds = loadMedMnist(path, split);
  const idx = parseRange(rangeArg, datasetSize(ds), arg);
  const sel = selectRows(ds, idx);
  const { x, display } = preprocess(sel.images, spec, pre, arg, log);
  return {
    x,
    display,
    labels: sel.task === 'single' ? sel.labels : undefined,
    classNames: sel.classNames,
    description: `${path.split(/[\\/]/).pop()} ${split} images ${idx[0]}-${idx[idx.length - 1]! + 1} at ${spec.height}×${spec.width}`,
    sources: idx.map((index) => ({ file: path, split, index })),
  };
}

function imageFilesBatch(files: string[], spec: ModelSpec, pre: Preprocessing, log: PreprocessLog): Batch {
  const parts: Tensor[] = [];
  for (const f of files) {
    if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
    let t: Tensor;
    try {
      t = decodeImage(readFileSync(f), f).tensor;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    parts.push(preprocess(t.reshape([1, ...t.shape]), spec, { ...pre, scale: 'unit' }, f, log).display);
  }
  const display = Tensor.concat0(parts);
  return { x: scaleInput(display, pre.scale), display, description: `${files.length} image file(s) at ${spec.height}×${spec.width}`, sources: files.map((file) => ({ file })) };
}

/** DICOM frames and NIfTI slices, read as the data pipeline reads them (data/medical-folder.ts MedicalReader). */
async function medicalBatch(arg: string, kind: 'dicom' | 'nifti', spec: ModelSpec, pre: Preprocessing, log: PreprocessLog): Promise<Batch> {
  const [file, rest] = splitSpec(arg, kind === 'dicom' ? /\.(dcm|dicom|dic)$/i : /\.nii(\.gz)?$/i);
  let axis: SliceAxis | undefined;
  let rangeArg = rest;
  if (kind === 'nifti') {
    let [axisArg, r] = (rest ?? '').split(':') as [string, string | undefined];
    if (r === undefined && /^\d+(-\d+)?$/.test(axisArg)) [axisArg, r] = ['', axisArg]; // vol.nii:12 = slice 12 along the default axis
    // One default with training data (medical-folder.ts) and the workbench: --axis, else the card's, else k.
    axis = (axisArg === '' ? pre.axis : axisArg.toLowerCase()) as SliceAxis;
    if (!SLICE_AXES.includes(axis)) throw new UsageError(`${arg}: unknown axis '${axisArg}' (valid: ${SLICE_AXES.join(', ')})`);
    rangeArg = r;
  }
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  const reader = new MedicalReader({ window: pre.window, axis });
  let count: number;
  try {
    if (kind === 'dicom') await loadJpeg2000Codec();
    count = reader.count(file, kind, axis);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const mid = Math.floor(count / 2);
  const lo = kind === 'dicom' ? 0 : Math.max(0, mid - DEFAULT_COUNT / 2);
  const idx = parseRange(rangeArg, count, arg, [lo, Math.min(count, lo + DEFAULT_COUNT)]);
  const images = reader.read(file, kind, kind === 'dicom' ? { frames: idx } : { slices: idx, axis });
  const { x, display } = preprocess(Tensor.concat0(images.map((t) => t.reshape([1, ...t.shape]))), spec, pre, arg, log);
  for (const note of reader.stats.notes()) log.windows.add(note);
  const st = reader.stats;
  const window = pre.window
    ? `window centre ${pre.window[0]}, width ${pre.window[1]}`
    : kind === 'dicom'
      ? st.windowFrom.file ? "the file's own window" : st.windowFrom.colour ? 'colour, /(2^bits − 1)' : 'the value range of all frames'
      : st.niftiCalRange ? "the header's cal_min–cal_max" : 'volume min–max';
  const what = kind === 'dicom' ? 'frames' : `${axis} slices`;
  return {
    x,
    display,
    description: `${file} ${what} ${idx[0]}-${idx.at(-1)! + 1} (${window}) at ${spec.height}×${spec.width}`,
    sources: idx.map((k) => (kind === 'dicom' ? { file, frame: k, window } : { file, axis, slice: k, window })),
  };
}

/** 'path.ext:rest' → [path, rest]; the path is the longest prefix ending in the extension. */
function splitSpec(arg: string, ext: RegExp): [string, string | undefined] {
  const parts = arg.split(':');
  for (let i = parts.length; i >= 1; i--) {
    const p = parts.slice(0, i).join(':');
    if (ext.test(p)) return [p, i < parts.length ? parts.slice(i).join(':') : undefined];
  }
  return [arg, undefined];
}

export async function loadBatch(input: string | undefined, spec: ModelSpec, pre: Preprocessing = DEFAULT_PREPROCESSING): Promise<Batch> {
  const log = new PreprocessLog();
  const b = await readBatch(input, spec, pre, log);
  b.notes = log.notes();
  const bad = firstNonFinite(b.x.data as ArrayLike<number>);
  if (bad >= 0) {
    const per = b.x.data.length / b.x.shape[0]!;
    const src = b.sources[Math.floor(bad / per)]!;
    throw new UsageError(`${src.file}: image ${sourceLabel(src)} holds ${b.x.data[bad]} (a non-finite value) at element ${bad % per}; its maps would be NaN`);
  }
  return b;
}

async function readBatch(input: string | undefined, spec: ModelSpec, pre: Preprocessing, log: PreprocessLog): Promise<Batch> {
  if (input === undefined) return npzBatch(`pneumoniamnist:test:0-${DEFAULT_COUNT}`, spec, pre, log);
  if (/\.npy$/i.test(input)) {
    if (!existsSync(input)) throw new UsageError(`${input}: no such file`);
    return npyBatch(input, spec, pre, log);
  }
  const files = input.split(',').map((s) => s.trim()).filter(Boolean);
  if (files.length && files.every((f) => /\.(png|jpe?g)$/i.test(f))) return imageFilesBatch(files, spec, pre, log);
  if (/\.(dcm|dicom|dic)(:|$)/i.test(input)) return medicalBatch(input, 'dicom', spec, pre, log);
  if (/\.nii(\.gz)?(:|$)/i.test(input)) return medicalBatch(input, 'nifti', spec, pre, log);
  const file = input.split(':')[0]!;
  if (/\.npz$/i.test(file) || file.toLowerCase() in BUNDLED_DATASETS) {
    if (/\.npz$/i.test(file) && !existsSync(file)) throw new UsageError(`${file}: no such file`);
    return npzBatch(input, spec, pre, log);
  }
  throw new UsageError(
    `--input '${input}': expected x.npy, data.npz[:split[:range]], a bundled dataset (${Object.keys(BUNDLED_DATASETS).join(', ')}), a.png[,b.jpg...], scan.dcm[:range] or vol.nii[.gz][:axis[:range]]`,
  );
}
