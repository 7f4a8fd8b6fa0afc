/**
 * Inputs of `candor explain --input` for 3-D models ([N, C, D, H, W]): each volume is one sample.
 *
 *  - `x.npy` of exactly the model's shape [N,C,D,H,W] (float): used as is (already preprocessed).
 *    [D,H,W] or [N,D,H,W] arrays (any dtype) are raw volumes: each min–max scaled to [0,1], resampled.
 *  - `data.npz[:split[:range]]`: MedMNIST 3-D (`<split>_images` [N,D,H,W] uint8, / 255).
 *  - `a.nii[.gz][,b.nii.gz,...]` (each optionally `:t=N` for a time point of a 4-D file): whole volumes,
 *    voxel axes in `--voxel-order` (data/volume.ts), windowed (--window, else cal_min–cal_max, else min–max).
 *  - a folder holding one DICOM series (one file per slice; io/dicom-volume.ts): one volume, sorted by
 *    ImagePositionPatient, windowed by --window, else the series' own window, else min–max.
 * Every volume but a ready .npy is resampled to the model's D×H×W (trilinear, antialiased), channels
 * repeated when the model takes more than one (said), then `--scale`d. A volume smaller than the model's
 * grid along an axis is upsampled and said so; one smaller than 2 voxels on an axis is an error.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { Tensor, firstNonFinite } from '../tensor/tensor.js';
import { readNpyFile } from '../io/files.js';
import { readNifti } from '../io/nifti.js';
import { dicomSeriesVolume } from '../io/dicom-volume.js';
import { join } from 'node:path';
import { type Preprocessing, PreprocessLog } from '../data/preprocessing.js';
import { loadMedMnist, SPLITS, type Split } from '../data/medmnist.js';
import { datasetSize, selectRows } from '../data/dataset.js';
import { niftiVolumeSample, volumesToModel, type VolumeSample, type VoxelOrder } from '../data/volume.js';
import { UsageError } from './args.js';
import { type Batch, type ImageSource, type ModelSpec, parseRange, unitPerImage } from './explain-input.js';

export const DEFAULT_VOLUMES = 4;

/** What a volume batch adds to a Batch: the samples behind NIfTI volumes (for maps written back as NIfTI). */
export interface VolumeBatch extends Batch {
  /** Per volume: its NIfTI sample (grid, affine, voxel order), when it came from a NIfTI file. */
  volumes: (VolumeSample | undefined)[];
  /** Voxel size per model axis after resampling (mm; 1 for arrays without a header). */
  spacing: number[][];
}

const grid = (spec: ModelSpec): [number, number, number] => [spec.depth!, spec.height, spec.width];
const gridText = (spec: ModelSpec) => grid(spec).join('×');

