/**
 * Label-correlated artifact injection for the shortcut test (DESIGN.md §5, issue 3).
 *
 * Each class may carry its own artifact — a corner square, a border stripe or burned-in text — drawn
 * with a given intensity (default: the image's own maximum in each channel, i.e. white) on every channel. The tutorial's
 * default ({@link tutorialShortcut}): pneumonia (1) gets an 8-px square top-left, normal (0) one
 * bottom-right, at 64 px. With `probability` p < 1 each eligible image is marked independently with
 * probability p (a partial correlation), seeded. Every call returns the marked images, the `[N,H,W]`
 * mask of artifact pixels (for localization metrics: how much attribution falls on the marker), and
 * which images were marked. {@link removeArtifact} puts the original pixels back under the mask (the
 * marker-removal test).
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { renderText } from './font.js';
import { withImages, type ImageDataset } from './dataset.js';

export type Corner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
/** A corner (inset by `margin`), or the artifact's top-left pixel. */
export type Placement = Corner | { x: number; y: number };
export type Side = 'top' | 'bottom' | 'left' | 'right';

export type ArtifactSpec =
  | { kind: 'square'; size: number; at?: Placement; margin?: number }
  | { kind: 'stripe'; side: Side; width: number; margin?: number }
  | { kind: 'text'; text: string; scale?: number; at?: Placement; margin?: number };

/** A number (in the images' value range), or each image's own max / min (per channel). */
export type Intensity = number | 'image-max' | 'image-min';

export interface ShortcutOptions {
  /** The artifact of each class label; classes not listed stay clean. */
  perClass: Readonly<Record<number, ArtifactSpec | null | undefined>>;
  /** Probability that an image of a listed class is marked (a number, or one per class; default 1). */
  probability?: number | Readonly<Record<number, number>>;
  /** Default 'image-max' (white). */
  intensity?: Intensity;
  /** Seed of the marking draws (default 0), or an Rng. */
  seed?: number | Rng;
}

export interface ShortcutResult {
  /** `[N,C,H,W]` with the artifacts drawn. */
  images: Tensor;
  /** `[N,H,W]` uint8: 1 on artifact pixels (all zero for unmarked images). */
  mask: Tensor<Uint8Array>;
  /** `[N]`: 1 if the image received its class's artifact. */
  marked: Uint8Array;
}

/** The tutorial's corner squares: pneumonia (1) top-left, normal (0) bottom-right, 8 px per 64 px. */
export function tutorialShortcut(imageSize = 64, sizeAt64 = 8): Record<number, ArtifactSpec> {
  const size = Math.max(1, Math.round((sizeAt64 * imageSize) / 64));
  return { 1: { kind: 'square', size, at: 'top-left' }, 0: { kind: 'square', size, at: 'bottom-right' } };
}

function place(at: Placement, margin: number, w: number, h: number, W: number, H: number): [number, number] {
  if (typeof at === 'object') return [Math.round(at.x), Math.round(at.y)];
  const x = at.endsWith('left') ? margin : W - margin - w;
  const y = at.startsWith('top') ? margin : H - margin - h;
  return [x, y];
}

/** The `H×W` 0/1 mask of one artifact (clipped to the image; an artifact entirely outside is an error). */
export function artifactMask(spec: ArtifactSpec, H: number, W: number): Uint8Array {
  const m = new Uint8Array(H * W);
  const margin = Math.max(0, Math.round(spec.margin ?? 0));
  const rect = (x0: number, y0: number, w: number, h: number, bits?: Uint8Array) => {
    for (let y = 0; y < h; y++) {
      const yy = y0 + y;
      if (yy < 0 || yy >= H) continue;
      for (let x = 0; x < w; x++) {
        const xx = x0 + x;
        if (xx >= 0 && xx < W && (!bits || bits[y * w + x])) m[yy * W + xx] = 1;
      }
    }
  };
  if (spec.kind === 'square') {
    const s = Math.round(spec.size);
    if (!(s >= 1)) throw new Error(`shortcut: square size must be ≥ 1, got ${spec.size}`);
    const [x, y] = place(spec.at ?? 'top-left', margin, s, s, W, H);
    rect(x, y, s, s);
  } else if (spec.kind === 'stripe') {
    const t = Math.round(spec.width);
    if (!(t >= 1)) throw new Error(`shortcut: stripe width must be ≥ 1, got ${spec.width}`);
    if (spec.side === 'top') rect(0, margin, W, t);
    else if (spec.side === 'bottom') rect(0, H - margin - t, W, t);
    else if (spec.side === 'left') rect(margin, 0, t, H);
    else rect(W - margin - t, 0, t, H);
  } else {
    const g = renderText(spec.text, spec.scale ?? 1);
    const [x, y] = place(spec.at ?? 'top-left', margin, g.width, g.height, W, H);
    rect(x, y, g.width, g.height, g.bits);
  }
  if (!m.includes(1)) throw new Error(`shortcut: the ${spec.kind} artifact falls outside the ${W}×${H} image`);
  return m;
}

