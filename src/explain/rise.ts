/**
 * RISE (Petsiuk, Das & Saenko 2018), as the authors' `explanations.py`:
 *
 *   S_t(x) = (1 / (N·p)) Σ_i f_t(x ⊙ M_i) · M_i
 *
 * over N = `masks` random masks M_i [H,W] (shared by all images, broadcast over channels), each made by
 *   1. a binary grid G_i of s × s cells (`cells`, default 8), each cell 1 with probability p (default 0.5);
 *   2. upsampled bilinearly to (s+1)·⌈H/s⌉ × (s+1)·⌈W/s⌉ (`skimage.transform.resize(order=1,
 *      mode='reflect', anti_aliasing=False)`: half-pixel centres, mirror reflection at the border);
 *   3. cropped at a random shift (dy, dx) ∈ [0, ⌈H/s⌉) × [0, ⌈W/s⌉) to H × W.
 * Volumes [D,H,W] take the same steps in 3-D (candor's extension; the authors' code is 2-D): s × s × s
 * grids, trilinear upsampling (skimage's resize on a 3-D array, same options), a shift per axis.
 * f_t is the softmax probability of the target (`score: 'probability'`, the authors' model ends in a
 * softmax) or the raw logit (`score: 'logit'`, signed). Non-negative for probabilities; the map is S.
 *
 * Batching: the N·(images) masked inputs are built in chunks of ≈ 8M floats and run in batches of
 * `batchSize` (default 256); masks are regenerated per chunk from their grids and shifts, so memory
 * stays bounded for thousands of masks. Seeded (`seed`, default 0).
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, batchLayout } from './types.js';
import { targetsOf } from './saliency.js';
import { linearAlongAxis } from '../tensor/separable.js';

const CHUNK_FLOATS = 1 << 23;

export interface RiseOptions extends ExplainOptions {
  /** Number of masks N (default 2000; the authors use 4000 at 224×224 with s = 7). */
  masks?: number;
  /** Grid cells per side s (default 8). */
  cells?: number;
  /** Probability of a cell being kept (default 0.5). */
  p?: number;
  score?: 'probability' | 'logit';
  /**
   * Stop early per image when ‖SE of the mean map‖₂ ≤ tolerance·‖mean map − its average‖₂ (the map's
   * variation, not its offset), in rounds of 250 masks;
   * `masks` is then the cap (default 8000). The map is RISE over the first k masks of that set (extra.masks).
   */
  tolerance?: number;
}

/** Masks as the grids [N·s^r] (0/1) and the crop shifts [N][r] ([dy, dx], or [dz, dy, dx]) they are made from. */
export interface RiseMasks {
  count: number;
  s: number;
  p: number;
  grids: ArrayLike<number>;
  shifts: readonly (readonly number[])[];
}

/** Linear taps of skimage's resize (order 1, mode 'reflect' = mirror about the edge samples) along one axis. */
function mirrorTaps(n: number, N: number): { i0: Int32Array; i1: Int32Array; f: Float64Array } {
  const i0 = new Int32Array(N);
  const i1 = new Int32Array(N);
  const f = new Float64Array(N);
  for (let d = 0; d < N; d++) {
    let u = ((d + 0.5) * n) / N - 0.5;
    if (n === 1) u = 0;
    else {
      const period = 2 * (n - 1);
      u = ((u % period) + period) % period;
      if (u > n - 1) u = period - u;
    }
    const a = Math.min(Math.floor(u), n - 1);
    i0[d] = a;
    i1[d] = Math.min(a + 1, n - 1);
    f[d] = u - a;
  }
  return { i0, i1, f };
}

/**
 * Mask i from its grid (s^r cells) and shift (one per spatial axis), into `out` (the spatial extent,
 * C order): multilinear interpolation done separably, last axis first (for 2-D the same arithmetic as
 * interpolating the top and bottom rows, then between them).
 */
export function riseMask(grid: ArrayLike<number>, s: number, shift: readonly number[], spatial: readonly number[], out: Float32Array): void {
  const r = spatial.length;
  // cur holds the grid interpolated along the axes after `axis`: extent [s, …, s, L_{axis+1}, …, L_r]
  let cur: ArrayLike<number> = grid;
  const ext: number[] = Array(r).fill(s);
  for (let axis = r - 1; axis >= 0; axis--) {
    const L = spatial[axis]!;
    cur = linearAlongAxis(cur, ext, axis, L, mirrorTaps(s, (s + 1) * Math.ceil(L / s)), shift[axis]!);
    ext[axis] = L;
  }
  for (let q = 0; q < out.length; q++) out[q] = cur[q]!;
}

