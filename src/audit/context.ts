/**
 * What every audit test shares: the options, the model under audit, its data and the image sample,
 * the work cache, progress output, and attribution maps computed once per (model, images, method).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel, modelFromBytes } from '../runtime/node.js';
import { serializeModel } from '../onnx/proto.js';
import { findingView } from '../onnx/output-head.js';
import type { Model } from '../runtime/model.js';
import { isTestOnly, prepareDataAsync, prepareEvaluationData, resolveDataPath, type PreparedData } from '../train/prepare.js';
import { cardPreprocessing, mergePreprocessing, type ResizePolicy } from '../data/preprocessing.js';
import type { SliceAxis } from '../io/nifti.js';
import { loadJpeg2000Codec } from '../io/dicom.js';
import { openNpzFileSync } from '../io/files.js';
import type { VoxelOrder } from '../data/volume.js';
import { cardPath, type ModelCard } from '../train/card.js';
import { describeScale, type InputScale, stratifiedIndices } from '../data/transforms.js';
import { selectRows, classCounts, type SingleLabelDataset } from '../data/dataset.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { explain, getMethod } from '../explain/registry.js';
import { Progress } from '../train/progress.js';
import { digest, keyOf, WorkCache } from './cache.js';
import type { QueueExecutor } from '../queue/coordinator.js';

export const BUNDLED_MODEL = fileURLToPath(new URL('../../models/baseline/small_cnn_pneumoniamnist64.onnx', import.meta.url));

export interface AuditOptions {
  /** ONNX classifier under audit (default: the bundled baseline). */
  model?: string;
  /** Data: 'pneumoniamnist', a MedMNIST .npz, an image folder or CSV. */
  data: string;
  /** DICOM/NIfTI display window (centre, width); default: the file's own, else min–max. */
  window?: readonly [number, number];
  /** Multi-frame DICOM: the first frame of each file (default) or every frame. */
  frames?: 'first' | 'all';
  /** NIfTI slice axis (default: the card's, else 'k'). */
  axis?: SliceAxis;
  /** Resize policy for images of another aspect ratio (default: the card's, else 'stretch'). */
  resize?: ResizePolicy;
  /**
   * 'all': `data` is an external test set, audited whole (no split drawn); the sanity-check models then
   * train on `trainData`, which is required. Default 'test': the test split of `data`.
   */
  split?: 'test' | 'all';
  /** Folders and CSVs: stop at the first unreadable file (default: skip it and say so). */
  strict?: boolean;
  /** Training data for the sanity-check models (default: `data`). */
  trainData?: string;
  /** CAM layer (default: automatic). */
  layer?: string;
  methods: string[];
  /** Test images sampled (stratified) for the per-image tests. */
  n: number;
  /** Images for the randomization tests (each randomized model explains them all). */
  nRandomization: number;
  /** Images for the stability test (each noisy copy is explained again). */
  nStability: number;
  /** A region of interest for the localization test: box:x,y,w,h or a mask .npy. */
  region?: string;
  /** Ground-truth lesion masks for the localisation benchmark (see ground-truth.ts). */
  masks?: string;
  /** Also write every figure as OUT/figures/<id>.svg and .pdf (for papers). */
  figures?: boolean;
  /** Artifact of the shortcut experiment. */
  shortcut: string;
  /** Pixel values the model expects (default 'pm1', [-1, 1], as candor trains; see scaleInput). */
  scale?: InputScale;
  /** Epochs for the random-label and shortcut models. */
  epochs: { randomLabels: number; shortcut: number };
  /** Keep about this many images of each split when training the sanity-check models (quick runs, tests). */
  trainLimit?: number;
  /** Tests to run (default all). */
  tests: string[];
  seed: number;
  threads?: number;
  /** Work cache directory; undefined disables caching. */
  cacheDir?: string;
  /** Print nothing (tests). */
  quiet?: boolean;
  /** Multi-label models: the finding audited in this run (its index); runAudit runs one per finding. */
  label?: number;
  /** Multi-label models: the findings to audit (names or indices, comma-separated); default every finding with enough cases. */
  labels?: string;
  /** 3-D models, NIfTI files read as volumes: their voxel order (default: the card's, else 'ijk'). */
  voxelOrder?: VoxelOrder;
  /** A work queue (redis://HOST:PORT): maps and sanity-check models are computed by `candor worker`s. */
  queue?: string;
  /** The content store the queue's workers share (default .candor-store). */
  store?: string;
}