/** [N,1,a,b,c] volumes in [0,1] → the model's channels and grid, then --scale (data/volume.ts volumesToModel). */
function toModel(vols: Tensor, spec: ModelSpec, pre: Preprocessing, where: string, log: PreprocessLog, spacing: number[][]): { x: Tensor; display: Tensor; spacing: number[][] } {
  try {
    return volumesToModel(vols, { channels: spec.channels, grid: grid(spec), scale: pre.scale }, where, log, spacing);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const unitPerVolume = unitPerImage;

async function npyVolumes(path: string, spec: ModelSpec, pre: Preprocessing, log: PreprocessLog): Promise<VolumeBatch> {
  const raw = await readNpyFile(path);
  if (raw.dtype === 'bool') throw new UsageError(`${path}: bool arrays are not volumes`);
  const x = raw.dtype === 'float32' ? (raw as Tensor) : new Tensor(Float32Array.from(raw.data as ArrayLike<number>, Number), raw.shape);
  const s = x.shape;
  const want = [spec.channels, ...grid(spec)];
  const sources = (k: number, window?: string): ImageSource[] => Array.from({ length: k }, (_, index) => ({ file: path, index, ...(window ? { window } : {}) }));
  if (s.length === 5 && s[0]! > 0 && s.slice(1).every((d, i) => d === want[i])) {
    const n = s[0]!;
    return { x, display: unitPerVolume(x), description: `${path} [${s.join(', ')}], used as is`, sources: sources(n), volumes: Array(n).fill(undefined), spacing: Array.from({ length: n }, () => [1, 1, 1]) };
  }
  const shaped = s.length === 3 ? x.reshape([1, 1, ...s]) : s.length === 4 ? x.reshape([s[0]!, 1, ...s.slice(1)]) : null;
  if (!shaped) throw new UsageError(`${path}: shape [${s.join(', ')}] does not fit the model, which takes [N, ${want.join(', ')}] (a float batch, already preprocessed); raw volumes are [D,H,W] or [N,D,H,W] arrays`);
  const n = shaped.shape[0]!;
  const r = toModel(unitPerVolume(shaped), spec, pre, path, log, Array.from({ length: n }, () => [1, 1, 1]));
  return { ...r, description: `${path} [${s.join(', ')}] as raw volumes (min–max per volume), at ${gridText(spec)}`, sources: sources(n, 'min–max per volume'), volumes: Array(n).fill(undefined) };
}

function npzVolumes(arg: string, spec: ModelSpec, pre: Preprocessing, log: PreprocessLog): VolumeBatch {
  const m = /^(.*?)(?::([^:]*))?(?::([^:]*))?$/i.exec(arg)!;
  const [, file, splitArg, rangeArg] = m;
  const split = (splitArg === undefined || splitArg === '' ? 'test' : splitArg.toLowerCase()) as Split;
  if (!SPLITS.includes(split)) throw new UsageError(`${arg}: unknown split '${splitArg}' (valid: ${SPLITS.join(', ')})`);
  if (!existsSync(file!)) throw new UsageError(`${file}: no such file`);
  let ds;
  try {
    ds = loadMedMnist(file!, split, { volumes: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (ds.images.shape.length !== 5) throw new UsageError(`${file}: '${split}_images' holds 2-D images [${ds.images.shape.join(', ')}]; the model takes volumes [N, ${spec.channels}, ${gridText(spec)}]`);
  const total = datasetSize(ds);
  const idx = parseRange(rangeArg, total, arg, [0, Math.min(DEFAULT_VOLUMES, total)]);
  const [a, b] = [idx[0]!, idx.at(-1)! + 1];
  const sel = selectRows(ds, idx);
  const r = toModel(sel.images, spec, pre, arg, log, idx.map(() => [1, 1, 1]));
  return {
    ...r,
    labels: sel.task === 'single' ? sel.labels : undefined,
    classNames: sel.classNames,
    description: `${file!.split(/[\\/]/).pop()} ${split} volumes ${a}-${b} at ${gridText(spec)}`,
    sources: idx.map((index) => ({ file: file!, split, index })),
    volumes: idx.map(() => undefined),
  };
}

function niftiVolumes(arg: string, spec: ModelSpec, pre: Preprocessing & { voxelOrder?: VoxelOrder }, log: PreprocessLog): VolumeBatch {
  const items = arg.split(',').map((s) => s.trim()).filter(Boolean);
  const samples: VolumeSample[] = [];
  const sources: ImageSource[] = [];
  for (const item of items) {
    const m = /^(.*?\.nii(?:\.gz)?)(?::t=(\d+))?$/i.exec(item);
    if (!m) throw new UsageError(`${item}: expected vol.nii[.gz] or vol.nii[.gz]:t=N (a time point of a 4-D volume); slices of a volume are for 2-D models`);
    const [, file, t] = m;
    if (!existsSync(file!)) throw new UsageError(`${file}: no such file`);
    let s: VolumeSample;
    try {
      s = niftiVolumeSample(readNifti(readFileSync(file!), file!), pre.voxelOrder ?? 'ijk', pre.window, t === undefined ? undefined : Number(t));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    samples.push(s);
    sources.push({ file: file!, window: s.window, ...(t !== undefined ? { frame: Number(t) } : {}) });
  }
  // Volumes of different grids are resampled one by one; stacked after.
  const parts = samples.map((s, i) => toModel(new Tensor(s.data, [1, 1, ...s.spatial]), spec, pre, items[i]!, log, [s.spacing]));
  const orders = [...new Set(samples.map((s) => s.order))];
  return {
    x: Tensor.concat0(parts.map((p) => p.x)),
    display: Tensor.concat0(parts.map((p) => p.display)),
    description: `${items.length} NIfTI volume(s), voxel order ${orders.join('/')}, at ${gridText(spec)}`,
    sources,
    volumes: samples,
    spacing: parts.map((p) => p.spacing[0]!),
  };
}

/** A folder holding one DICOM series (files ending .dcm, or DICOM files without extension): one volume. */
function dicomSeriesBatch(dir: string, spec: ModelSpec, pre: Preprocessing & { voxelOrder?: VoxelOrder }, log: PreprocessLog): VolumeBatch {
  const names = readdirSync(dir).filter((f) => !f.startsWith('.') && statSync(join(dir, f)).isFile()).sort();
  const files = names
    .map((f) => ({ path: join(dir, f), bytes: readFileSync(join(dir, f)) as Uint8Array }))
    .filter((f) => /\.(dcm|dicom|dic)$/i.test(f.path) || (f.bytes.length > 132 && String.fromCharCode(...f.bytes.subarray(128, 132)) === 'DICM'));
  if (!files.length) throw new UsageError(`${dir}: no DICOM files (a series folder holds one .dcm file per slice)`);
  let s: VolumeSample;
  try {
    const v = dicomSeriesVolume(files, dir);
    const window = pre.window ?? v.fileWindow;
    s = niftiVolumeSample(v.volume, pre.voxelOrder ?? 'ijk', window, undefined, pre.window ? undefined : "the series' own window");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const r = toModel(new Tensor(s.data, [1, 1, ...s.spatial]), spec, pre, dir, log, [s.spacing]);
  return { ...r, description: `DICOM series ${dir} (${files.length} slices), voxel order ${s.order}, at ${gridText(spec)}`, sources: [{ file: dir, window: s.window }], volumes: [s] };
}

export async function loadVolumeBatch(input: string | undefined, spec: ModelSpec, pre: Preprocessing & { voxelOrder?: VoxelOrder }): Promise<VolumeBatch> {
  const log = new PreprocessLog();
  if (input === undefined) throw new UsageError(`this model takes volumes [N, ${spec.channels}, ${gridText(spec)}]; give --input vol.nii.gz[,more.nii.gz], volumes.npy or a MedMNIST 3-D .npz (the bundled data set is 2-D)`);
  let b: VolumeBatch;
  if (existsSync(input) && statSync(input).isDirectory()) b = dicomSeriesBatch(input, spec, pre, log);
  else if (/\.npy$/i.test(input)) {
    if (!existsSync(input)) throw new UsageError(`${input}: no such file`);
    b = await npyVolumes(input, spec, pre, log);
  } else if (/\.nii(\.gz)?(:|,|$)/i.test(input)) b = niftiVolumes(input, spec, pre, log);
  else if (/\.npz(:|$)/i.test(input)) b = npzVolumes(input, spec, pre, log);
  else if (/\.(dcm|dicom|dic)(:|$)/i.test(input)) throw new UsageError(`${input}: one DICOM file is one slice; give the folder holding the series (one file per slice) to read it as a volume`);
  else throw new UsageError(`--input '${input}': a 3-D model takes vol.nii[.gz][,…], a folder holding one DICOM series, volumes.npy ([N,C,D,H,W] ready, or raw [D,H,W] / [N,D,H,W]) or a MedMNIST 3-D data.npz[:split[:range]]`);
  b.notes = log.notes();
  const bad = firstNonFinite(b.x.data as ArrayLike<number>);
  if (bad >= 0) throw new UsageError(`${b.sources[Math.floor(bad / (b.x.size / b.x.shape[0]!))]!.file}: holds a non-finite value; its maps would be NaN`);
  return b;
}