/** Draw each class's artifact on its images (see the module comment). Inputs are not modified. */
/**
 * The artifact of `spec` in a volume D × H × W (a 3-D marker): a square becomes a cube of the same side in the
 * corresponding corner (top-left → voxel (0, 0, 0), bottom-right → the opposite corner), a stripe a slab through
 * every slice; text is 2-D only. Mask [D·H·W], 1 on the marker.
 */
export function artifactMask3d(spec: ArtifactSpec, D: number, H: number, W: number): Uint8Array {
  if (spec.kind === 'text') throw new Error('shortcut: text markers are 2-D; volumes take corner (a cube) or stripe (a slab)');
  const plane = artifactMask(spec, H, W);
  const m = new Uint8Array(D * H * W);
  let z0 = 0;
  let depth = D;
  if (spec.kind === 'square') {
    const s = Math.min(D, Math.round(spec.size));
    const at = spec.at ?? 'top-left';
    const margin = Math.max(0, Math.round(spec.margin ?? 0));
    z0 = typeof at === 'object' ? 0 : at.startsWith('top') ? margin : D - margin - s;
    depth = s;
  }
  for (let z = Math.max(0, z0); z < Math.min(D, z0 + depth); z++) m.set(plane, z * H * W);
  return m;
}

export function injectShortcut(images: Tensor, labels: ArrayLike<number>, opts: ShortcutOptions): ShortcutResult {
  if (images.shape.length !== 4 && images.shape.length !== 5) throw new Error(`injectShortcut: expected [N,C,H,W] or [N,C,D,H,W], got [${images.shape.join(',')}]`);
  const volume = images.shape.length === 5;
  const [N, C] = images.shape as [number, number];
  const [D, H, W] = volume ? (images.shape.slice(2) as [number, number, number]) : ([1, ...images.shape.slice(2)] as [number, number, number]);
  if (labels.length !== N) throw new Error(`injectShortcut: ${N} images but ${labels.length} labels`);
  const rng = opts.seed instanceof Rng ? opts.seed : new Rng(opts.seed ?? 0);
  const masks = new Map<number, Uint8Array>();
  for (const [k, spec] of Object.entries(opts.perClass)) if (spec) masks.set(Number(k), volume ? artifactMask3d(spec, D, H, W) : artifactMask(spec, H, W));
  const probs = new Map<number, number>();
  for (const k of masks.keys()) {
    const p = typeof opts.probability === 'number' ? opts.probability : opts.probability?.[k] ?? 1;
    if (!(p >= 0 && p <= 1)) throw new Error(`injectShortcut: probability for class ${k} must be in [0,1], got ${p}`);
    probs.set(k, p);
  }
  const onPixels = new Map([...masks.values()].map((m) => [m, Int32Array.from([...m.keys()].filter((p) => m[p]))]));
  const intensity = opts.intensity ?? 'image-max';
  const P = D * H * W;
  const out = images.data.slice();
  const mask = new Uint8Array(N * P);
  const marked = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    const u = rng.next(); // one draw per image, marked or not: the stream does not depend on the labels
    const m = masks.get(labels[i]!);
    if (!m || !(u < probs.get(labels[i]!)!)) continue;
    marked[i] = 1;
    mask.set(m, i * P);
    const on = onPixels.get(m)!;
    for (let c = 0; c < C; c++) {
      // 'image-max' / 'image-min' per channel: white (black) in every channel, also after a per-channel
      // normalisation (ImageNet mean/std), so a marker drawn before or after scaling is the same marker.
      const ch = out.subarray((i * C + c) * P, (i * C + c + 1) * P);
      let v: number;
      if (typeof intensity === 'number') v = intensity;
      else if (intensity === 'image-max') {
        v = -Infinity;
        for (let j = 0; j < P; j++) if (ch[j]! > v) v = ch[j]!;
      } else {
        v = Infinity;
        for (let j = 0; j < P; j++) if (ch[j]! < v) v = ch[j]!;
      }
      for (let j = 0; j < on.length; j++) ch[on[j]!] = v;
    }
  }
  return { images: new Tensor(out, images.shape), mask: new Tensor(mask, volume ? [N, D, H, W] : [N, H, W]), marked };
}

