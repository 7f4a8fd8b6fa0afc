/**
 * The workbench's Web Worker: holds the model (the same `Model` and explainers the CLI runs, with
 * onnxruntime-web's wasm backend injected), the opened images, and answers the page's requests
 * (protocol.ts) so the page never freezes. Nothing here touches the network except fetching
 * onnxruntime's own .wasm from the serving origin.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { Model, type OrtApi } from '../runtime/model.js';
import { ruleOptionsForWebGpu } from '../autodiff/rule.js';
import { Tensor } from '../tensor/tensor.js';
import { explain, METHODS } from '../explain/registry.js';
import { parameterGroups, randomizeGroups } from '../audit/randomize.js';
import { CONTROLS, METRICS, WORKBENCH_METRICS, computeMetric } from '../audit/metric-suite.js';
import { decodeFile, setEntryPosition, setEntryWindow, type DecodedEntry } from './decode.js';
import { cardInput, prepareInput, softmaxRow, type InputSpec } from './preprocess.js';
import { DEFAULT_PREPROCESSING, mergePreprocessing, PreprocessLog } from '../data/preprocessing.js';
import { prepareVolumeInput, readSeries, type PreparedVolume } from './volume-input.js';
import { mapNifti } from '../data/volume.js';
import type { NiftiVolume } from '../io/nifti.js';
import type { ImageSummary, MapResult, ModelCard, ModelSummary, Request, RequestOf, Responses, Variant, WorkerMessage } from './protocol.js';

interface Loaded {
  model: Model;
  summary: ModelSummary;
  randomized?: Model;
}

let loaded: Loaded | undefined;
let spec: InputSpec | undefined;
const images = new Map<number, DecodedEntry>();
/** DICOM series opened as volumes: the volume, its window, and whether the window is still the opening one. */
interface SeriesEntry {
  summary: ImageSummary;
  volume: NiftiVolume;
  opened: [number, number];
  fileWindow?: [number, number];
}
const series = new Map<number, SeriesEntry>();
interface Input {
  x: Tensor;
  display: Tensor;
  notes: string[];
  /** Volumes: the sample behind the input (for the NIfTI export) and the model grid's geometry. */
  volume?: PreparedVolume;
}
const inputs = new Map<number, Input>();

const post = (msg: WorkerMessage, transfer: Transferable[] = []) => self.postMessage(msg, { transfer });

function modelSummary(model: Model, name: string, card: ModelCard | undefined): { summary: ModelSummary; spec: InputSpec } {
  const warnings: string[] = [];
  const s = model.inputShape;
  if (s.length !== 4 && s.length !== 5) throw new Error(`${name}: expected an image classifier [N,C,H,W] or a volume classifier [N,C,D,H,W], got an input of [${s.join(', ')}]`);
  const volumes = s.length === 5;
  const dim = (i: number, fromCard: number | undefined, fallback: number): number => {
    const d = s[i];
    if (typeof d === 'number' && d > 0) return d;
    if (fromCard) return fromCard;
    warnings.push(`input dimension ${i} is not fixed and no model card gives it; using ${fallback}`);
    return fallback;
  };
  const channels = dim(1, card?.input?.channels, volumes ? 1 : 3);
  const cardSpatial = (card?.input as { spatial?: number[] } | undefined)?.spatial;
  const depth = volumes ? dim(2, cardSpatial?.[0] ?? card?.input?.size, 32) : undefined;
  const height = dim(volumes ? 3 : 2, cardSpatial?.[1] ?? card?.input?.size, volumes ? 32 : 224);
  const width = dim(volumes ? 4 : 3, cardSpatial?.[2] ?? card?.input?.size, volumes ? 32 : 224);
  // One rule with every command (cli/preprocess-args.ts): the card's values, else candor's defaults.
  const fromCard = cardInput(card);
  const { pre } = mergePreprocessing({}, fromCard);
  const { scale, resize } = pre;
  if (!fromCard.scale) warnings.push(`no model card names the input scale; assuming ${scale} as every candor command does (change it under Model)`);
  const classNames = card?.classes?.length === model.numClasses ? card.classes : Array.from({ length: model.numClasses }, (_, i) => `class ${i}`);
  let defaultLayer: string | undefined;
  try {
    defaultLayer = model.resolveLayer(undefined);
  } catch (e) {
    warnings.push(`no CAM layer found automatically: ${(e as Error).message}`);
  }
  let groups = 0;
  try {
    groups = parameterGroups(model.ir, { source: name }).length;
  } catch (e) {
    warnings.push((e as Error).message);
  }
  const window = pre.window ? ([pre.window[0], pre.window[1]] as [number, number]) : undefined;
  const summary: ModelSummary = { name, engine: engineLine(), numClasses: model.numClasses, classNames, channels, depth, height, width, scale, resize, window, axis: pre.axis, layers: model.layers(), defaultLayer, parameterGroups: groups, warnings };
  return { summary, spec: { channels, depth, height, width, scale, resize } };
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(what);
  return v;
}

