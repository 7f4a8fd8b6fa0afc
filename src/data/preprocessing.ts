/**
 * One preprocessing for every command and the workbench: how decoded images (in [0, 1]) become a
 * model's input. The choices a user can make — the pixel scale, the DICOM/NIfTI window, the NIfTI
 * slice axis and the resize policy — are one record, {@link Preprocessing}, with one set of
 * defaults; a model candor trains records it in its card, and every command reads the card's values
 * unless told otherwise (cli/preprocess-args.ts). The steps, in order:
 *
 *   1. channels: RGB → grey by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B, Pillow's
 *      `convert('L')`) when the model takes one channel; grey → RGB by repetition when it takes three;
 *   2. size: `stretch` resizes to the model's H×W (the aspect ratio may change), `pad` scales the
 *      longer side to fit and centres the image on black (0), `crop` scales the shorter side to fill
 *      and keeps the centre; the resize filter is resize.ts's (antialiased bilinear);
 *   3. pixel scale: `scaleInput` (transforms.ts).
 *
 * Both linear steps commute up to float rounding, so the order is fixed here once. Everything that
 * changes an image beyond a plain resize — a changed aspect ratio, colour averaged to grey, a window
 * — is counted in a {@link PreprocessLog}, whose `notes()` every command prints and records.
 * Pure TypeScript: the browser worker uses it too.
 */
import { Tensor } from '../tensor/tensor.js';
import type { SliceAxis } from '../io/nifti.js';
import { resize } from './resize.js';
import { describeScale, INPUT_SCALES, type InputScale } from './transforms.js';

export const RESIZE_POLICIES = ['stretch', 'pad', 'crop'] as const;
export type ResizePolicy = (typeof RESIZE_POLICIES)[number];

export const SLICE_AXES: readonly SliceAxis[] = ['i', 'j', 'k', 'axial', 'coronal', 'sagittal'];

export interface Preprocessing {
  /** Pixel values the model expects (transforms.ts scaleInput). */
  scale: InputScale;
  /** DICOM/NIfTI window `[centre, width]` in modality units; undefined: the file's own, else its range. */
  window?: readonly [number, number];
  /** NIfTI slice axis: voxel axis i, j, k (as stored) or an anatomical plane (after reorienting to RAS+). */
  axis: SliceAxis;
  /** How an image of another aspect ratio meets the model's H×W. */
  resize: ResizePolicy;
}

export const DEFAULT_PREPROCESSING: Readonly<Preprocessing> = Object.freeze({ scale: 'pm1', axis: 'k', resize: 'stretch' });

/** The record as JSON (for cards, results.json and explain.json). */
export function preprocessingRecord(p: Preprocessing): { scale: InputScale; window: [number, number] | null; axis: SliceAxis; resize: ResizePolicy } {
  return { scale: p.scale, window: p.window ? [p.window[0], p.window[1]] : null, axis: p.axis, resize: p.resize };
}

/** Read a recorded preprocessing (a card's `preprocessing`); fields that are missing or invalid are left out. */
export function parsePreprocessingRecord(v: unknown): Partial<Preprocessing> {
  if (!v || typeof v !== 'object') return {};
  const r = v as Record<string, unknown>;
  const out: Partial<Preprocessing> = {};
  if ((INPUT_SCALES as readonly unknown[]).includes(r.scale)) out.scale = r.scale as InputScale;
  if (SLICE_AXES.includes(r.axis as SliceAxis)) out.axis = r.axis as SliceAxis;
  if ((RESIZE_POLICIES as readonly unknown[]).includes(r.resize)) out.resize = r.resize as ResizePolicy;
  if (Array.isArray(r.window) && r.window.length === 2 && r.window.every((x) => typeof x === 'number' && Number.isFinite(x)) && (r.window[1] as number) >= 1) out.window = [r.window[0] as number, r.window[1] as number];
  return out;
}

/**
 * What a model card says of its preprocessing: its `preprocessing` record (cards candor writes), else
 * the pixel scale its `input.normalization` names (older cards: candor's own wording, or the
 * workbench's '[-1, 1]', '[0, 1]', 'ImageNet').
 */
