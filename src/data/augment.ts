/**
 * Seeded augmentation of `[N,C,H,W]` batches: horizontal flip, small rotation (bilinear sampling) and
 * random crop with padding (torchvision's `RandomCrop(size, padding)`: pad, then cut a window at a
 * random offset; here done as a shift by (dx, dy) ∈ [−p, p]², the same thing).
 *
 * Every image draws the same four numbers from the `Rng`, in order (flip, angle, dx, dy), whatever
 * is enabled, so the output is a function of the seed and the batch alone. To vary augmentation by
 * epoch, pass `rng.fork(epoch)`.
 *
 * Rotation: positive angles turn the image counter-clockwise as displayed (torchvision's convention),
 * about the image centre ((W−1)/2, (H−1)/2 in pixel indices). Output pixel p samples the input at
 * c + R(−θ)(p − c) bilinearly; neighbours outside the image read `fill` (so edges blend into the
 * fill, like `grid_sample` with zero padding / scipy's 'grid-constant').
 */
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';

export interface AugmentOptions {
  /** Probability of a horizontal flip (default 0.5; 0 disables). */
  flip?: number;
  /** Maximum rotation in degrees; the angle is uniform in [−r, r] (default 0: none). */
  rotate?: number;
  /** Padding of the random crop in pixels (default 0: none). */
  cropPadding?: number;
  /** Value read outside the image by rotation and crop (default 0). */
  fill?: number;
}

/** What was done to each image (for tests and for applying the same geometry to masks). */
export interface AugmentRecord {
  flipped: Uint8Array;
  angles: Float32Array;
  dx: Int32Array;
  dy: Int32Array;
}

function shape4(t: Tensor): [number, number, number, number] {
  if (t.shape.length !== 4) throw new Error(`augment: expected [N,C,H,W], got [${t.shape.join(',')}]`);
  return t.shape as unknown as [number, number, number, number];
}

/** Flip one plane horizontally, src → dst. */
function flipPlane(src: Float32Array, dst: Float32Array, H: number, W: number): void {
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) dst[y * W + x] = src[y * W + (W - 1 - x)]!;
}

/** Rotate one plane by `deg` (counter-clockwise), bilinear, `fill` outside. */
export function rotatePlane(src: Float32Array, dst: Float32Array, H: number, W: number, deg: number, fill = 0): void {
  const th = (deg * Math.PI) / 180;
  const cos = Math.cos(th);
  const sin = Math.sin(th);
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  const at = (yy: number, xx: number) => (yy >= 0 && yy < H && xx >= 0 && xx < W ? src[yy * W + xx]! : fill);
  for (let y = 0; y < H; y++) {
    const dy = y - cy;
    for (let x = 0; x < W; x++) {
      const dx = x - cx;
      const sx = cx + dx * cos - dy * sin;
      const sy = cy + dx * sin + dy * cos;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H) {
        const i = y0 * W + x0;
        dst[y * W + x] = (1 - fy) * ((1 - fx) * src[i]! + fx * src[i + 1]!) + fy * ((1 - fx) * src[i + W]! + fx * src[i + W + 1]!);
      } else {
        dst[y * W + x] =
          (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
      }
    }
  }
}

/** Shift one plane by (dx, dy) (content moves right/down for positive values), `fill` where uncovered. */
function shiftPlane(src: Float32Array, dst: Float32Array, H: number, W: number, dx: number, dy: number, fill: number): void {
  for (let y = 0; y < H; y++) {
    const sy = y - dy;
    for (let x = 0; x < W; x++) {
      const sx = x - dx;
      dst[y * W + x] = sy >= 0 && sy < H && sx >= 0 && sx < W ? src[sy * W + sx]! : fill;
    }
  }
}

/** Rotate every image of a batch by `deg` degrees (deterministic). */
export function rotate(t: Tensor, deg: number, fill = 0): Tensor {
  const [N, C, H, W] = shape4(t);
  const P = H * W;
  const out = new Float32Array(t.size);
  for (let i = 0; i < N * C; i++) rotatePlane(t.data.subarray(i * P, (i + 1) * P), out.subarray(i * P, (i + 1) * P), H, W, deg, fill);
  return new Tensor(out, t.shape);
}

/** Flip every image of a batch horizontally. */
export function hflip(t: Tensor): Tensor {
  const [N, C, H, W] = shape4(t);
  const P = H * W;
  const out = new Float32Array(t.size);
  for (let i = 0; i < N * C; i++) flipPlane(t.data.subarray(i * P, (i + 1) * P), out.subarray(i * P, (i + 1) * P), H, W);
  return new Tensor(out, t.shape);
}

/** Seeded random augmentation of a batch; returns the new batch and what was applied to each image. */
export function augment(t: Tensor, rng: Rng, opts: AugmentOptions = {}): { images: Tensor; applied: AugmentRecord } {
  const [N, C, H, W] = shape4(t);
  const pFlip = opts.flip ?? 0.5;
  const maxDeg = opts.rotate ?? 0;
  const pad = Math.floor(opts.cropPadding ?? 0);
  const fill = opts.fill ?? 0;
  const P = H * W;
  const out = new Float32Array(t.size);
  const a = new Float32Array(P);
  const b = new Float32Array(P);
  const applied: AugmentRecord = { flipped: new Uint8Array(N), angles: new Float32Array(N), dx: new Int32Array(N), dy: new Int32Array(N) };
  for (let n = 0; n < N; n++) {
    const flip = rng.next() < pFlip;
    const deg = rng.uniform(-maxDeg, maxDeg);
    const dx = rng.int(2 * pad + 1) - pad;
    const dy = rng.int(2 * pad + 1) - pad;
    applied.flipped[n] = flip ? 1 : 0;
    applied.angles[n] = maxDeg ? deg : 0;
    applied.dx[n] = dx;
    applied.dy[n] = dy;
    for (let c = 0; c < C; c++) {
      const off = (n * C + c) * P;
      let cur = t.data.subarray(off, off + P);
      if (flip) { flipPlane(cur, a, H, W); cur = a; }
      if (maxDeg) { const dst = cur === a ? b : a; rotatePlane(cur, dst, H, W, deg, fill); cur = dst; }
      if (dx || dy) { const dst = cur === a ? b : a; shiftPlane(cur, dst, H, W, dx, dy, fill); cur = dst; }
      out.set(cur, off);
    }
  }
  return { images: new Tensor(out, t.shape), applied };
}