function inputFor(id: number): Input {
  const cached = inputs.get(id);
  if (cached) return cached;
  const s = need(spec, 'open a model first');
  const log = new PreprocessLog();
  const ser = series.get(id);
  const entry = ser ? undefined : need(images.get(id), `no image ${id}`);
  let r: Input;
  if (s.depth !== undefined) {
    // A 3-D model explains a whole volume: the NIfTI file (at its time point t) or the DICOM series, as `candor explain` reads them.
    const name = ser?.summary.name ?? entry!.summary.name;
    let vol: NiftiVolume;
    let window: [number, number] | undefined;
    let origin: string | undefined;
    if (ser) {
      vol = ser.volume;
      const w = ser.summary.series!;
      const moved = w.center !== ser.opened[0] || w.width !== ser.opened[1];
      window = moved || ser.fileWindow ? [w.center, w.width] : undefined;
      origin = moved ? undefined : ser.fileWindow ? "the series' own window" : undefined;
    } else if (entry!.nifti) {
      const n = entry!.nifti;
      vol = n.volume;
      window = n.center === n.opened[0] && n.width === n.opened[1] ? undefined : [n.center, n.width];
    } else {
      throw new Error(`${name} is a 2-D image, and the model takes volumes [N, ${s.channels}, ${s.depth}, ${s.height}, ${s.width}]: open a NIfTI volume, or the files of a DICOM series together`);
    }
    const v = prepareVolumeInput(vol, { ...s, depth: s.depth }, log, window, entry?.nifti?.t, origin);
    r = { x: v.x, display: v.display, notes: log.notes(), volume: v };
  } else {
    if (ser) throw new Error(`${ser.summary.name} is a DICOM series (a volume), and the model takes 2-D images [N, ${s.channels}, ${s.height}, ${s.width}]: open its files one by one, or a 3-D model`);
    r = { ...prepareInput(entry!.pixels, s, log), notes: log.notes() };
  }
  inputs.set(id, r);
  return r;
}

/** A model card's window and NIfTI axis, for DICOM/NIfTI images as they open (one rule with the CLI). */
function applyModelDefaults(entry: DecodedEntry): void {
  const m = loaded?.summary;
  if (!m) return;
  if (m.window && (entry.dicom || entry.nifti)) setEntryWindow(entry, m.window[0], m.window[1]);
  if (entry.nifti && m.axis !== entry.nifti.layout.axis) setEntryPosition(entry, { axis: m.axis });
}

/** Which onnxruntime-web execution provider runs the graphs: 'auto' takes WebGPU when the browser has an adapter. */
export type Backend = 'auto' | 'wasm' | 'webgpu';
let backend: Backend = 'auto';
/** The browser's WebGPU adapter, probed once at init (its vendor and architecture), or why there is none. */
let gpu: { ok: boolean; name: string; why: string } = { ok: false, name: '', why: 'not probed yet' };

async function probeGpu(): Promise<typeof gpu> {
  type Adapter = { info?: { vendor?: string; architecture?: string; description?: string } };
  const nav = navigator as unknown as { gpu?: { requestAdapter(): Promise<Adapter | null> } };
  if (!nav.gpu) return { ok: false, name: '', why: 'this browser offers no WebGPU here (no navigator.gpu)' };
  try {
    const a = await nav.gpu.requestAdapter();
    if (!a) return { ok: false, name: '', why: 'the browser found no WebGPU adapter (GPU disabled or unsupported)' };
    const name = [a.info?.vendor, a.info?.architecture || a.info?.description].filter(Boolean).join(' ') || 'an adapter';
    return { ok: true, name, why: '' };
  } catch (e) {
    return { ok: false, name: '', why: `requesting a WebGPU adapter failed: ${(e as Error).message}` };
  }
}

const onGpu = (): boolean => backend === 'webgpu' || (backend === 'auto' && gpu.ok);

/** onnxruntime-web's backend and its wasm threads as configured (after a session: as it runs). */
function engineLine(): string {
  const n = Number(ort.env.wasm.numThreads ?? 1);
  const wasm = `${n} wasm thread${n > 1 ? 's' : ''}`;
  if (onGpu()) return `onnxruntime-web ${ort.env.versions.web ?? ''} (WebGPU on ${gpu.name}; ops WebGPU lacks on ${wasm})`;
  const why = backend === 'auto' ? `; no WebGPU: ${gpu.why}` : '; wasm chosen';
  return `onnxruntime-web ${ort.env.versions.web ?? ''} (wasm, ${n} thread${n > 1 ? 's' : ''})${why}`;
}