export function cardPreprocessing(card: unknown): Partial<Preprocessing> {
  if (!card || typeof card !== 'object') return {};
  const c = card as { preprocessing?: unknown; input?: { normalization?: unknown } };
  const out = parsePreprocessingRecord(c.preprocessing);
  const norm = c.input?.normalization;
  if (out.scale === undefined && typeof norm === 'string') {
    const named = INPUT_SCALES.find((k) => describeScale(k) === norm);
    if (named) out.scale = named;
    else if (/\[-1, ?1\]|0\.5\s*\)\s*\/\s*0\.5/.test(norm)) out.scale = 'pm1';
    else if (/imagenet|0\.485/i.test(norm)) out.scale = 'imagenet';
    else if (/\[0, ?255\]/.test(norm)) out.scale = 'byte';
    else if (/\[0, ?1\]/.test(norm)) out.scale = 'unit';
  }
  return out;
}

/** Where a value came from: a command-line flag (or an API option), the model card, or candor's default. */
export type Origin = 'flag' | 'card' | 'default';

/**
 * The one rule every command and the workbench follow: a value given explicitly wins, else the model
 * card's, else the default. `given` may hold undefined for values not given.
 */
export function mergePreprocessing(given: Partial<Preprocessing>, card: Partial<Preprocessing>): { pre: Preprocessing; origin: Record<keyof Preprocessing, Origin> } {
  const pre = { ...DEFAULT_PREPROCESSING } as Preprocessing;
  const origin = {} as Record<keyof Preprocessing, Origin>;
  for (const k of ['scale', 'window', 'axis', 'resize'] as const) {
    const from: Origin = given[k] !== undefined ? 'flag' : card[k] !== undefined ? 'card' : 'default';
    origin[k] = from;
    const val = from === 'flag' ? given[k] : from === 'card' ? card[k] : DEFAULT_PREPROCESSING[k];
    if (val !== undefined) (pre as unknown as Record<string, unknown>)[k] = val;
  }
  return { pre, origin };
}

/** In words, for reports and notes. */
export function describePreprocessing(p: Preprocessing, volumes?: string): string {
  const win = p.window ? `window centre ${p.window[0]}, width ${p.window[1]}` : "each file's own window (else its value range)";
  if (volumes) return `${win}; whole volumes, voxel order ${volumes}, resampled trilinearly; values scaled ${p.scale}`;
  return `${win}; NIfTI slices along ${p.axis}; resize ${p.resize}; pixels scaled ${p.scale}`;
}

/** What preprocessing did to a set of images, for the notes every command prints and records. */
export class PreprocessLog {
  images = 0;
  resized = 0;
  aspectChanged = 0;
  aspectExample = '';
  padded = 0;
  cropped = 0;
  rgbToGrey = 0;
  greyToRgb = 0;
  /** How DICOM/NIfTI values became [0, 1] (set by the readers). */
  windows = new Set<string>();

  notes(): string[] {
    const out: string[] = [];
    if (this.aspectChanged) out.push(`${this.aspectChanged} of ${this.images} images had another aspect ratio than the model's input (e.g. ${this.aspectExample}) and were stretched to it (--resize pad or crop keeps the aspect ratio)`);
    if (this.padded) out.push(`${this.padded} images were scaled to fit and padded with black to the model's input (--resize pad)`);
    if (this.cropped) out.push(`${this.cropped} images were scaled to fill and centre-cropped to the model's input (--resize crop)`);
    if (this.rgbToGrey) out.push(`${this.rgbToGrey} colour images were converted to grey (BT.601 luma) for a 1-channel model`);
    if (this.greyToRgb) out.push(`${this.greyToRgb} grey images were repeated to 3 channels for an RGB model`);
    for (const w of this.windows) out.push(w);
    return out;
  }

  /** As a record for results files. */
  record(): Record<string, unknown> {
    return { images: this.images, resized: this.resized, aspectChanged: this.aspectChanged, padded: this.padded, cropped: this.cropped, rgbToGrey: this.rgbToGrey, greyToRgb: this.greyToRgb, windows: [...this.windows], notes: this.notes() };
  }
}

/** One `[C,h,w]` image with `C` channels (luma or repetition). */
export function matchChannels(img: Tensor, channels: number, log?: PreprocessLog, where = 'image'): Tensor {
  const [c, h, w] = img.shape as [number, number, number];
  if (img.shape.length !== 3) throw new Error(`${where}: expected a [C,H,W] image, got [${img.shape.join(', ')}]`);
  if (c === channels) return img;
  const n = h * w;
  if (c === 3 && channels === 1) {
    const out = new Float32Array(n);
    for (let p = 0; p < n; p++) out[p] = 0.299 * img.data[p]! + 0.587 * img.data[n + p]! + 0.114 * img.data[2 * n + p]!;
    if (log) log.rgbToGrey++;
    return new Tensor(out, [1, h, w]);
  }
  if (c === 1 && channels === 3) {
    const out = new Float32Array(3 * n);
    for (let k = 0; k < 3; k++) out.set(img.data.subarray(0, n), k * n);
    if (log) log.greyToRgb++;
    return new Tensor(out, [3, h, w]);
  }
  throw new Error(`${where}: the image has ${c} channels; the model takes ${channels} (grey is repeated to RGB, RGB converted to grey)`);
}

