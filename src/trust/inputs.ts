/**
 * Where trust statistics get their predictions: a CSV or .npy of probabilities (or logits) with
 * labels, or a model run on a dataset (one pass; T passes of MC dropout; an ensemble of ONNX files;
 * test-time augmentation). Everything comes back as float64 [N, K] (or [T, N, K]) row-major arrays.
 *
 * CSV: a header row; a `label` column (integer class index; name it with `labelColumn`); an optional
 * group column (`groupColumn`); an optional `id` column; every other column is a probability (or a
 * logit with `logits`), in column order. One probability column means binary p(positive).
 */
import { readUtf8File } from '../io/text.js';
import { existsSync, readFileSync } from 'node:fs';
import { parseNpy } from '../io/npy.js';
import { softmax } from '../train/metrics.js';
import { cardClasses, loadModel } from '../runtime/node.js';
import type { Model } from '../runtime/model.js';
import { cloneModel } from '../onnx/ir.js';
import { seedRandomOps } from '../onnx/seed-random.js';
import { isTestOnly, prepareData, prepareEvaluationData } from '../train/prepare.js';
import { DEFAULT_PREPROCESSING, type Preprocessing } from '../data/preprocessing.js';
import { augment } from '../data/augment.js';
import { Rng } from '../tensor/rng.js';
import type { ImageDataset } from '../data/dataset.js';
import type { Tensor } from '../tensor/tensor.js';
import { splitCsvLine } from '../io/csv.js';
import { decimal } from '../data/label-text.js';

export interface Predictions {
  /** [N, K] probabilities. */
  probs: Float64Array;
  /** [N, K] logits when known (model runs, --logits input). */
  logits?: Float64Array;
  labels: Int32Array;
  k: number;
  classNames: string[];
  groups?: string[];
  /** Case identifiers: a CSV's id column, or where each image came from (file, split and row). */
  ids?: string[];
  source: string;
  /** What preprocessing did beyond a plain resize (model runs). */
  notes?: string[];
}

function toLabels(what: string, values: ArrayLike<number | bigint>, k?: number): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (!Number.isInteger(v) || v < 0 || (k !== undefined && v >= k)) throw new Error(`${what}: label ${values[i]} at row ${i} is not a class index${k !== undefined ? ` in [0, ${k})` : ''}`);
    out[i] = v;
  }
  return out;
}

/** Probabilities (or logits → softmax) as [N, K]; a single column becomes [1 − p, p]. */
function finishProbs(what: string, values: Float64Array, n: number, k: number, logits: boolean): { probs: Float64Array; logits?: Float64Array; k: number } {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) throw new Error(`${what}: value at row ${Math.floor(i / k)}, column ${i % k} is ${values[i]}`);
  if (k === 1) {
    const p = new Float64Array(2 * n);
    const z = logits ? new Float64Array(2 * n) : undefined;
    for (let i = 0; i < n; i++) {
      const v = logits ? 1 / (1 + Math.exp(-values[i]!)) : values[i]!;
      p[2 * i] = 1 - v;
      p[2 * i + 1] = v;
      if (z) z[2 * i + 1] = values[i]!;
    }
    return checkProbs(what, { probs: p, logits: z, k: 2 });
  }
  if (logits) return { probs: softmax(values, k), logits: values, k };
  return checkProbs(what, { probs: values, k });
}

function checkProbs<T extends { probs: Float64Array; k: number }>(what: string, r: T): T {
  const { probs, k } = r;
  for (let i = 0; i < probs.length; i += k) {
    let s = 0;
    for (let c = 0; c < k; c++) {
      const v = probs[i + c]!;
      if (!(v >= 0 && v <= 1)) throw new Error(`${what}: probability ${v} at row ${i / k}, column ${c} is not in [0, 1] (pass --logits if these are logits)`);
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) throw new Error(`${what}: row ${i / k} sums to ${s}, not 1 (pass --logits if these are logits)`);
  }
  return r;
}

export interface FileInputOptions {
  /** Labels .npy (required for .npy probabilities). */
  labels?: string;
  labelColumn?: string;
  groupColumn?: string;
  logits?: boolean;
  classNames?: string[];
}

