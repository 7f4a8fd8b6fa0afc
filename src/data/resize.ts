/**
 * Bilinear resize with half-pixel centres, antialiased when downsampling.
 *
 * The method is Pillow's `Image.resize(..., BILINEAR)` (also torchvision's `antialias=True`, which ports
 * Pillow's kernels): a separable filter, horizontal pass then vertical. Output pixel i on an axis of
 * input length n and output length m sits at the input coordinate c = (i + 0.5)·s with s = n/m
 * (pixel j's centre is at j + 0.5: "half-pixel centres", torch's `align_corners=False`). Its weights are
 * the triangle filter t(x) = max(0, 1 − |x|) evaluated at (j + 0.5 − c)/f with f = max(s, 1), over the
 * input pixels within f of c, normalised to sum to 1 (taps past the border are dropped, not clamped).
 *
 * Why this filter: for upsampling (f = 1) it is exactly bilinear interpolation between the two
 * nearest pixel centres, with the border pixel's value held beyond the outermost centres (the same as
 * PyTorch's `F.interpolate(mode='bilinear', align_corners=False)`). For downsampling, plain bilinear
 * reads only 2 of every s input pixels, so a fine pattern (noise, text, a thin stripe artifact) aliases
 * and the result depends on where the samples happen to land; widening the triangle by the scale makes
 * every input pixel contribute (area weighting), which is what an image library, and hence a model
 * trained on its output, would have seen. Both keep constants exactly. Linear ramps are kept exactly
 * away from the border when upsampling and for integer reduction factors; for other reductions the
 * sampled triangle is slightly asymmetric, a bias of a few hundredths of a pixel (Pillow's too). `antialias: false` gives plain bilinear (f = 1) for
 * matching `F.interpolate` without antialiasing.
 */
import { Tensor } from '../tensor/tensor.js';

export interface ResizeOptions {
  /** Widen the filter when downsampling (default true). */
  antialias?: boolean;
}

interface Coeffs {
  /** first input index per output index */
  start: Int32Array;
  /** number of taps per output index */
  count: Int32Array;
  /** weights, `stride` per output index */
  weights: Float64Array;
  stride: number;
}

/** Filter taps for one axis (exported for tests and for the transposed map of `Resize` gradients). */
export function resizeCoefficients(inSize: number, outSize: number, antialias = true): Coeffs {
  if (!(Number.isInteger(inSize) && inSize > 0 && Number.isInteger(outSize) && outSize > 0)) {
    throw new Error(`resize: sizes must be positive integers, got ${inSize} → ${outSize}`);
  }
  const scale = inSize / outSize;
  const fscale = antialias ? Math.max(scale, 1) : 1;
  const support = fscale; // triangle support 1, widened by the scale
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    let sum = 0;
    for (let j = lo; j < hi; j++) {
      const x = Math.abs((j - center + 0.5) / fscale);
      const w = x < 1 ? 1 - x : 0;
      weights[i * stride + (j - lo)] = w;
      sum += w;
    }
    if (sum !== 0) for (let j = 0; j < hi - lo; j++) weights[i * stride + j]! /= sum;
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, weights, stride };
}

/**
 * Resize the last two axes of a `[H,W]`, `[C,H,W]` or `[N,C,H,W]` float tensor to `size = [H', W']`
 * (a number means a square). Returns a new tensor; an axis already at its size is copied unchanged.
 */
export function resize(t: Tensor, size: number | readonly [number, number], opts: ResizeOptions = {}): Tensor {
  const [outH, outW] = typeof size === 'number' ? [size, size] : size;
  const shape = t.shape;
  if (shape.length < 2) throw new Error(`resize: expected at least 2 dimensions, got [${shape.join(',')}]`);
  const H = shape[shape.length - 2]!;
  const W = shape[shape.length - 1]!;
  const planes = t.size / (H * W);
  const aa = opts.antialias ?? true;
  let cur = t.data;
  let curW = W;
  if (outW !== W) {
    const k = resizeCoefficients(W, outW, aa);
    const out = new Float32Array(planes * H * outW);
    for (let r = 0; r < planes * H; r++) {
      const ib = r * W;
      const ob = r * outW;
      for (let x = 0; x < outW; x++) {
        const s = k.start[x]!;
        const c = k.count[x]!;
        const wb = x * k.stride;
        let acc = 0;
        for (let j = 0; j < c; j++) acc += cur[ib + s + j]! * k.weights[wb + j]!;
        out[ob + x] = acc;
      }
    }
    cur = out;
    curW = outW;
  }
  if (outH !== H) {
    const k = resizeCoefficients(H, outH, aa);
    const out = new Float32Array(planes * outH * curW);
    for (let p = 0; p < planes; p++) {
      const ib = p * H * curW;
      const ob = p * outH * curW;
      for (let y = 0; y < outH; y++) {
        const s = k.start[y]!;
        const c = k.count[y]!;
        const wb = y * k.stride;
        const orow = ob + y * curW;
        const irow = ib + s * curW;
        for (let x = 0; x < curW; x++) {
          let acc = 0;
          for (let j = 0; j < c; j++) acc += cur[irow + j * curW + x]! * k.weights[wb + j]!;
          out[orow + x] = acc;
        }
      }
    }
    cur = out;
  }
  if (cur === t.data) cur = t.data.slice();
  return new Tensor(cur, [...shape.slice(0, -2), outH, outW]);
}
