/**
 * Units of work a queue's workers run: what the audit would compute itself, as plain data whose inputs
 * are keys of the shared content store (src/queue/store.ts). A unit is deterministic — same inputs,
 * same candor version, same thread count: same bytes out — so running one twice (a worker killed
 * mid-unit, a retry) changes nothing, and its id, a hash of everything in it, lets the queue drop a
 * second submission.
 */
import { keyOf } from '../audit/cache.js';
import { trainedBytes, trainSanity, type SanitySpec } from '../audit/sanity-models.js';
import type { ModelCard } from '../train/card.js';
import { explain } from '../explain/registry.js';
import type { Target } from '../explain/types.js';
import { serializeModel } from '../onnx/proto.js';
import type { Model } from '../runtime/model.js';
import { modelFromBytes } from '../runtime/node.js';
import type { ContentStore } from './store.js';
import { Tensor } from '../tensor/tensor.js';

/** Attribution maps of one chunk of images: explain(model, images, method, targets, options). */
export interface MapsUnit {
  kind: 'maps';
  /** Store key of the model's graph as candor reads it (serializeModel(model.ir)). */
  model: string;
  multiLabel: boolean;
  /** Store key of the images [n, C, ...spatial] (.npy). */
  images: string;
  targets: number[];
  method: string;
  options: Record<string, unknown>;
}

/** `candor explain` on a batch: one method and target over all its images, the whole Attribution back. */
export interface ExplainUnit {
  kind: 'explain';
  model: string;
  multiLabel: boolean;
  images: string;
  target: Target;
  method: string;
  options: Record<string, unknown>;
  /** Keep the per-channel attributions (--keep-channels). */
  channels: boolean;
}

/** One sanity-check model (random labels, shortcut), trained from its spec. */
export interface SanityUnit {
  kind: 'sanity-model';
  /** Store key of the audited graph (re-initialised when the spec names no builder). */
  audited: string;
  multiLabel: boolean;
  spec: SanitySpec;
}

export type Unit = MapsUnit | ExplainUnit | SanityUnit;

/** What a unit leaves in the store: keys only. */
export type UnitResult = (
  | { kind: 'maps'; maps: string }
  | { kind: 'explain'; map: string; logits: string; attributions?: string; meta: string }
  | { kind: 'sanity-model'; model: string; file: string; card: string }
) & {
  /** Seconds the worker spent computing the unit (not part of the result). */
  seconds?: number;
};

/** An explain unit's small results: what the Attribution holds beside its tensors (numeric diagnostics only). */
export interface ExplainMeta {
  signed: boolean;
  targets: number[];
  extra: Record<string, number[] | string | number>;
}

/** The keys a result points to (all must be in the store for it to count as done). */
export function resultKeys(r: UnitResult): string[] {
  if (r.kind === 'maps') return [r.maps];
  if (r.kind === 'explain') return [r.map, r.logits, r.meta, ...(r.attributions ? [r.attributions] : [])];
  return [r.model, r.file, r.card];
}

/** The unit's id: equal units, equal ids (a job id in the queue). */
export function unitId(version: string, unit: Unit): string {
  return `${unit.kind}-${keyOf(version, unit)}`;
}

/** A one-line description for progress and errors. */
export function describeUnit(unit: Unit): string {
  if (unit.kind === 'maps') return `${unit.method} maps of ${unit.targets.length} image${unit.targets.length === 1 ? '' : 's'} (model ${unit.model.slice(0, 12)})`;
  if (unit.kind === 'explain') return `explain ${unit.method} (target ${JSON.stringify(unit.target)}, model ${unit.model.slice(0, 12)})`;
  return `training the ${unit.spec.kind} model`;
}

/** Method options as unit data: tensors (a baseline from a .npy) go to the store as { $tensor: key }. */
export async function encodeOptions(store: ContentStore, options: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    out[k] = v instanceof Tensor ? { $tensor: await store.putTensor(v) } : (JSON.parse(JSON.stringify(v)) as unknown);
  }
  return out;
}

async function decodeOptions(store: ContentStore, options: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) out[k] = v && typeof v === 'object' && '$tensor' in v ? await store.getTensor((v as { $tensor: string }).$tensor) : v;
  return out;
}

