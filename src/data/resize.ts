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
 * (a number means a square) — or the last three axes to `size = [D', H', W']` (trilinear: the same
 * filter along the depth axis too, = `F.interpolate(mode='trilinear', align_corners=False)` without
 * antialiasing). Axes are resized last first (W, then H, then D). Returns a new tensor; an axis
 * already at its size is copied unchanged.
 */
export function resize(t: Tensor, size: number | readonly number[], opts: ResizeOptions = {}): Tensor {
  const out = typeof size === 'number' ? [size, size] : [...size];
  const shape = t.shape;
  const r = out.length;
  if (r < 1) throw new Error('resize: no output size given');
  if (shape.length < r) throw new Error(`resize: expected at least ${r} dimensions, got [${shape.join(',')}]`);
  const aa = opts.antialias ?? true;
  const cur = [...shape];
  let data: Float32Array = t.data as Float32Array;
  for (let axis = shape.length - 1; axis >= shape.length - r; axis--) {
    const want = out[axis - (shape.length - r)]!;
    if (want === cur[axis]) continue;
    data = resizeAxis(data, cur, axis, want, aa);
    cur[axis] = want;
  }
  if (data === t.data) data = (t.data as Float32Array).slice();
  return new Tensor(data, cur);
}

/** One axis of a C-order array of extent `shape` resized to `outLen`. */
function resizeAxis(src: Float32Array, shape: readonly number[], axis: number, outLen: number, aa: boolean): Float32Array {
  const len = shape[axis]!;
  let inner = 1;
  for (let a = axis + 1; a < shape.length; a++) inner *= shape[a]!;
  let outer = 1;
  for (let a = 0; a < axis; a++) outer *= shape[a]!;
  const k = resizeCoefficients(len, outLen, aa);
  const dst = new Float32Array(outer * outLen * inner);
  for (let o = 0; o < outer; o++) {
    const ib = o * len * inner;
    const ob = o * outLen * inner;
    for (let y = 0; y < outLen; y++) {
      const s = k.start[y]!;
      const c = k.count[y]!;
      const wb = y * k.stride;
      const orow = ob + y * inner;
      const irow = ib + s * inner;
      for (let x = 0; x < inner; x++) {
        let acc = 0;
        for (let j = 0; j < c; j++) acc += src[irow + j * inner + x]! * k.weights[wb + j]!;
        dst[orow + x] = acc;
      }
    }
  }
  return dst;
}
