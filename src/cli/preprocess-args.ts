/**
 * The preprocessing flags every command that reads images takes (`--scale`, `--window`, `--axis`,
 * `--resize`), resolved one way everywhere: the flag when given, else the model card's recorded value
 * (data/preprocessing.ts cardPreprocessing), else the default — and where each value came from, so
 * commands can say it and record it.
 */
import { readCardJson } from '../runtime/node.js';
import { cardPreprocessing, describePreprocessing, mergePreprocessing, type Origin, preprocessingRecord, RESIZE_POLICIES, SLICE_AXES, type Preprocessing, type ResizePolicy } from '../data/preprocessing.js';
import type { SliceAxis } from '../io/nifti.js';
import { parseScale, parseWindow, UsageError } from './args.js';

export const PREPROCESS_OPTIONS = {
  scale: { type: 'string' },
  window: { type: 'string' },
  axis: { type: 'string' },
  resize: { type: 'string' },
} as const;

export const PREPROCESS_HELP = `Preprocessing (the same for every command and the workbench; a model candor trained records its own
in its card, used unless a flag says otherwise):
  --scale pm1|unit|imagenet|byte   pixels as the model expects: [-1, 1] as candor trains (default),
        [0, 1], ImageNet mean/std, or [0, 255] (Keras models with their own Rescaling layer)
  --window C,W     DICOM/NIfTI window (centre, width; modality units, e.g. 40,400 for CT soft tissue);
        default: the file's own window (DICOM WindowCenter/Width, NIfTI cal_min–cal_max), else its range
  --axis k|i|j|axial|coronal|sagittal   NIfTI slice axis (default k, the third voxel axis as stored)
  --resize stretch|pad|crop        images of another aspect ratio: stretched to the model's input
        (default; announced), scaled to fit and padded with black, or scaled to fill and centre-cropped`;

export type { Origin } from '../data/preprocessing.js';

export interface ResolvedPreprocessing {
  pre: Preprocessing;
  origin: Record<keyof Preprocessing, Origin>;
  /** What the model card recorded (to say when a flag overrides it). */
  card: Partial<Preprocessing>;
}

type Values = Record<string, unknown>;

/** The preprocessing for `modelPath` (its card, if any) under the given flags. */
export function resolvePreprocessing(v: Values, modelPath?: string): ResolvedPreprocessing {
  const card = modelPath ? cardPreprocessing(readCardJson(modelPath)) : {};
  const flags: Partial<Preprocessing> = {};
  if (v.scale !== undefined) flags.scale = parseScale(String(v.scale));
  if (v.window !== undefined) flags.window = parseWindow(String(v.window));
  if (v.axis !== undefined) {
    const a = String(v.axis).toLowerCase();
    if (!SLICE_AXES.includes(a as SliceAxis)) throw new UsageError(`--axis must be one of ${SLICE_AXES.join(', ')}, got '${v.axis}'`);
    flags.axis = a as SliceAxis;
  }
  if (v.resize !== undefined) {
    if (!(RESIZE_POLICIES as readonly string[]).includes(String(v.resize))) throw new UsageError(`--resize must be one of ${RESIZE_POLICIES.join(', ')}, got '${v.resize}'`);
    flags.resize = v.resize as ResizePolicy;
  }
  return { ...mergePreprocessing(flags, card), card };
}

/** One line for the terminal: the preprocessing and which values came from the model card. */
/** `volumes`: the voxel order, for 3-D models (whole volumes, not slices). */
export function describeResolved(r: ResolvedPreprocessing, volumes?: string): string {
  const carded = (Object.keys(r.origin) as (keyof Preprocessing)[]).filter((k) => r.origin[k] === 'card');
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const overridden = (Object.keys(r.origin) as (keyof Preprocessing)[]).filter((k) => r.origin[k] === 'flag' && r.card[k] !== undefined && !same(r.card[k], r.pre[k]));
  const notes = [carded.length ? `${carded.join(', ')} from the model card` : '', ...overridden.map((k) => `--${k} overrides the card's ${JSON.stringify(r.card[k])}`)].filter(Boolean);
  return `preprocessing: ${describePreprocessing(r.pre, volumes)}${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

/** The record written to results files. */
export function resolvedRecord(r: ResolvedPreprocessing): Record<string, unknown> {
  return { ...preprocessingRecord(r.pre), from: r.origin };
}