/** The audited images: the test split of the data, or an external test set whole. */
export type AuditData = Pick<PreparedData, 'test' | 'val' | 'description' | 'log' | 'path'>;

export interface Subject {
  model: Model;
  /** Hash of the model's bytes: identifies it in cache keys. */
  id: string;
  path: string;
  card?: ModelCard;
  classes: string[];
  /** Edge of the square image or cubic volume the model takes. */
  size: number;
  /** Spatial shape of one input: [size, size] for images, [size, size, size] for volumes. */
  spatial: number[];
  channels: number;
  /** Architecture name when candor built it (for retraining), from the card. */
  architecture?: string;
}

export interface Sample {
  /** Rows of the test split. */
  indices: Int32Array;
  images: Tensor;
  labels: Int32Array;
  /** Identifies the images in cache keys. */
  id: string;
  /** Volumes: each one's voxel → world affine when the data have one (figures show anatomical planes). */
  affines?: readonly (number[][] | null)[];
}

/** Purpose of a map computation: the main maps, or cheaper settings for many repeated models. */
export type MapPurpose = 'main' | 'repeated';

/**
 * Method options used by the audit. 'repeated' (randomization, stability: the same method run on
 * many models or noisy copies) uses fewer SmoothGrad samples and IG steps and a coarser occlusion
 * stride; original and perturbed maps always use the same settings, so comparisons are fair.
 * Volumes (rank 3) occlude cubes of size/8 without overlap (512 windows a volume; size/4, 64 windows,
 * when repeated): an overlapping stride would cost 8× the forward passes in three dimensions.
 */
export function auditMethodOptions(method: string, size: number, purpose: MapPurpose, rank = 2): Record<string, unknown> {
  const window = Math.max(2, Math.round(size / 8));
  switch (getMethod(method).name) {
    case 'smoothgrad':
      return { samples: purpose === 'main' ? 32 : 12, seed: 0 };
    case 'ig':
      return { steps: purpose === 'main' ? 32 : 16 };
    case 'occlusion':
      if (rank === 3) return purpose === 'main' ? { window, strides: window } : { window: 2 * window, strides: 2 * window };
      return { window, strides: purpose === 'main' ? Math.max(1, window / 2) : window };
    default:
      return {};
  }
}

export class AuditContext {
  readonly cache: WorkCache;
  readonly started = performance.now();
  /** Seconds spent per test, for the report. */
  readonly timings: Record<string, number> = {};
  /** Raw maps (and other tensors) written to the report's maps/ folder as <name>.npy. */
  readonly exports = new Map<string, Tensor>();
  /** Work shared between tests within one run (sanity-check models, common maps). */
  readonly memo = new Map<string, Promise<unknown>>();
  /** With --queue: computes maps and sanity-check models on the queue's workers (src/queue). */
  executor?: QueueExecutor;
  /** Maps already on their way (prefetchMaps), by cache key. */
  private readonly inflight = new Map<string, Promise<Tensor>>();

