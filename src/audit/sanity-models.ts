/**
 * The models the sanity checks compare against, trained on the candor engine and cached:
 *   - random labels (Adebayo et al.'s data randomization test): the audited architecture trained on
 *     permuted training labels;
 *   - shortcut (the tutorial's controlled artifact): the same architecture trained on images carrying
 *     a label-coded marker.
 * The architecture is rebuilt from the model card when candor built the model; otherwise the audited
 * ONNX graph itself is re-initialised (torch defaults, ./randomize.ts) and trained — any graph the
 * engine can differentiate can be retrained.
 */
import { existsSync, readFileSync } from 'node:fs';
import { buildArchitecture, canonicalArchitecture } from '../train/arch/index.js';
import { prepareDataAsync, type PrepareOptions } from '../train/prepare.js';
import { trainModel, type TrainSettings } from '../train/train-model.js';
import { cardPath, modelFileBytes, saveModelBytes, type ModelCard } from '../train/card.js';
import type { OptimizerType } from '../train/optim.js';
import { serializeModel } from '../onnx/proto.js';
import type { Model as IRModel } from '../onnx/ir.js';
import { modelFromBytes } from '../runtime/node.js';
import type { Model } from '../runtime/model.js';
import { digest, keyOf } from './cache.js';
import { parameterGroups, randomizeGroups } from './randomize.js';
import type { AuditContext } from './context.js';

export type SanityKind = 'random-labels' | 'shortcut';

export interface SanityModel {
  kind: SanityKind;
  model: Model;
  id: string;
  card: ModelCard;
  /** Where the cached model lives (undefined without a cache). */
  path?: string;
  /** Seconds spent training (0 when loaded from the cache). */
  seconds: number;
}

/**
 * The random-label model is trained on a subset of this many training images (unless --train-limit
 * says otherwise) until it memorises them: its training accuracy reaches MEMORISED, or its epochs run
 * out. On the bundled PneumoniaMNIST at 64×64 the small CNN needs about 40 epochs of 500 images
 * (0.95 at epoch 40, 0.98 at 60); on all 4,708 images 3 epochs left it at the class balance (0.74).
 */
export const RANDOM_LABEL_IMAGES = 500;
export const MEMORISED = 0.95;

function settingsFor(ctx: AuditContext, kind: SanityKind): TrainSettings {
  const t = (ctx.subject.card?.training ?? {}) as Record<string, unknown>;
  const optimizer = (['Adam', 'AdamW', 'SGD'].includes(t.optimizer as string) ? t.optimizer : 'Adam') as OptimizerType;
  return {
    epochs: kind === 'random-labels' ? ctx.opts.epochs.randomLabels : ctx.opts.epochs.shortcut,
    batchSize: typeof t.batchSize === 'number' ? t.batchSize : 128,
    optimizer,
    lr: typeof t.lr === 'number' ? t.lr : 1e-3,
    weightDecay: typeof t.weightDecay === 'number' ? t.weightDecay : 0,
    schedule: 'constant',
    seed: ctx.opts.seed,
    threads: ctx.opts.threads,
    // Random labels: the last epoch (validation metrics are noise), stopping once memorised.
    ...(kind === 'random-labels' ? { keep: 'last' as const, stopAtTrainAccuracy: MEMORISED } : {}),
  };
}

/** Training images per split for the sanity model (--train-limit, else the random-label subset). */
function limitFor(ctx: AuditContext, kind: SanityKind): number | undefined {
  return ctx.opts.trainLimit ?? (kind === 'random-labels' ? RANDOM_LABEL_IMAGES : undefined);
}

/** What is retrained: candor's builder when the card names one, else the audited graph re-initialised. */
function architectureOf(ctx: AuditContext): { builder?: string; label: string } {
  const a = ctx.subject.architecture;
  return a && canonicalArchitecture(a) ? { builder: a, label: a } : { label: `${ctx.subject.path} (re-initialised)` };
}

/**
 * Everything that determines a sanity-check model, as plain data: trained here, or sent to a worker of a
 * work queue (src/queue) which trains the same model from it.
 */
export interface SanitySpec {
  kind: SanityKind;
  /** Cache key (hashes every input below and the candor version). */
  key: string;
  trainData: string;
  prep: PrepareOptions;
  settings: TrainSettings;
  /** Name in the card and in messages. */
  architecture: string;
  /** candor's builder when the card names one; else the audited graph is re-initialised. */
  builder?: string;
  init: { inChannels: number; numClasses: number; inputSize: number; seed: number };
}