/** Centre `[C,h,w]` inside a black `[C,H,W]` (h ≤ H, w ≤ W) or take the centre `[C,H,W]` of it (h ≥ H, w ≥ W). */
function centre(img: Tensor, H: number, W: number): Tensor {
  const [C, h, w] = img.shape as [number, number, number];
  const out = new Float32Array(C * H * W);
  const oy = Math.floor((H - h) / 2);
  const ox = Math.floor((W - w) / 2);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const sy = y - oy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < W; x++) {
        const sx = x - ox;
        if (sx >= 0 && sx < w) out[(c * H + y) * W + x] = img.data[(c * h + sy) * w + sx]!;
      }
    }
  }
  return new Tensor(out, [C, H, W]);
}

/** Whether h×w has H×W's aspect ratio, to within a pixel. */
function sameAspectRatio(h: number, w: number, H: number, W: number): boolean {
  return Math.abs(h * W - w * H) <= Math.max(h, w, H, W) * 0.5;
}

/** One `[C,h,w]` image at `[H,W]` under `policy` (see the module comment). */
export function fitImage(img: Tensor, size: readonly [number, number], policy: ResizePolicy, log?: PreprocessLog): Tensor {
  const [C, h, w] = img.shape as [number, number, number];
  const [H, W] = size;
  if (log) log.images++;
  if (h === H && w === W) return img;
  if (log) log.resized++;
  const as4 = (t: Tensor) => new Tensor(t.data, [1, ...t.shape]);
  const sameAspect = sameAspectRatio(h, w, H, W);
  if (policy === 'stretch' || sameAspect) {
    if (!sameAspect && log) {
      log.aspectChanged++;
      log.aspectExample ||= `${w}×${h} → ${W}×${H} (width×height)`;
    }
    const r = resize(as4(img), [H, W], { antialias: true });
    return new Tensor(r.data, [C, H, W]);
  }
  const s = policy === 'pad' ? Math.min(H / h, W / w) : Math.max(H / h, W / w);
  const nh = policy === 'pad' ? Math.min(H, Math.max(1, Math.round(h * s))) : Math.max(H, Math.round(h * s));
  const nw = policy === 'pad' ? Math.min(W, Math.max(1, Math.round(w * s))) : Math.max(W, Math.round(w * s));
  const r = resize(as4(img), [nh, nw], { antialias: true });
  if (log) log[policy === 'pad' ? 'padded' : 'cropped']++;
  return centre(new Tensor(r.data, [C, nh, nw]), H, W);
}

/** A batch `[N,C,h,w]` → `[N,channels,H,W]` (steps 1 and 2; the caller applies the pixel scale). */
export function toModelSize(images: Tensor, channels: number, size: readonly [number, number], policy: ResizePolicy, log?: PreprocessLog, where = 'images'): Tensor {
  if (images.shape.length !== 4) throw new Error(`${where}: expected [N,C,H,W], got [${images.shape.join(', ')}]`);
  const [N, C, h, w] = images.shape as [number, number, number, number];
  const [H, W] = size;
  if (C === channels && (policy === 'stretch' || sameAspectRatio(h, w, H, W))) {
    // One batched resize (the same filter taps for every image), counted as per image.
    if (log) {
      log.images += N;
      if (h !== H || w !== W) log.resized += N;
      if (!sameAspectRatio(h, w, H, W)) {
        log.aspectChanged += N;
        log.aspectExample ||= `${w}×${h} → ${W}×${H} (width×height)`;
      }
    }
    return h === H && w === W ? images : resize(images, [H, W], { antialias: true });
  }
  const out = new Float32Array(N * channels * H * W);
  const row = C * h * w;
  for (let i = 0; i < N; i++) {
    const one = new Tensor(images.data.subarray(i * row, (i + 1) * row), [C, h, w]);
    out.set(fitImage(matchChannels(one, channels, log, where), size, policy, log).data, i * channels * H * W);
  }
  return new Tensor(out, [N, channels, H, W]);
}
