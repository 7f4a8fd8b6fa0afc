/**
 * Gaussian blur with scipy.ndimage.gaussian_filter's semantics (per channel, over the 2 or 3 spatial axes): a sampled,
 * normalised kernel exp(−x²/2σ²) of radius ⌊truncate·σ + 0.5⌋ (truncate 4), applied along rows
 * then columns with 'reflect' (half-sample symmetric) boundaries. Used as the blurred-image
 * baseline of deletion/insertion (Petsiuk et al. 2018 blur the image for insertion).
 */
import { separableFilter } from '../tensor/separable.js';

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
  return gaussianBlurNd(data, planes, [h, w], sigma, truncate);
}

/**
 * Blur every plane or volume of extent `spatial` (any rank; scipy.ndimage.gaussian_filter over the
 * spatial axes, first axis first). Returns float64.
 */
export function gaussianBlurNd(data: ArrayLike<number>, planes: number, spatial: readonly number[], sigma: number, truncate = 4): Float64Array {
  return separableFilter(data, planes, spatial, gaussianKernel(sigma, truncate), spatial.map((_, a) => a));
}