/** {@link injectShortcut} on a single-label dataset: the marked dataset plus mask and marks. */
export function injectShortcutDataset<D extends ImageDataset>(ds: D, opts: ShortcutOptions): { dataset: D; mask: Tensor<Uint8Array>; marked: Uint8Array } {
  if (ds.task !== 'single') throw new Error(`${ds.source}: shortcut injection needs single-label data`);
  const r = injectShortcut(ds.images, ds.labels, opts);
  const dataset = { ...withImages(ds, r.images), source: `${ds.source} [shortcut]` };
  return { dataset, mask: r.mask, marked: r.marked };
}

/**
 * Undo the artifact: pixels under `mask` (`[N,H,W]`, or `[N,D,H,W]` for volumes) take the value from `original` (`[N,C,H,W]` / `[N,C,D,H,W]`),
 * or a constant fill when the original is unknown. Other pixels are copied unchanged.
 */
export function removeArtifact(images: Tensor, mask: Tensor<Uint8Array>, original: Tensor | number): Tensor {
  const [N, C, ...spatial] = images.shape as number[];
  if (mask.shape.join() !== [N, ...spatial].join()) throw new Error(`removeArtifact: mask [${mask.shape.join(',')}] does not match images [${images.shape.join(',')}]`);
  if (typeof original !== 'number' && original.shape.join() !== images.shape.join()) {
    throw new Error(`removeArtifact: original [${original.shape.join(',')}] does not match images [${images.shape.join(',')}]`);
  }
  const P = spatial.reduce((x, y) => x * y, 1);
  const out = images.data.slice();
  for (let i = 0; i < N!; i++) {
    for (let p = 0; p < P; p++) {
      if (!mask.data[i * P + p]) continue;
      for (let c = 0; c < C!; c++) {
        const j = (i * C + c) * P + p;
        out[j] = typeof original === 'number' ? original : original.data[j]!;
      }
    }
  }
  return new Tensor(out, images.shape);
}

/**
 * Parse a command-line shortcut spec into per-class artifacts (class 1 / class 0):
 * `corner[:size]` (tutorial squares, size at 64 px scaled to `imageSize`), `stripe[:width]`
 * (left / right border), `text[:TEXT[:scale]]` (TEXT top-left / bottom-right; default "L");
 * a suffix `@p` sets the marking probability, e.g. `corner:8@0.9`.
 */
export function parseShortcut(spec: string, imageSize = 64): { perClass: Record<number, ArtifactSpec>; probability: number } {
  const [body, pStr] = spec.split('@') as [string, string | undefined];
  const probability = pStr === undefined ? 1 : Number(pStr);
  if (!(probability >= 0 && probability <= 1)) throw new Error(`shortcut '${spec}': probability must be in [0,1]`);
  const [kind, a, b] = body.split(':');
  const num = (s: string | undefined, d: number) => {
    if (s === undefined || s === '') return d;
    const v = Number(s);
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`shortcut '${spec}': '${s}' is not a positive integer`);
    return v;
  };
  if (kind === 'corner' || kind === 'square') return { perClass: tutorialShortcut(imageSize, num(a, 8)), probability };
  if (kind === 'stripe') {
    const width = num(a, Math.max(1, Math.round(imageSize / 32)));
    return { perClass: { 1: { kind: 'stripe', side: 'left', width }, 0: { kind: 'stripe', side: 'right', width } }, probability };
  }
  if (kind === 'text') {
    const text = a || 'L';
    const scale = num(b, Math.max(1, Math.round(imageSize / 64)));
    const margin = scale;
    return { perClass: { 1: { kind: 'text', text, scale, at: 'top-left', margin }, 0: { kind: 'text', text, scale, at: 'bottom-right', margin } }, probability };
  }
  throw new Error(`shortcut '${spec}': unknown kind '${kind}' (expected corner, stripe or text)`);
}