/** Random grids (s^r cells each) and shifts (one per spatial axis), seeded. */
export function randomRiseMasks(count: number, s: number, p: number, spatial: readonly number[], seed: number): RiseMasks {
  const rng = new Rng(seed).fork('rise');
  const cells = s ** spatial.length;
  const grids = new Uint8Array(count * cells);
  for (let i = 0; i < grids.length; i++) grids[i] = rng.next() < p ? 1 : 0;
  const shifts = Array.from({ length: count }, () => spatial.map((L) => rng.int(Math.ceil(L / s))));
  return { count, s, p, grids, shifts };
}

/** RISE saliency [N,...spatial] of the target per image, for given masks. */
export async function riseWithMasks(model: Model, inputs: Tensor, targets: readonly number[], masks: RiseMasks, options: RiseOptions = {}): Promise<Tensor> {
  const { n, spatial, voxels: HW } = batchLayout(inputs.shape);
  const sal = new Float64Array(n * HW);
  await accumulateRise(model, inputs, targets, masks, [0, masks.count], Array.from({ length: n }, (_, i) => i), sal, undefined, options);
  const outMap = new Float32Array(n * HW);
  for (let q = 0; q < outMap.length; q++) outMap[q] = sal[q]! / masks.count / masks.p;
  return new Tensor(outMap, [n, ...spatial]);
}

/**
 * Σ f_i·m_i (and, with `sumSq`, Σ (f_i·m_i)²) over masks `range` for the images `images`, added into the
 * per-image accumulators [N·H·W]. Rows are mask-major, then image, so each mask is built once per chunk.
 */
async function accumulateRise(model: Model, inputs: Tensor, targets: readonly number[], masks: RiseMasks, range: readonly [number, number], images: readonly number[], sum: Float64Array, sumSq: Float64Array | undefined, options: RiseOptions): Promise<void> {
  const { c, spatial, voxels: HW, size } = batchLayout(inputs.shape);
  const K = model.numClasses;
  const bs = options.batchSize ?? 256;
  const score = options.score ?? 'probability';
  const x = inputs.data as Float32Array;
  const { s } = masks;
  const n = images.length;
  const total = (range[1] - range[0]) * n;
  // whole onnxruntime batches per chunk (no short remainder batch inside a chunk)
  const chunk = Math.max(1, Math.min(total, Math.max(bs, Math.floor(CHUNK_FLOATS / size / bs) * bs)));
  const mask = new Float32Array(HW);
  let built = -1;
  const maskOf = (i: number) => {
    if (built !== i) riseMask(sliceGrid(masks.grids, i, s ** spatial.length), s, masks.shifts[i]!, spatial, mask);
    built = i;
    return mask;
  };
  for (let start = 0; start < total; start += chunk) {
    const end = Math.min(total, start + chunk);
    const buf = new Float32Array((end - start) * size);
    for (let r = start; r < end; r++) {
      const mi = range[0] + Math.floor(r / n);
      const img = images[r % n]!;
      const m = maskOf(mi);
      const o = (r - start) * size;
      for (let cc = 0; cc < c; cc++) for (let q = 0; q < HW; q++) buf[o + cc * HW + q] = x[img * size + cc * HW + q]! * m[q]!;
    }
    const out = await model.forward(new Tensor(buf, [end - start, ...inputs.shape.slice(1)]), { batchSize: bs });
    for (let r = start; r < end; r++) {
      const mi = range[0] + Math.floor(r / n);
      const img = images[r % n]!;
      const o = (r - start) * K;
      const t = targets[img]!;
      let f: number;
      if (score === 'logit') f = out.data[o + t]!;
      else {
        let mx = -Infinity;
        for (let j = 0; j < K; j++) mx = Math.max(mx, out.data[o + j]!);
        let z = 0;
        for (let j = 0; j < K; j++) z += Math.exp(out.data[o + j]! - mx);
        f = Math.exp(out.data[o + t]! - mx) / z;
      }
      const m = maskOf(mi);
      for (let q = 0; q < HW; q++) {
        const v = f * m[q]!;
        sum[img * HW + q]! += v;
        if (sumSq) sumSq[img * HW + q]! += v * v;
      }
    }
    options.onProgress?.(end, total);
  }
}

/** Masks per round of the early-stopping mode (and the fewest it takes). */
const RISE_ROUND = 250;