/** Load probabilities and labels from a CSV or .npy file. */
export function loadPredictionFile(path: string, opts: FileInputOptions = {}): Predictions {
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  const logits = opts.logits ?? false;
  if (path.toLowerCase().endsWith('.npy')) {
    const t = parseNpy(new Uint8Array(readFileSync(path)), path);
    if (t.shape.length !== 1 && t.shape.length !== 2) throw new Error(`${path}: expected [N] or [N, K] predictions, got [${t.shape.join(', ')}]`);
    if (!opts.labels) throw new Error(`${path}: .npy predictions need --labels labels.npy`);
    if (!existsSync(opts.labels)) throw new Error(`${opts.labels}: no such labels file`);
    const lt = parseNpy(new Uint8Array(readFileSync(opts.labels)), opts.labels);
    const n = t.shape[0]!;
    const k0 = t.shape[1] ?? 1;
    if (lt.shape.length !== 1 || lt.shape[0] !== n) throw new Error(`${opts.labels}: expected ${n} labels [N], got [${lt.shape.join(', ')}]`);
    const r = finishProbs(path, Float64Array.from(t.data as ArrayLike<number>, Number), n, k0, logits);
    return { ...r, labels: toLabels(opts.labels, lt.data as ArrayLike<number>, r.k), classNames: opts.classNames ?? Array.from({ length: r.k }, (_, i) => `class ${i}`), source: path };
  }
  const lines = readUtf8File(path).replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new Error(`${path}: needs a header row and at least one data row`);
  const header = splitCsvLine(lines[0]!);
  const labelCol = opts.labelColumn ?? 'label';
  const li = header.indexOf(labelCol);
  if (li < 0) throw new Error(`${path}: no '${labelCol}' column (columns: ${header.join(', ')}); name it with --label-column`);
  const gi = opts.groupColumn ? header.indexOf(opts.groupColumn) : -1;
  if (opts.groupColumn && gi < 0) throw new Error(`${path}: no group column '${opts.groupColumn}' (columns: ${header.join(', ')})`);
  const ii = header.indexOf('id');
  const pcols = header.map((_, j) => j).filter((j) => j !== li && j !== gi && j !== ii);
  if (pcols.length === 0) throw new Error(`${path}: no probability columns besides '${labelCol}'`);
  const n = lines.length - 1;
  const k0 = pcols.length;
  const vals = new Float64Array(n * k0);
  const lab: number[] = [];
  const groups: string[] = [];
  const ids: string[] = [];
  for (let r = 0; r < n; r++) {
    const cells = splitCsvLine(lines[r + 1]!);
    if (cells.length !== header.length) throw new Error(`${path}: row ${r + 2} has ${cells.length} cells, the header has ${header.length}`);
    pcols.forEach((j, c) => {
      const v = decimal(cells[j]!);
      if (v === undefined) throw new Error(`${path}: row ${r + 2}, column '${header[j]}' is '${cells[j]}', not a decimal number (probability columns must be numeric; name a group column with --group-column)`);
      vals[r * k0 + c] = v;
    });
    const y = decimal(cells[li]!);
    if (y === undefined) throw new Error(`${path}: row ${r + 2}, column '${labelCol}' is '${cells[li]}', not a class index${cells[li]!.trim() === '' ? ' (empty)' : ''}`);
    lab.push(y);
    if (gi >= 0) groups.push(cells[gi]!);
    if (ii >= 0) ids.push(cells[ii]!);
  }
  const res = finishProbs(path, vals, n, k0, logits);
  return {
    ...res,
    labels: toLabels(`${path} (column '${labelCol}')`, lab, res.k),
    classNames: opts.classNames ?? (k0 === 1 ? ['negative', header[pcols[0]!]!] : pcols.map((j) => header[j]!)),
    groups: gi >= 0 ? groups : undefined,
    ids: ii >= 0 ? ids : undefined,
    source: path,
  };
}

/** Stochastic samples [T, N, K] from a .npy of probabilities (or logits). */
export function loadSamplesNpy(path: string, logits = false): { samples: Float64Array; passes: number; n: number; k: number } {
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  const t = parseNpy(new Uint8Array(readFileSync(path)), path);
  if (t.shape.length !== 3) throw new Error(`${path}: expected [T, N, K] stochastic predictions, got [${t.shape.join(', ')}]`);
  const [T, n, k] = t.shape as [number, number, number];
  let samples: Float64Array = Float64Array.from(t.data as ArrayLike<number>, Number);
  if (logits) samples = softmax(samples, k);
  else for (let p = 0; p < T; p++) checkProbs(`${path} (pass ${p})`, { probs: samples.subarray(p * n * k, (p + 1) * n * k), k });
  return { samples, passes: T, n, k };
}

