/**
 * Gaussian blur with scipy.ndimage.gaussian_filter's semantics (per channel, 2-D): a sampled,
 * normalised kernel exp(−x²/2σ²) of radius ⌊truncate·σ + 0.5⌋ (truncate 4), applied along rows
 * then columns with 'reflect' (half-sample symmetric) boundaries. Used as the blurred-image
 * baseline of deletion/insertion (Petsiuk et al. 2018 blur the image for insertion).
 */
import { reflectIndex } from './ssim.js';

export function gaussianKernel(sigma: number, truncate = 4): Float64Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`gaussianBlur: sigma must be a positive number, got ${sigma}`);
  const r = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp((-0.5 * i * i) / (sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= s;
  return k;
}

/** Blur every [h,w] plane of `data` (planes stored one after another). Returns float64. */
export function gaussianBlur(data: ArrayLike<number>, planes: number, h: number, w: number, sigma: number, truncate = 4): Float64Array {
  if (data.length !== planes * h * w) throw new Error(`gaussianBlur: data has ${data.length} values, expected ${planes}×${h}×${w}`);
  const k = gaussianKernel(sigma, truncate);
  const r = (k.length - 1) / 2;
  const hw = h * w;
  const out = new Float64Array(planes * hw);
  const tmp = new Float64Array(hw);
  for (let p = 0; p < planes; p++) {
    const base = p * hw;
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
      let s = 0;
      for (let t = -r; t <= r; t++) s += k[t + r]! * data[base + reflectIndex(i + t, h) * w + j]!;
      tmp[i * w + j] = s;
    }
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
      let s = 0;
      for (let t = -r; t <= r; t++) s += k[t + r]! * tmp[i * w + reflectIndex(j + t, w)]!;
      out[base + i * w + j] = s;
    }
  }
  return out;
}