  /** Compute once per run (e.g. a sanity-check model needed by several tests). */
  once<T>(key: string, f: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = f();
      this.memo.set(key, p);
    }
    return p;
  }

  private constructor(
    readonly opts: AuditOptions,
    readonly subject: Subject,
    readonly data: AuditData,
    readonly sample: Sample,
    version: string,
  ) {
    this.cache = new WorkCache(opts.cacheDir, version);
  }

  static async create(opts: AuditOptions, version: string): Promise<AuditContext> {
    const controls = opts.methods.filter((m) => getMethod(m).family === 'control');
    if (controls.length) {
      // A control scored like a method would turn the checks' verdicts (a random map is the same after weight
      // randomization by construction): the metrics section scores the controls beside the methods instead.
      throw new Error(`--methods: ${controls.join(', ')} ${controls.length > 1 ? 'are control maps' : 'is a control map'}, not explanation methods; the audit's metrics section already scores the random, Sobel and constant controls beside the methods`);
    }
    const path = opts.model ?? BUNDLED_MODEL;
    if (!existsSync(path)) throw new Error(`${path}: no such model file`);
    const bytes = readFileSync(path);
    const loaded = loadModel(path, { threads: opts.threads });
    let model = loaded;
    let id = digest(bytes);
    if (loaded.multiLabel) {
      // One finding at a time, as a binary classifier σ(z_k) (onnx/output-head.ts findingView).
      const k = opts.label;
      if (k === undefined) throw new Error(`${path} is multi-label: the audit runs per finding (runAudit chooses them; --labels)`);
      model = modelFromBytes(serializeModel(findingView(loaded.ir, k)), { source: `${path} [finding ${k}]`, threads: opts.threads });
      await loaded.dispose();
      id = keyOf(id, 'finding', k);
    }
    const cardFile = cardPath(path);
    const card = existsSync(cardFile) ? (JSON.parse(readFileSync(cardFile, 'utf8')) as ModelCard) : undefined;
    const shape = model.inputShape;
    // Images [N,C,H,W] or volumes [N,C,D,H,W] (issue 15): square images, cubic volumes (the data are resampled to size^rank).
    const rank = shape.length - 2;
    const dims = shape.slice(2);
    const fixed = dims.filter((d): d is number => typeof d === 'number');
    // A model that fixes no size (dynamic axes) and has no card is audited at the data's own size when it is one.
    const size = fixed[0] ?? card?.input.size ?? nativeSize(opts.data, rank) ?? (rank === 3 ? 32 : 64);
    if (fixed.some((d) => d !== size)) {
      await model.dispose();
      throw new Error(`${path}: the audit needs ${rank === 3 ? 'cubic volumes' : 'square inputs'}, the model takes ${dims.join('×')}`);
    }
    const c = shape[1];
    const channels = typeof c === 'number' ? c : card?.input.channels ?? 1;
    const spatial = Array.from({ length: rank }, () => size);
    const log = (s: string) => opts.quiet || console.error(s);
    // The card's preprocessing unless the options say otherwise (one rule for every command: cli/preprocess-args.ts).
    const carded = cardPreprocessing(card);
    const { pre } = mergePreprocessing({ scale: opts.scale, window: opts.window, axis: opts.axis, resize: opts.resize }, carded);
    const scale = pre.scale;
    if (carded.scale && carded.scale !== scale) log(`  note: the model card says the model takes ${describeScale(carded.scale)} (scale ${carded.scale}); this audit uses scale ${scale} as asked`);
    opts = { ...opts, scale: pre.scale, window: pre.window, axis: pre.axis, resize: pre.resize, split: opts.split ?? (isTestOnly(opts.data) ? 'all' : 'test') };
    if (opts.split === 'all' && !opts.trainData) throw new Error(`${opts.data} is audited whole as an external test set (split all), so nothing of it trains the random-label and shortcut models: give --train-data D (the data the model was developed on)`);
    const what = loaded.multiLabel
      ? `multi-label, ${loaded.numClasses} findings; this run: finding ${opts.label}${card?.classes?.[opts.label!] ? ` '${card.classes[opts.label!]}'` : ''} as the binary classifier σ(z_k)`
      : `${model.numClasses} classes`;
    log(`candor audit: ${path} (${what}, input ${channels}×${spatial.join('×')}${rank === 3 ? ' (volumes)' : ''}, pixels as ${describeScale(scale)})`);
    const voxelOrder = rank === 3 ? (opts.voxelOrder ?? card?.input.voxelOrder ?? 'ijk') : undefined;
    opts = { ...opts, ...(voxelOrder ? { voxelOrder } : {}) };
    const prep = { size, channels, volumes: rank === 3, voxelOrder, seed: opts.seed, window: pre.window, axis: pre.axis, resize: pre.resize, frames: opts.frames, strict: opts.strict, scale, label: loaded.multiLabel ? opts.label : undefined, classNames: loaded.multiLabel ? card?.classes : undefined };
    let data: AuditData;
    if (opts.split === 'all') {
      if (statSync(resolveDataPath(opts.data)).isDirectory() || /\.csv$/i.test(opts.data)) await loadJpeg2000Codec();
      const external = prepareEvaluationData(opts.data, prep);
      // Recalibration, thresholds and conformal sets are fitted on the development data's validation split.
      const dev = await prepareDataAsync(opts.trainData!, prep);
      data = { ...external, val: dev.val, description: `${external.description}; calibration fitted on the validation split of ${opts.trainData}` };
    } else data = await prepareDataAsync(opts.data, prep);
    if (data.test.images.shape.length !== shape.length) {
      await model.dispose();
      throw new Error(`${opts.data} holds ${data.test.images.shape.length === 5 ? 'volumes [N,C,D,H,W]' : 'images [N,C,H,W]'} but ${path} takes ${rank === 3 ? 'volumes' : 'images'} [${shape.join(', ')}]`);
    }
    if (data.test.task !== 'single') throw new Error(`${opts.data}: the audit of ${path} (one class per image) needs single-label data; this data set is multi-label (a multi-label model ends in one sigmoid per finding, or its card says "task": "multilabel")`);
    const classes = card?.classes && !loaded.multiLabel ? [...card.classes] : [...data.test.classNames];
    if (data.test.classNames.length !== model.numClasses) {
      throw new Error(`${opts.data} has ${data.test.classNames.length} classes (${data.test.classNames.join(', ')}) but ${path} outputs ${model.numClasses}`);
    }
    const sample = drawSample(data.test as SingleLabelDataset, opts.n, new Rng(opts.seed).fork('audit-sample'));
    log(`  ${data.description}; test split ${data.test.images.shape[0]} images (${classCounts(data.test).join('/')}), sample ${sample.indices.length}`);
    const subject: Subject = { model, id, path, card, classes, size, spatial, channels, architecture: loaded.multiLabel ? undefined : card?.architecture };
    return new AuditContext(opts, subject, data, sample, version);
  }

  /** Whether the audited model takes volumes [N,C,D,H,W]. */
  get volumes(): boolean {
    return this.subject.spatial.length === 3;
  }

  /** Pixels (voxels) per map. */
  get voxels(): number {
    return this.subject.spatial.reduce((a, b) => a * b, 1);
  }

  log(line: string): void {
    if (!this.opts.quiet) console.error(line);
  }

  progress(label: string, total: number, unit = 'img'): Progress {
    return new Progress({ total, label, unit, silent: this.opts.quiet });
  }

  /** The first `n` images of the sample (the sample is in random order, stratified). */
  head(n: number): Sample {
    const k = Math.min(n, this.sample.indices.length);
    if (k === this.sample.indices.length) return this.sample;
    const images = this.sample.images.slice0(0, k);
    return { indices: this.sample.indices.slice(0, k), images, labels: this.sample.labels.slice(0, k), id: keyOf(this.sample.id, k), ...(this.sample.affines ? { affines: this.sample.affines.slice(0, k) } : {}) };
  }

  /**
   * Attribution maps [N,H,W] of one method, cached by (model id, images id, targets, method,
   * options, layer). Computed in chunks so progress can be shown.
   */
  async maps(modelId: string, model: Model, images: Tensor, imagesId: string, targets: readonly number[], method: string, purpose: MapPurpose, label?: string): Promise<Tensor> {
    const key = this.mapsKey(modelId, imagesId, targets, method, purpose);
    const ahead = this.executor && this.inflight.get(keyOf(key));
    if (ahead) return ahead;
    return this.cache.tensor('maps', key, () => this.computeMaps(model, images, targets, method, purpose, label));
  }

  /** What determines a map computation: its cache key's parts. */
  private mapsKey(modelId: string, imagesId: string, targets: readonly number[], method: string, purpose: MapPurpose) {
    return { modelId, imagesId, targets: [...targets], method, options: this.methodOptions(method, purpose) };
  }

  /**
   * With a work queue: put the maps of these methods on the queue now, so that the workers compute them
   * in parallel while the test reads them one by one (`maps` finds them on their way). Without a queue,
   * nothing: maps are computed in order when asked for.
   */
  prefetchMaps(modelId: string, model: Model, images: Tensor, imagesId: string, targets: readonly number[], methods: readonly string[], purpose: MapPurpose): void {
    if (!this.executor) return;
    for (const method of methods) {
      const key = this.mapsKey(modelId, imagesId, targets, method, purpose);
      const k = keyOf(key);
      if (this.inflight.has(k)) continue;
      const p = this.cache.tensor('maps', key, () => this.computeMaps(model, images, targets, method, purpose));
      p.catch(() => {}); // awaited (and reported) by the test that reads it
      this.inflight.set(k, p);
    }
  }

  methodOptions(method: string, purpose: MapPurpose): Record<string, unknown> {
    return { ...auditMethodOptions(method, this.subject.size, purpose, this.subject.spatial.length), layer: this.opts.layer, seed: this.opts.seed };
  }

  /** Maps without the cache (noisy copies in the stability test are never seen twice). */
  async computeMaps(model: Model, images: Tensor, targets: readonly number[], method: string, purpose: MapPurpose, label?: string): Promise<Tensor> {
    const options = this.methodOptions(method, purpose);
    const n = images.shape[0]!;
    const chunk = getMethod(method).batchCoupled ? n : 8;
    const bar = label ? this.progress(label, n) : undefined;
    const parts: Tensor[] = [];
    if (this.executor) {
      // Every chunk a unit of the queue, all submitted at once (the workers share them out).
      const ex = this.executor;
      const starts = Array.from({ length: Math.ceil(n / chunk) }, (_, c) => c * chunk);
      const got = await Promise.all(starts.map(async (i) => {
        const j = Math.min(n, i + chunk);
        const t = await ex.maps(model, images.slice0(i, j), targets.slice(i, j), method, options);
        bar?.tick(j - i);
        return t;
      }));
      bar?.finish();
      return Tensor.concat0(got);
    }
    for (let i = 0; i < n; i += chunk) {
      const j = Math.min(n, i + chunk);
      const a = await explain(model, images.slice0(i, j), method, targets.slice(i, j), options);
      parts.push(a.map);
      bar?.tick(j - i);
    }
    bar?.finish();
    return Tensor.concat0(parts);
  }

  /** Logits [N,K] of a model on images, cached. */
  async logits(modelId: string, model: Model, images: Tensor, imagesId: string): Promise<Tensor> {
    return this.cache.tensor('logits', { modelId, imagesId }, () => model.forward(images, { batchSize: 256 }));
  }
}