export interface ModelInputOptions {
  data: string;
  /** A split of the data, or 'all': the whole file as an external test set (train/prepare.ts prepareEvaluationData). */
  split: 'train' | 'val' | 'test' | 'all';
  limit?: number;
  seed?: number;
  threads?: number;
  batchSize?: number;
  /** Scale, window, NIfTI axis and resize policy (default: DEFAULT_PREPROCESSING). */
  pre?: Preprocessing;
  /** Folders and CSVs: stop at the first unreadable file (default: skip and report it). */
  strict?: boolean;
}

/** The dataset a model takes (size and channels from its input shape); multi-label data only when allowed. */
export function datasetFor(modelPath: string, opts: ModelInputOptions, allowMulti = false): { dataset: ImageDataset; size: number; channels: number; notes: string[] } {
  const m = loadModel(modelPath);
  const [, c, h] = m.inputShape;
  const size = typeof h === 'number' ? h : 64;
  const channels = typeof c === 'number' ? c : 1;
  const pre = opts.pre ?? DEFAULT_PREPROCESSING;
  const prep = { size, channels, seed: opts.seed ?? 0, limit: opts.limit, scale: pre.scale, window: pre.window, axis: pre.axis, resize: pre.resize, strict: opts.strict };
  // A test-only archive is an external test set: its test split is all of it.
  const whole = opts.split === 'all' || (opts.split === 'test' && isTestOnly(opts.data));
  const prepared = whole ? prepareEvaluationData(opts.data, prep) : prepareData(opts.data, prep);
  const dataset = whole ? prepared.test : (prepared as ReturnType<typeof prepareData>)[opts.split as 'train' | 'val' | 'test'];
  if (dataset.task !== 'single' && !allowMulti) {
    throw new Error(`${opts.data}: the labels are multi-label [N, ${dataset.classNames.length}] but ${modelPath} is single-label (one class per image); a multi-label model ends in one sigmoid per label, or says so in its card ("task": "multilabel")`);
  }
  return { dataset, size, channels, notes: prepared.log.notes() };
}

/** Single-label statistics (softmax over classes) must not run on a multi-label model's outputs. */
function refuseMultiLabel(modelPath: string): void {
  if (isMultiLabelModel(modelPath)) {
    throw new Error(`${modelPath} is multi-label (one sigmoid per finding): this statistic assumes one class per image; candor metrics reports per-finding AUROC, sensitivity, specificity, ECE and Brier (per-finding recalibration, uncertainty and conformal sets are not supported yet)`);
  }
}

/** Whether a model file is multi-label (K independent sigmoids, or its card says so). */
export function isMultiLabelModel(modelPath: string): boolean {
  return loadModel(modelPath).multiLabel;
}

export interface MultiLabelPredictions {
  /** [N, K] σ(logits). */
  probs: Float64Array;
  /** [N, K] 0/1. */
  outcomes: Uint8Array;
  k: number;
  classNames: string[];
  source: string;
}

/** One pass of a multi-label model on a multi-label dataset split (ChestMNIST's layout: labels [N, K]). */
export async function predictMultiLabel(modelPath: string, opts: ModelInputOptions): Promise<MultiLabelPredictions> {
  const { dataset } = datasetFor(modelPath, opts, true);
  if (dataset.task !== 'multi') throw new Error(`${modelPath} is multi-label but ${dataset.source} has one class per image; give data with a label matrix [N, K]`);
  const [logits] = await runPasses([modelPath], dataset.images, { mode: 'single', threads: opts.threads, batchSize: opts.batchSize });
  const k = dataset.labels.shape[1]!;
  if (logits!.length !== dataset.images.shape[0]! * k) throw new Error(`${modelPath} has ${logits!.length / dataset.images.shape[0]!} outputs but ${dataset.source} has ${k} labels`);
  const probs = Float64Array.from(logits!, (z) => 1 / (1 + Math.exp(-z)));
  const named = cardClasses(modelPath);
  const classNames = named && named.length === k ? named : [...dataset.classNames];
  return { probs, outcomes: Uint8Array.from(dataset.labels.data as Uint8Array), k, classNames, source: `${modelPath} on ${dataset.source}` };
}

