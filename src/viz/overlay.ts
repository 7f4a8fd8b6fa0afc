/**
 * Overlays: an image blended with a colormapped attribution map (DESIGN.md §3: normalisation is a
 * display step only; the raw maps are stored separately).
 *
 *   display values m' in [0,1]: src/viz/display-scale.ts (min–max or symmetric about 0, with Captum's
 *   outlier threshold: the largest values holding the last 1 % of the attribution mass saturate)
 *   overlay = (1 − α)·image + α·colormap(m'),  α = opacity of the map (default 0.5)
 *
 * Images are [C,H,W] (or [H,W]) floats in [0,1], C = 1 (grayscale, repeated) or 3 (RGB); the result
 * is RGB [3,H,W] in [0,1], ready for `encodePng`.
 */
import { Tensor } from '../tensor/tensor.js';
import { encodePng } from '../io/image.js';
import { type Colormap, DEFAULT_DIVERGING, DEFAULT_SEQUENTIAL, applyColormap, getColormap } from './colormap.js';
import { DEFAULT_CLIP, normalizeWith, rangeOf, type DisplayRange } from './display-scale.js';

export interface OverlayOptions {
  /** Colormap for unsigned maps (default 'jet'). */
  colormap?: string;
  /** Colormap for signed maps (default 'rdbu_r'). */
  divergingColormap?: string;
  /** Opacity of the map, 0 (image only) … 1 (map only); default 0.5. */
  alpha?: number;
  /** Whether the map is signed (symmetric normalisation, diverging colormap). Default false. */
  signed?: boolean;
  /** Percent of the attribution mass below saturation (src/viz/display-scale.ts; default 99, Captum's 98, 100 = max). */
  clip?: number;
  /** A range shared with other maps (--normalize shared); default the map's own. */
  range?: DisplayRange;
}

/** Display normalisation of one map to [0,1] on its own range (src/viz/display-scale.ts). */
export function normalizeForDisplay(map: ArrayLike<number>, signed: boolean, clip = DEFAULT_CLIP): Float32Array {
  return normalizeWith(map, rangeOf([map], signed, clip));
}

/** Image [C,H,W] / [1,C,H,W] / [H,W] → its height, width and planar RGB (gray repeated). */
export function imageToRgb(image: Tensor): { h: number; w: number; rgb: Float32Array } {
  let s = [...image.shape];
  if (s.length === 4 && s[0] === 1) s = s.slice(1);
  if (s.length === 2) s = [1, ...s];
  if (s.length !== 3 || (s[0] !== 1 && s[0] !== 3)) {
    throw new Error(`overlay: image must be [H,W], [1,H,W] or [3,H,W] (grayscale or RGB), got [${image.shape}]`);
  }
  const [c, h, w] = s as [number, number, number];
  const n = h * w;
  const rgb = new Float32Array(3 * n);
  for (let k = 0; k < 3; k++) for (let p = 0; p < n; p++) rgb[k * n + p] = image.data[(c === 1 ? 0 : k) * n + p]!;
  return { h, w, rgb };
}

/**
 * An image for display: scaled from `range` (e.g. [−1, 1] for the bundled models' inputs) to [0,1],
 * or min–max per image when no range is given; clamped to [0,1].
 */
export function displayImage(image: Tensor, range?: readonly [number, number]): Tensor {
  let lo: number;
  let hi: number;
  if (range) [lo, hi] = range;
  else {
    lo = Infinity;
    hi = -Infinity;
    for (const v of image.data) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const d = hi - lo;
  const out = new Float32Array(image.size);
  for (let i = 0; i < out.length; i++) out[i] = d > 0 ? Math.min(1, Math.max(0, (image.data[i]! - lo) / d)) : 0;
  return new Tensor(out, image.shape);
}

/** The colormap an overlay of a map uses. */
export function overlayColormap(opts: OverlayOptions = {}): Colormap {
  return getColormap(opts.signed ? (opts.divergingColormap ?? DEFAULT_DIVERGING) : (opts.colormap ?? DEFAULT_SEQUENTIAL));
}

/** Map [H,W] (or [1,H,W]) → normalised and colormapped RGB [3,H,W] (no image). */
export function colorizeMap(map: Tensor, opts: OverlayOptions = {}): Tensor {
  const [h, w] = mapSize(map);
  return new Tensor(applyColormap(opts.range ? normalizeWith(map.data, opts.range) : normalizeForDisplay(map.data, !!opts.signed, opts.clip), overlayColormap(opts)), [3, h, w]);
}

function mapSize(map: Tensor): [number, number] {
  const s = map.shape.length === 3 && map.shape[0] === 1 ? map.shape.slice(1) : map.shape;
  if (s.length !== 2) throw new Error(`overlay: map must be [H,W] or [1,H,W], got [${map.shape}]`);
  return [s[0]!, s[1]!];
}

/** Blend `image` with the colormapped `map`: (1 − α)·image + α·colormap(normalised map). RGB [3,H,W]. */
export function overlay(image: Tensor, map: Tensor, opts: OverlayOptions = {}): Tensor {
  const alpha = opts.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`overlay: alpha must be in [0, 1], got ${alpha}`);
  const { h, w, rgb } = imageToRgb(image);
  const [mh, mw] = mapSize(map);
  if (mh !== h || mw !== w) throw new Error(`overlay: map is ${mh}×${mw} but the image is ${h}×${w}`);
  const heat = colorizeMap(map, opts).data;
  const out = new Float32Array(3 * h * w);
  for (let i = 0; i < out.length; i++) out[i] = (1 - alpha) * rgb[i]! + alpha * heat[i]!;
  return new Tensor(out, [3, h, w]);
}

/** Planar RGB [3,h,w] upscaled by an integer factor, nearest neighbour (each pixel a factor×factor block). */
export function upscaleNearest(rgb: Tensor, factor: number): Tensor {
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`upscale: the factor must be a positive integer, got ${factor}`);
  if (factor === 1) return rgb;
  const [c, h, w] = rgb.shape as [number, number, number];
  const H = h * factor;
  const W = w * factor;
  const out = new Float32Array(c * H * W);
  for (let k = 0; k < c; k++) {
    for (let y = 0; y < H; y++) {
      const src = k * h * w + Math.floor(y / factor) * w;
      const dst = k * H * W + y * W;
      for (let x = 0; x < W; x++) out[dst + x] = rgb.data[src + Math.floor(x / factor)]!;
    }
  }
  return new Tensor(out, [c, H, W]);
}

/** `overlay` encoded as an 8-bit RGB PNG, upscaled (nearest) so that it is at least `minSize` pixels wide. */
export function overlayPng(image: Tensor, map: Tensor, opts: OverlayOptions & { minSize?: number } = {}): Uint8Array {
  const o = overlay(image, map, opts);
  const w = o.shape[2]!;
  return encodePng(upscaleNearest(o, Math.max(1, Math.ceil((opts.minSize ?? w) / w))));
}