export function sanitySpec(ctx: AuditContext, kind: SanityKind, trainData: string): SanitySpec {
  const { subject, opts } = ctx;
  const settings = settingsFor(ctx, kind);
  const { builder, label: architecture } = architectureOf(ctx);
  const key = keyOf(ctx.cache.version, kind, subject.id, opts.label ?? null, trainData, subject.size, subject.channels, settings, kind === 'shortcut' ? opts.shortcut : null, architecture, limitFor(ctx, kind) ?? null, opts.window ?? null, opts.frames ?? null, opts.scale ?? 'pm1', opts.axis ?? 'k', opts.resize ?? 'stretch', opts.voxelOrder ?? null, subject.spatial.length === 3 ? 'precise-bn' : null);
  const prep: PrepareOptions = {
    size: subject.size,
    channels: subject.channels,
    seed: opts.seed,
    randomLabels: kind === 'random-labels',
    shortcut: kind === 'shortcut' ? opts.shortcut : undefined,
    limit: limitFor(ctx, kind),
    scale: opts.scale,
    window: opts.window,
    axis: opts.axis,
    resize: opts.resize,
    frames: opts.frames,
    strict: opts.strict,
    label: opts.label,
    classNames: opts.label !== undefined ? subject.card?.classes : undefined,
    volumes: subject.spatial.length === 3,
    voxelOrder: opts.voxelOrder,
  };
  const init = { inChannels: subject.channels, numClasses: subject.model.numClasses, inputSize: subject.size, seed: opts.seed + (kind === 'random-labels' ? 1 : 2) };
  return JSON.parse(JSON.stringify({ kind, key, trainData, prep, settings, architecture, ...(builder ? { builder } : {}), init })) as SanitySpec;
}

/**
 * Train a sanity-check model from its spec. `audited` is the audited graph (re-initialised when the
 * spec names no builder). Returns the trained graph and its card.
 */
export async function trainSanity(spec: SanitySpec, audited: IRModel, log: (line: string) => void, bars: boolean): Promise<{ model: IRModel; card: ModelCard }> {
  const { kind, settings, architecture } = spec;
  const data = await prepareDataAsync(spec.trainData, spec.prep);
  const ir = spec.builder
    ? buildArchitecture(spec.builder, { ...spec.init, dropout: 'inference' })
    : randomizeGroups(audited, parameterGroups(audited, { maxGroups: Infinity }), spec.init.seed);
  const epochs = kind === 'random-labels' ? `up to ${settings.epochs} epochs (until training accuracy ≥ ${MEMORISED})` : `${settings.epochs} epochs`;
  log(`  training the ${kind} model (${architecture}, ${epochs} on ${data.train.images.shape[0]} images${kind === 'shortcut' ? `, artifact ${spec.prep.shortcut}` : ', permuted labels'})…`);
  return trainModel({
    ...settings,
    model: ir,
    data,
    architecture,
    dataLabel: spec.trainData,
    notes: { randomLabels: kind === 'random-labels', shortcut: kind === 'shortcut' ? (spec.prep.shortcut ?? null) : null, purpose: `candor audit ${kind} model` },
    log,
    bars,
  });
}

/** A trained sanity-check model as bytes: the graph as candor loads it (its id) and as its file (with the producer). */
export interface TrainedBytes {
  bytes: Uint8Array;
  file: Uint8Array;
  card: ModelCard;
}

export function trainedBytes(out: { model: IRModel; card: ModelCard }): TrainedBytes {
  return { bytes: serializeModel(out.model), file: modelFileBytes(out.model, out.card), card: out.card };
}

/** Train (or load from the cache) one sanity-check model: here, or on the run's work queue. */
export async function sanityModel(ctx: AuditContext, kind: SanityKind, trainData: string): Promise<SanityModel> {
  const { opts } = ctx;
  const spec = sanitySpec(ctx, kind, trainData);
  const path = ctx.cache.path('models', `${kind}-${spec.key}`, '.onnx');
  if (path && existsSync(path) && existsSync(cardPath(path))) {
    try {
      const card = JSON.parse(readFileSync(cardPath(path), 'utf8')) as ModelCard;
      const bytes = readFileSync(path);
      const model = modelFromBytes(bytes, { source: path, threads: opts.threads });
      ctx.log(`  ${kind} model: reusing ${path}`);
      ctx.cache.hits++;
      return { kind, model, id: digest(bytes), card, path, seconds: 0 };
    } catch (e) {
      ctx.log(`  ${kind} model: cached copy unreadable (${(e as Error).message}); training again`);
    }
  }
  const t0 = performance.now();
  const out = ctx.executor
    ? await ctx.executor.trainSanity(spec, ctx.subject.model)
    : trainedBytes(await trainSanity(spec, ctx.subject.model.ir, (l) => ctx.log(l), !opts.quiet));
  const seconds = (performance.now() - t0) / 1000;
  ctx.cache.misses++;
  const { bytes } = out;
  if (path) await saveModelBytes(path, out.file, out.card);
  const model = modelFromBytes(bytes, { source: path ?? `${kind} model`, threads: opts.threads });
  return { kind, model, id: digest(bytes), card: out.card, path, seconds };
}

/** The sanity-check model of this run (trained or loaded once, shared by the tests that need it). */
export function getSanityModel(ctx: AuditContext, kind: SanityKind): Promise<SanityModel> {
  return ctx.once(`sanity:${kind}`, () => sanityModel(ctx, kind, ctx.opts.trainData ?? ctx.opts.data));
}
