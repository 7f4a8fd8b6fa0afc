/**
 * Structural similarity (Wang et al. 2004) as scikit-image 0.19 computes it with its defaults
 * (`skimage.metrics.structural_similarity(a, b, data_range=R)`): a 7×7 uniform window
 * (scipy.ndimage.uniform_filter, mode 'reflect' = half-sample symmetric), K1 = 0.01, K2 = 0.03,
 * sample covariance (× NP/(NP − 1), NP = 49), and the mean over the image with a border of
 * (7 − 1)/2 = 3 pixels cropped:
 *
 *   μx, μy, σx², σy², σxy   local (windowed) means, variances and covariance
 *   C1 = (K1·R)², C2 = (K2·R)²
 *   SSIM = mean_crop[ (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)) ]
 *
 * Computed in float64 (skimage computes float32 inputs in float32; pass float64 there to compare).
 */

import { reflectIndex, separableFilter } from '../tensor/separable.js';

export { reflectIndex };

export interface SsimOptions {
  /** Dynamic range R of the images (max − min possible value). Required. */
  dataRange: number;
  /** Odd window side (default 7, skimage's default). */
  winSize?: number;
  k1?: number;
  k2?: number;
}

/** Mean SSIM of two [h,w] images given as flat row-major arrays ({@link ssimNd} with two axes). */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number, options: SsimOptions): number {
  return ssimNd(a, b, [h, w], options);
}

/**
 * Mean SSIM of two images or volumes of any rank (`spatial`, C order), as scikit-image computes it for n-D
 * arrays: a win^ndim uniform window (scipy.ndimage.uniform_filter over every axis, 'reflect', as a separable box
 * filter), sample covariance with NP = win^ndim, and the mean over the array with (win − 1)/2 cropped on every axis.
 */
export function ssimNd(a: ArrayLike<number>, b: ArrayLike<number>, spatial: readonly number[], options: SsimOptions): number {
  const win = options.winSize ?? 7;
  const { dataRange } = options;
  const n = spatial.reduce((x, y) => x * y, 1);
  if (a.length !== n || b.length !== n) throw new Error(`ssim: arrays must have ${spatial.join('×')} = ${n} values, got ${a.length} and ${b.length}`);
  if (!Number.isInteger(win) || win < 3 || win % 2 !== 1) throw new Error(`ssim: winSize must be an odd integer ≥ 3, got ${win}`);
  if (spatial.some((d) => d < win)) throw new Error(`ssim: winSize ${win} exceeds the extent ${spatial.join('×')}`);
  if (!(dataRange > 0) || !Number.isFinite(dataRange)) throw new Error(`ssim: dataRange must be a positive number, got ${dataRange}`);
  const box = new Float64Array(win).fill(1 / win);
  const axes = spatial.map((_, i) => i);
  const filt = (v: ArrayLike<number>) => separableFilter(v, 1, spatial, box, axes);
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    aa[i] = a[i]! * a[i]!;
    bb[i] = b[i]! * b[i]!;
    ab[i] = a[i]! * b[i]!;
  }
  const [ux, uy, uxx, uyy, uxy] = [filt(a), filt(b), filt(aa), filt(bb), filt(ab)];
  const np = win ** spatial.length;
  const covNorm = np / (np - 1);
  const c1 = ((options.k1 ?? 0.01) * dataRange) ** 2;
  const c2 = ((options.k2 ?? 0.03) * dataRange) ** 2;
  const pad = (win - 1) / 2;
  let sum = 0;
  let count = 0;
  const idx = new Array<number>(spatial.length).fill(0);
  for (let p = 0; p < n; p++) {
    if (idx.every((v, k) => v >= pad && v < spatial[k]! - pad)) {
      const mx = ux[p]!;
      const my = uy[p]!;
      const vx = covNorm * (uxx[p]! - mx * mx);
      const vy = covNorm * (uyy[p]! - my * my);
      const vxy = covNorm * (uxy[p]! - mx * my);
      sum += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      count++;
    }
    for (let k = spatial.length - 1; k >= 0; k--) {
      if (++idx[k]! < spatial[k]!) break;
      idx[k] = 0;
    }
  }
  return sum / count;
}