/**
 * The early-stopping mode: masks drawn for the cap, used in rounds of RISE_ROUND; an image stops when
 * ‖SE of its mean map‖₂ ≤ tol·‖mean map − its average‖₂. Its map is RISE over the first k masks of the cap's set.
 */
async function riseUntilConverged(model: Model, inputs: Tensor, targets: readonly number[], masks: RiseMasks, tol: number, options: RiseOptions): Promise<{ map: Tensor; used: number[]; relativeSE: number[] }> {
  if (!(tol > 0 && Number.isFinite(tol))) throw new Error(`rise: tolerance must be a positive number, got ${tol}`);
  const { n, spatial, voxels: HW } = batchLayout(inputs.shape);
  const sum = new Float64Array(n * HW);
  const sq = new Float64Array(n * HW);
  const used = new Array<number>(n).fill(0);
  const rel = new Array<number>(n).fill(Infinity);
  let active = Array.from({ length: n }, (_, i) => i);
  for (let at = 0; at < masks.count && active.length; at += RISE_ROUND) {
    const to = Math.min(masks.count, at + RISE_ROUND);
    await accumulateRise(model, inputs, targets, masks, [at, to], active, sum, sq, options);
    for (const i of active) {
      used[i] = to;
      // SE relative to the map's variation around its own mean (RISE maps sit on a large offset, p·f̄, that
      // says nothing about where the evidence is: relative to the raw norm the SE looks small too early).
      let se2 = 0;
      let avg = 0;
      for (let q = i * HW; q < (i + 1) * HW; q++) {
        const mean = sum[q]! / to;
        se2 += Math.max(0, sq[q]! / to - mean * mean) / (to - 1);
        avg += mean / HW;
      }
      let spread2 = 0;
      for (let q = i * HW; q < (i + 1) * HW; q++) spread2 += (sum[q]! / to - avg) ** 2;
      rel[i] = spread2 > 0 ? Math.sqrt(se2 / spread2) : se2 > 0 ? Infinity : 0;
    }
    active = active.filter((i) => rel[i]! > tol);
  }
  const out = new Float32Array(n * HW);
  for (let q = 0; q < out.length; q++) out[q] = sum[q]! / used[Math.floor(q / HW)]! / masks.p;
  return { map: new Tensor(out, [n, ...spatial]), used, relativeSE: rel };
}

function sliceGrid(g: ArrayLike<number>, i: number, cells: number): number[] {
  return Array.from({ length: cells }, (_, j) => g[i * cells + j]!);
}

export async function rise(model: Model, inputs: Tensor, target: Target, options: RiseOptions = {}): Promise<Attribution> {
  const count = options.masks ?? (options.tolerance !== undefined ? 8000 : 2000);
  const s = options.cells ?? 8;
  const p = options.p ?? 0.5;
  const score = options.score ?? 'probability';
  if (!Number.isInteger(count) || count < 1) throw new Error(`rise: masks must be a positive integer, got ${count}`);
  if (!Number.isInteger(s) || s < 1) throw new Error(`rise: cells must be a positive integer, got ${s}`);
  if (!(p > 0 && p <= 1)) throw new Error(`rise: p must be in (0, 1], got ${p}`);
  if (score !== 'probability' && score !== 'logit') throw new Error(`rise: unknown score '${score as string}' (valid: probability, logit)`);
  const { targets, logits: pre } = await targetsOf(model, inputs, target);
  const { spatial } = batchLayout(inputs.shape);
  if (s > Math.min(...spatial)) throw new Error(`rise: ${s} cells per side is more than the input's ${Math.min(...spatial)} ${spatial.length === 3 ? 'voxels' : 'pixels'} along its shortest axis`);
  const masks = randomRiseMasks(count, s, p, spatial, options.seed ?? 0);
  if (options.tolerance !== undefined) {
    const r = await riseUntilConverged(model, inputs, targets, masks, options.tolerance, options);
    const logits = pre ?? (await model.forward(inputs, { batchSize: options.batchSize }));
    return { method: 'rise', map: r.map, signed: score === 'logit', targets, logits, extra: { masks: r.used, cells: s, p, score, tolerance: options.tolerance, relativeSE: r.relativeSE } };
  }
  const map = await riseWithMasks(model, inputs, targets, masks, options);
  const logits = pre ?? (await model.forward(inputs, { batchSize: options.batchSize }));
  return { method: 'rise', map, signed: score === 'logit', targets, logits, extra: { masks: count, cells: s, p, score } };
}