/** The last model opened, kept to reopen it when the backend changes. */
let lastModel: { bytes: Uint8Array; name: string; card?: ModelCard } | undefined;

function modelFor(variant: Variant): Model {
  const l = need(loaded, 'open a model first');
  return variant === 'original' ? l.model : need(l.randomized, 'run the randomization check first');
}

let nextImage = 1;

const handlers: { [K in Request['type']]: (req: RequestOf<K>, id: number) => Promise<Responses[K]> } = {
  async init(req) {
    ort.env.wasm.wasmPaths = req.wasmBase;
    ort.env.wasm.numThreads = req.threads;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    backend = req.backend ?? 'auto';
    gpu = await probeGpu();
    const methods = Object.values(METHODS).map(({ name, about, family, signed, usesLayer }) => ({ name, about, family, signed, usesLayer }));
    return { methods, backend: engineLine() };
  },

  async setBackend(req) {
    if (req.backend === 'webgpu' && !gpu.ok) throw new Error(`WebGPU was chosen, but ${gpu.why}; choose auto or wasm`);
    backend = req.backend;
    if (!lastModel) return { backend: engineLine() };
    const { bytes, name, card } = lastModel;
    // loadModel keeps its own copy of the bytes it is given
    return { backend: engineLine(), model: await handlers.loadModel({ type: 'loadModel', bytes: bytes.buffer as ArrayBuffer, name, card }, 0) };
  },

  async loadModel(req) {
    if (backend === 'webgpu' && !gpu.ok) throw new Error(`WebGPU was chosen, but ${gpu.why}; choose auto or wasm`);
    lastModel = { bytes: new Uint8Array(req.bytes).slice(), name: req.name, card: req.card };
    ruleOptionsForWebGpu(onGpu());
    const model = Model.fromBytes(new Uint8Array(req.bytes), ort as unknown as OrtApi, { source: req.name, executionProviders: onGpu() ? ['webgpu', 'wasm'] : ['wasm'], batchSize: 64 });
    // Shapes computed at run time (transformers) are learned before listing layers: token layers and the
    // default CAM layer of a ViT need them.
    await model.learnShapes();
    const { summary, spec: s } = modelSummary(model, req.name, req.card);
    await loaded?.model.dispose();
    await loaded?.randomized?.dispose();
    const zeros = () => Tensor.zeros([1, s.channels, ...(s.depth !== undefined ? [s.depth] : []), s.height, s.width]);
    await model.forward(zeros()); // compile now, fail early
    loaded = { model, summary };
    spec = s;
    inputs.clear();
    if (summary.defaultLayer) warmUp.push(() => explain(model, zeros(), 'gradcam', 0));
    // A card's window and axis apply to the DICOM/NIfTI images already open too (one rule with the CLI).
    const reopened: ImageSummary[] = [];
    if (summary.window || summary.axis !== DEFAULT_PREPROCESSING.axis) {
      for (const entry of images.values()) {
        if (!entry.dicom && !entry.nifti) continue;
        applyModelDefaults(entry);
        reopened.push(entry.summary);
      }
    }
    return { ...summary, reopened };
  },

  async loadImage(req) {
    const entry = await decodeFile(nextImage++, new Uint8Array(req.bytes), req.name);
    applyModelDefaults(entry);
    images.set(entry.summary.id, entry);
    return entry.summary;
  },

  async loadSeries(req) {
    const r = readSeries(req.files.map((f) => ({ bytes: new Uint8Array(f.bytes), name: f.name })), req.name);
    const id = nextImage++;
    const summary: ImageSummary = { id, name: req.name, kind: 'series', width: r.summary.dims[0]!, height: r.summary.dims[1]!, series: r.summary };
    series.set(id, { summary, volume: r.volume, opened: [r.summary.center, r.summary.width], fileWindow: r.fileWindow });
    return summary;
  },

  async exportNifti(req) {
    const input = need(inputs.get(req.image)?.volume, 'explain a volume first: only maps of a NIfTI volume or a DICOM series are exported as NIfTI');
    const s = need(spec, 'open a model first');
    return { bytes: mapNifti(req.map, [s.depth!, s.height, s.width], input.sample, req.description) };
  },

  async setWindow(req) {
    const ser = series.get(req.image);
    if (ser) {
      ser.summary = { ...ser.summary, series: { ...ser.summary.series!, center: req.center, width: req.width } };
      inputs.delete(req.image);
      return ser.summary;
    }
    const entry = need(images.get(req.image), `no image ${req.image}`);
    setEntryWindow(entry, req.center, req.width);
    inputs.delete(req.image);
    return entry.summary;
  },

  async setPosition(req) {
    const entry = need(images.get(req.image), `no image ${req.image}`);
    setEntryPosition(entry, { slice: req.slice, frame: req.frame, axis: req.axis });
    inputs.delete(req.image);
    return entry.summary;
  },

  async setPreprocessing(req) {
    const s = need(spec, 'open a model first');
    spec = { ...s, scale: req.scale ?? s.scale, resize: req.resize ?? s.resize };
    inputs.clear();
    return { scale: spec.scale, resize: spec.resize };
  },

  async prepare(req) {
    const { display, notes, volume } = inputFor(req.image);
    if (volume) {
      const [channels, depth, height, width] = display.shape as [number, number, number, number];
      return { display: Float32Array.from(display.data), channels, depth, height, width, spacing: volume.spacing, affine: volume.affine, notes };
    }
    const [channels, height, width] = display.shape as [number, number, number];
    return { display: Float32Array.from(display.data), channels, height, width, notes };
  },

  async predict(req) {
    const logits = Array.from((await modelFor(req.variant).forward(inputFor(req.image).x)).data);
    const probabilities = softmaxRow(logits);
    return { logits, probabilities, predicted: probabilities.indexOf(Math.max(...probabilities)) };
  },

  async explain(req, id) {
    const model = modelFor(req.variant);
    const { x } = inputFor(req.image);
    const t0 = performance.now();
    const a = await explain(model, x, req.method, req.target, {
      layer: req.layer,
      onProgress: (done, total) => post({ id, kind: 'progress', done, total }),
    });
    const ms = performance.now() - t0;
    const sp = a.map.shape.slice(1) as number[];
    const [height, width] = sp.slice(-2) as [number, number];
    const depth = sp.length === 3 ? sp[0] : undefined;
    const extra: Record<string, number> = {};
    for (const [k, v] of Object.entries(a.extra ?? {})) {
      if (typeof v === 'number') extra[k] = v;
      else if (Array.isArray(v) && typeof v[0] === 'number') extra[k] = v[0];
    }
    const r: MapResult = { method: a.method, variant: req.variant, map: Float32Array.from(a.map.data), depth, height, width, signed: a.signed, target: a.targets[0]!, ms, extra };
    return r;
  },

  async score(req, id) {
    const l = need(loaded, 'open a model first');
    const { x } = inputFor(req.image);
    const defs = METRICS.filter((d) => WORKBENCH_METRICS.includes(d.id) && !(d.imagesOnly && x.shape.length === 5));
    const names = [...req.methods, ...CONTROLS];
    const values: Record<string, number[]> = {};
    let done = 0;
    for (const name of names) {
      const opts = { layer: req.layer };
      const a = await explain(l.model, x, name, req.target, opts);
      const explainOn = async (m: Model, imgs: Tensor, t: readonly number[]) => (await explain(m, imgs, name, [...t], opts)).map;
      values[name] = [];
      for (const def of defs) {
        const v = await computeMetric(def, { model: l.model, randomized: l.model, images: x, targets: a.targets, maps: a.map, explainOn, seed: 0 });
        values[name].push(v[0]!);
        post({ id, kind: 'progress', done: ++done, total: names.length * defs.length });
      }
    }
    return { metrics: defs.map(({ id: mid, name, family, higherIsBetter, about }) => ({ id: mid, name, family, higherIsBetter, about })), values, controls: [...CONTROLS] };
  },

  async randomize(req) {
    const l = need(loaded, 'open a model first');
    const groups = parameterGroups(l.model.ir, { source: l.summary.name });
    const ir = randomizeGroups(l.model.ir, groups, req.seed);
    await l.randomized?.dispose();
    l.randomized = l.model.derive(ir, `${l.summary.name} (randomized, seed ${req.seed})`);
    return { groups: groups.map((g) => g.name), seed: req.seed };
  },
};

/** Requests run one at a time, in order (onnxruntime-web's wasm backend is single-session-at-a-time). */
let queue: Promise<void> = Promise.resolve();
/**
 * Work queued after a request's answer: compiling the default Grad-CAM gradient graph once a model is
 * loaded, so the first click on Explain does not pay for it. Failures are ignored (the click reports them).
 */
const warmUp: (() => Promise<unknown>)[] = [];

self.onmessage = (e: MessageEvent<{ id: number; req: Request }>) => {
  const { id, req } = e.data;
  queue = queue.then(async () => {
    try {
      const handler = handlers[req.type] as (r: Request, id: number) => Promise<unknown>;
      const result = await handler(req, id);
      const transfer: Transferable[] = [];
      if (result && typeof result === 'object') {
        for (const v of Object.values(result)) if (v instanceof Float32Array) transfer.push(v.buffer);
      }
      post({ id, kind: 'done', result }, transfer);
    } catch (err) {
      post({ id, kind: 'error', error: (err as Error).message ?? String(err) });
    }
    for (const job of warmUp.splice(0)) await job().catch(() => undefined);
  });
};