/** Logits of every model (one pass each; T passes of one model for MC dropout; T augmentations for TTA). */
export async function runPasses(modelPaths: string[], images: Tensor, opts: { mode: 'single' | 'mc' | 'ensemble' | 'tta'; passes?: number; seed?: number; threads?: number; batchSize?: number }): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  const T = opts.mode === 'single' ? 1 : opts.passes ?? 10;
  if (opts.mode === 'ensemble') {
    for (const p of modelPaths) {
      refuseMultiLabel(p);
      const m = loadModel(p, { threads: opts.threads });
      out.push(Float64Array.from((await m.forward(images, { batchSize: opts.batchSize ?? 256 })).data));
      await m.dispose();
    }
    return out;
  }
  if (modelPaths.length !== 1) throw new Error(`--mode ${opts.mode} takes one --model, got ${modelPaths.length}`);
  if (opts.mode !== 'single') refuseMultiLabel(modelPaths[0]!);
  const loaded = loadModel(modelPaths[0]!, { threads: opts.threads });
  // MC dropout: seed the graph's random ops, so that --seed fixes the T passes (see seed-random.ts).
  const m = opts.mode === 'mc' ? seededCopy(loaded, opts.seed ?? 0) : loaded;
  const rng = new Rng(opts.seed ?? 0);
  for (let t = 0; t < T; t++) {
    const x = opts.mode === 'tta' && t > 0 ? augment(images, rng.fork(`tta:${t}`), { flip: 0, rotate: 5, cropPadding: 2 }).images : images;
    out.push(Float64Array.from((await m.forward(x, { batchSize: opts.batchSize ?? 256 })).data));
  }
  await m.dispose();
  return out;
}

function seededCopy(m: Model, seed: number): Model {
  const ir = cloneModel(m.ir);
  return seedRandomOps(ir.graph, seed) ? m.derive(ir, m.source) : m;
}

/** One pass of a model on a dataset split: probabilities, logits and labels. */
export async function predictWithModel(modelPath: string, opts: ModelInputOptions): Promise<Predictions> {
  refuseMultiLabel(modelPath);
  const { dataset, notes } = datasetFor(modelPath, opts);
  const [logits] = await runPasses([modelPath], dataset.images, { mode: 'single', threads: opts.threads, batchSize: opts.batchSize });
  const k = logits!.length / dataset.images.shape[0]!;
  return { probs: softmax(logits!, k), logits, labels: Int32Array.from(dataset.labels as Int32Array), k, classNames: [...dataset.classNames], source: `${modelPath} on ${dataset.source}`, ids: dataset.origins ? [...dataset.origins] : undefined, notes };
}

/** Rows of predictions (for splitting one file into calibration and evaluation parts). */
export function selectPredictions(p: Predictions, rows: ArrayLike<number>, source?: string): Predictions {
  const k = p.k;
  const pick = (a: Float64Array) => {
    const o = new Float64Array(rows.length * k);
    for (let i = 0; i < rows.length; i++) o.set(a.subarray(rows[i]! * k, rows[i]! * k + k), i * k);
    return o;
  };
  return {
    probs: pick(p.probs),
    logits: p.logits ? pick(p.logits) : undefined,
    labels: Int32Array.from(rows, (r) => p.labels[r]!),
    k,
    classNames: p.classNames,
    groups: p.groups ? Array.from(rows, (r) => p.groups![r]!) : undefined,
    ids: p.ids ? Array.from(rows, (r) => p.ids![r]!) : undefined,
    source: source ?? p.source,
    notes: p.notes,
  };
}

/** Seeded random split of row indices into a calibration part (fraction f) and the rest. */
export function randomSplit(n: number, fraction: number, seed: number): { cal: number[]; rest: number[] } {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`calibration fraction must be in (0, 1), got ${fraction}`);
  const rng = new Rng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  const m = Math.round(n * fraction);
  return { cal: idx.slice(0, m).sort((a, b) => a - b), rest: idx.slice(m).sort((a, b) => a - b) };
}
