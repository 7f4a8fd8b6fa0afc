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
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { readNpyFile } from '../io/files.js';
import { decodeImage } from '../io/image.js';
import { applyWindow } from '../io/dicom.js';
import { readDicomFile, readNiftiFile } from '../io/medical-files.js';
import { scaleNiftiSlices } from '../io/nifti-scale.js';
import { niftiSlices, type SliceAxis } from '../io/nifti.js';
import { loadMedMnist, SPLITS, type Split } from '../data/medmnist.js';
import { selectRows, datasetSize } from '../data/dataset.js';
import { type InputScale, repeatChannels, scaleInput } from '../data/transforms.js';
import { resize } from '../data/resize.js';
import { resolveDataPath, BUNDLED_DATASETS } from '../train/prepare.js';
import { cardPath } from '../train/card.js';
import { displayImage } from '../viz/overlay.js';
import { UsageError } from './args.js';

export const DEFAULT_COUNT = 8;
const AXES: readonly SliceAxis[] = ['k', 'j', 'i', 'axial', 'coronal', 'sagittal'];

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
  if (s.length !== 4) throw new UsageError(`${path}: expected an image classifier with a 4-D input [N,C,H,W], got [${s.join(', ')}]`);
  const classNames = Array.isArray(card.classes) && card.classes.length === model.numClasses ? card.classes : undefined;
  return { channels: num(1, card.input?.channels), height: num(2, card.input?.size), width: num(3, card.input?.size), classNames };
}

const expectShape = (m: ModelSpec) => `[N, ${m.channels}, ${m.height}, ${m.width}]`;

/** Images [N,C,h,w] in [0,1] → the model's batch (resize, channels, scaling) and the display copy. */
function preprocess(images: Tensor, spec: ModelSpec, scale: InputScale, where: string): { x: Tensor; display: Tensor } {
  let t = images;
  const c = t.shape[1]!;
  if (c === 3 && spec.channels === 1) {
    const [n, , h, w] = t.shape as [number, number, number, number];
    const g = new Float32Array(n * h * w);
    for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) g[i * h * w + p] = (t.data[(i * 3) * h * w + p]! + t.data[(i * 3 + 1) * h * w + p]! + t.data[(i * 3 + 2) * h * w + p]!) / 3;
    t = new Tensor(g, [n, 1, h, w]);
  } else if (c !== spec.channels && c !== 1) {
    throw new UsageError(`${where}: images have ${c} channels; the model takes ${spec.channels} (1-channel images are repeated, RGB is averaged to grey)`);
  }
  const sized = t.shape[2] === spec.height && t.shape[3] === spec.width ? t : resize(t, [spec.height, spec.width], { antialias: true });
  const display = sized.shape[1] === spec.channels ? sized : repeatChannels(sized, spec.channels);
  const x = scaleInput(display, scale);
  return { x, display };
}

/** Per-image min–max scaling to [0,1]. */
function unitPerImage(t: Tensor): Tensor {
  const n = t.shape[0]!;
  const row = t.size / n;
  const out = new Float32Array(t.size);
  for (let i = 0; i < n; i++) out.set(displayImage(new Tensor(Float32Array.from(t.data.subarray(i * row, (i + 1) * row)), [row])).data, i * row);
  return new Tensor(out, t.shape);
}

function rows(file: string, n: number, window?: string): ImageSource[] {
  return Array.from({ length: n }, (_, index) => ({ file, index, ...(window ? { window } : {}) }));
}