/** The edge of a .npz data set's images or volumes when they are square / cubic (e.g. MedMNIST 3-D's 28³), else undefined. */
function nativeSize(data: string, rank: number): number | undefined {
  try {
    const path = resolveDataPath(data);
    if (!/\.npz$/i.test(path)) return undefined;
    const npz = openNpzFileSync(path);
    const key = ['test_images', 'train_images', 'val_images'].find((k) => npz.has(k));
    if (!key) return undefined;
    const shape = npz.get(key).shape as number[];
    // [N, D, H, W] / [N, H, W] (grey) or with a channel axis last (MedMNIST RGB) or second
    const sp = shape.length === rank + 1 ? shape.slice(1) : shape.slice(1, 1 + rank);
    return sp.length === rank && sp.every((d) => d === sp[0]) ? sp[0] : undefined;
  } catch {
    return undefined;
  }
}

function drawSample(test: SingleLabelDataset, n: number, rng: Rng): Sample {
  const total = test.images.shape[0]!;
  const k = test.classNames.length;
  const counts = classCounts(test);
  let idx: Int32Array;
  if (n >= total) idx = Int32Array.from({ length: total }, (_, i) => i);
  else {
    idx = stratifiedIndices(test.labels, k, proportionalCounts(counts, n), rng);
  }
  // Random order, so that the first m images are themselves a stratified-ish subsample.
  const perm = rng.fork('order').permutation(idx.length);
  const order = Int32Array.from(perm, (p) => idx[p]!);
  const ds = selectRows(test, order);
  return { ...(ds.affines ? { affines: ds.affines } : {}), indices: order, images: ds.images, labels: Int32Array.from(ds.labels), id: keyOf(digest(new Uint8Array(test.images.data.buffer, test.images.data.byteOffset, test.images.data.byteLength)), Array.from(order)) };
}

/** n split over classes in proportion to their counts (largest remainders; every present class ≥ 1). */
export function proportionalCounts(counts: readonly number[], n: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const exact = counts.map((c) => (c * n) / total);
  const per = exact.map((e, i) => Math.min(counts[i]!, Math.max(counts[i]! > 0 ? 1 : 0, Math.floor(e))));
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (per.reduce((a, b) => a + b, 0) >= n) break;
    if (per[i]! < counts[i]!) per[i]!++;
  }
  return per;
}