/** How a graph travels: the graph candor runs (adapted layout and head), re-read without adapting again. */
export function modelBlob(store: ContentStore, model: Model): Promise<string> {
  return store.put(serializeModel(model.ir));
}

const memo = new WeakMap<object, { store: string; key: Promise<string> }>();

/** Store `value` once per object and store (the batch `candor explain` sends with every method × target). */
function once(store: ContentStore, value: object, put: () => Promise<string>): Promise<string> {
  const m = memo.get(value);
  if (m && m.store === store.id) return m.key;
  const key = put();
  memo.set(value, { store: store.id, key });
  return key;
}

/** A tensor's store key, once per tensor object and store. */
export function tensorKey(store: ContentStore, t: Tensor): Promise<string> {
  return once(store, t, () => store.putTensor(t));
}

/** modelBlob, once per model object and store. */
export function modelKey(store: ContentStore, model: Model): Promise<string> {
  return once(store, model, () => modelBlob(store, model));
}

/** Models a worker keeps loaded between units (a randomization cascade reuses each variant for every method). */
export class ModelCache {
  private readonly models = new Map<string, Model>();
  constructor(
    private readonly store: ContentStore,
    /** onnxruntime threads of the models (and of training, where the unit does not fix them). */
    readonly threads: number | undefined,
    private readonly capacity = 8,
  ) {}

  async get(key: string, multiLabel: boolean): Promise<Model> {
    const hit = this.models.get(key);
    if (hit) {
      this.models.delete(key);
      this.models.set(key, hit);
      return hit;
    }
    const model = modelFromBytes(await this.store.get(key), { source: `model ${key.slice(0, 12)} (from the store)`, threads: this.threads, inputLayout: 'nchw', outputHead: 'keep', task: multiLabel ? 'multilabel' : 'single' });
    this.models.set(key, model);
    while (this.models.size > this.capacity) {
      const [oldest, m] = this.models.entries().next().value as [string, Model];
      this.models.delete(oldest);
      await m.dispose();
    }
    return model;
  }

  async dispose(): Promise<void> {
    for (const m of this.models.values()) await m.dispose();
    this.models.clear();
  }
}

/** Run a unit: read its inputs from the store, compute, write the outputs, return their keys. */
export async function runUnit(unit: Unit, store: ContentStore, models: ModelCache, log: (line: string) => void = () => {}): Promise<UnitResult> {
  if (unit.kind === 'maps') {
    const model = await models.get(unit.model, unit.multiLabel);
    const images = await store.getTensor(unit.images);
    if (images.shape[0] !== unit.targets.length) throw new Error(`maps unit: ${images.shape[0]} images but ${unit.targets.length} targets`);
    const a = await explain(model, images, unit.method, unit.targets, await decodeOptions(store, unit.options));
    return { kind: 'maps', maps: await store.putTensor(a.map) };
  }
  if (unit.kind === 'explain') {
    const model = await models.get(unit.model, unit.multiLabel);
    const a = await explain(model, await store.getTensor(unit.images), unit.method, unit.target, await decodeOptions(store, unit.options));
    const extra: ExplainMeta['extra'] = {};
    for (const [k, v] of Object.entries(a.extra ?? {})) if (typeof v === 'number' || typeof v === 'string' || Array.isArray(v)) extra[k] = v;
    const meta: ExplainMeta = { signed: a.signed, targets: a.targets, extra };
    return { kind: 'explain', map: await store.putTensor(a.map), logits: await store.putTensor(a.logits), ...(unit.channels && a.attributions ? { attributions: await store.putTensor(a.attributions) } : {}), meta: await store.putJson(meta) };
  }
  const audited = await models.get(unit.audited, unit.multiLabel);
  // The submitter's --threads when it gave one (the same bytes as its own run), else this worker's.
  const spec = { ...unit.spec, settings: { ...unit.spec.settings, threads: unit.spec.settings.threads ?? models.threads } };
  const out = trainedBytes(await trainSanity(spec, audited.ir, log, false));
  return { kind: 'sanity-model', model: await store.put(out.bytes), file: await store.put(out.file), card: await store.putJson(out.card satisfies ModelCard) };
}