function parseRange(r: string | undefined, n: number, where: string, dflt: [number, number] = [0, Math.min(DEFAULT_COUNT, n)]): number[] {
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

async function npyBatch(path: string, spec: ModelSpec, scale: InputScale): Promise<Batch> {
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
  const { x: mx, display } = preprocess(unitPerImage(shaped), spec, scale, path);
  return { x: mx, display, description: `${path} [${s.join(', ')}] as raw images (min–max per image), at ${spec.height}×${spec.width}`, sources: rows(path, shaped.shape[0]!, 'min–max per image') };
}

function npzBatch(arg: string, spec: ModelSpec, scale: InputScale): Batch {
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
  const { x, display } = preprocess(sel.images, spec, scale, arg);
  return {
    x,
    display,
    labels: sel.task === 'single' ? sel.labels : undefined,
    classNames: sel.classNames,
    description: `${path.split(/[\\/]/).pop()} ${split} images ${idx[0]}-${idx[idx.length - 1]! + 1} at ${spec.height}×${spec.width}`,
    sources: idx.map((index) => ({ file: path, split, index })),
  };
}

function imageFilesBatch(files: string[], spec: ModelSpec, scale: InputScale): Batch {
  const parts: Tensor[] = [];
  for (const f of files) {
    if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
    let img;
    try {
      img = decodeImage(readFileSync(f), f, { channels: spec.channels === 1 ? 1 : 3 });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const t = img.tensor;
    if (parts.length && (t.shape[1] !== parts[0]!.shape[2] || t.shape[2] !== parts[0]!.shape[3])) {
      // different sizes: resize each to the model's size first
      parts.push(resize(t.reshape([1, ...t.shape]), [spec.height, spec.width], { antialias: true }));
      continue;
    }
    parts.push(t.reshape([1, ...t.shape]));
  }
  const same = parts.every((p) => p.shape[2] === parts[0]!.shape[2] && p.shape[3] === parts[0]!.shape[3]);
  const batch = same ? Tensor.concat0(parts) : Tensor.concat0(parts.map((p) => (p.shape[2] === spec.height && p.shape[3] === spec.width ? p : resize(p, [spec.height, spec.width], { antialias: true }))));
  const { x, display } = preprocess(batch, spec, scale, files.join(','));
  return { x, display, description: `${files.length} image file(s) at ${spec.height}×${spec.width}`, sources: files.map((file) => ({ file })) };
}

async function dicomBatch(arg: string, spec: ModelSpec, scale: InputScale): Promise<Batch> {
  const [file, rangeArg] = splitSpec(arg, /\.dcm$/i);
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  let img;
  try {
    img = await readDicomFile(file);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const shown = applyWindow(img); // [F,H,W] or [F,3,H,W] in [0,1]
  const s = shown.shape;
  const frames = s.length === 3 ? shown.reshape([s[0]!, 1, s[1]!, s[2]!]) : shown;
  const idx = parseRange(rangeArg, frames.shape[0]!, arg);
  const size = frames.size / frames.shape[0]!;
  const sel = new Float32Array(idx.length * size);
  idx.forEach((f, i) => sel.set(frames.data.subarray(f * size, (f + 1) * size), i * size));
  const { x, display } = preprocess(new Tensor(sel, [idx.length, ...frames.shape.slice(1)]), spec, scale, arg);
  return { x, display, description: `${file} frames ${idx[0]}-${idx.at(-1)! + 1} (windowed) at ${spec.height}×${spec.width}`, sources: idx.map((frame) => ({ file, frame, window: "the file's own window, else its value range" })) };
}

async function niftiBatch(arg: string, spec: ModelSpec, scale: InputScale): Promise<Batch> {
  const [file, rest] = splitSpec(arg, /\.nii(\.gz)?$/i);
  const [axisArg, rangeArg] = (rest ?? '').split(':') as [string, string | undefined];
  // The same default as training data (medical-folder.ts) and the workbench (web/volume.ts): one slice, one input.
  const axis = (axisArg === '' ? 'k' : axisArg.toLowerCase()) as SliceAxis;
  if (!AXES.includes(axis)) throw new UsageError(`${arg}: unknown axis '${axisArg}' (valid: ${AXES.join(', ')})`);
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  let vol;
  try {
    vol = await readNiftiFile(file);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const all = niftiSlices(vol, axis);
  const n = all.shape[0]!;
  const mid = Math.floor(n / 2);
  const lo = Math.max(0, mid - DEFAULT_COUNT / 2);
  const idx = parseRange(rangeArg, n, arg, [lo, Math.min(n, lo + DEFAULT_COUNT)]);
  const [, h, w] = all.shape as [number, number, number];
  const sel = new Float32Array(idx.length * h * w);
  idx.forEach((k, i) => sel.set(all.data.subarray(k * h * w, (k + 1) * h * w), i * h * w));
  const { scaled, from } = scaleNiftiSlices(vol, new Tensor(sel, [idx.length, 1, h, w]), 0, file);
  const { x, display } = preprocess(scaled, spec, scale, arg);
  const window = from === 'cal' ? "the header's cal_min–cal_max" : 'volume min–max';
  return { x, display, description: `${file} ${axis} slices ${idx[0]}-${idx.at(-1)! + 1} (${window}) at ${spec.height}×${spec.width}`, sources: idx.map((slice) => ({ file, axis, slice, window })) };
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

export async function loadBatch(input: string | undefined, spec: ModelSpec, scale: InputScale = 'pm1'): Promise<Batch> {
  const b = await readBatch(input, spec, scale);
  const bad = b.x.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const per = b.x.data.length / b.x.shape[0]!;
    const src = b.sources[Math.floor(bad / per)]!;
    throw new UsageError(`${src.file}: image ${sourceLabel(src)} holds ${b.x.data[bad]} (a non-finite value) at element ${bad % per}; its maps would be NaN`);
  }
  return b;
}

async function readBatch(input: string | undefined, spec: ModelSpec, scale: InputScale): Promise<Batch> {
  if (input === undefined) return npzBatch(`pneumoniamnist:test:0-${DEFAULT_COUNT}`, spec, scale);
  if (/\.npy$/i.test(input)) {
    if (!existsSync(input)) throw new UsageError(`${input}: no such file`);
    return npyBatch(input, spec, scale);
  }
  const files = input.split(',').map((s) => s.trim()).filter(Boolean);
  if (files.length && files.every((f) => /\.(png|jpe?g)$/i.test(f))) return imageFilesBatch(files, spec, scale);
  if (/\.dcm(:|$)/i.test(input)) return dicomBatch(input, spec, scale);
  if (/\.nii(\.gz)?(:|$)/i.test(input)) return niftiBatch(input, spec, scale);
  const file = input.split(':')[0]!;
  if (/\.npz$/i.test(file) || file.toLowerCase() in BUNDLED_DATASETS) {
    if (/\.npz$/i.test(file) && !existsSync(file)) throw new UsageError(`${file}: no such file`);
    return npzBatch(input, spec, scale);
  }
  throw new UsageError(
    `--input '${input}': expected x.npy, data.npz[:split[:range]], a bundled dataset (${Object.keys(BUNDLED_DATASETS).join(', ')}), a.png[,b.jpg...], scan.dcm[:range] or vol.nii[.gz][:axis[:range]]`,
  );
}
