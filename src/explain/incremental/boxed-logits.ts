/**
 * The logits of images with one box set to a constant — the forward passes of occlusion and of grid
 * feature ablation — computed directly (every perturbed image through the whole model) or by incremental
 * inference (run.ts: each layer computes only the part the box can change), which gives the same
 * numbers up to float32 rounding.
 *
 * Boxes may differ in size (a grid's last cells are smaller): the incremental graph takes boxes of the
 * largest size, each placed inside the image (origin clamped), with the image's own values where the
 * box is larger than the perturbed region.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { batchLayout } from '../types.js';
import { forEachRun } from '../boxes.js';
import { IncrementalForward, NonFiniteOutput } from './run.js';

const CHUNK_FLOATS = 1 << 23;
/**
 * 'auto' computes incrementally when that saves ≥ 10 % of the multiply-adds, ≥ 250 multiply-adds per
 * value it gathers, and ≥ 30 GFLOP in all. The middle rule is a cost model measured on this project's
 * 2-core machine (onnxruntime profile of the incremental graph): moving a gathered value (Concat, Gather,
 * two Transposes) costs ~2.5 ns, a multiply-add in Conv ~0.01 ns (~100 GMAC/s), so below ~250 the data
 * movement eats the saving (DenseNet-121 at 96²: 192, measured 6 % slower than direct; ResNet-18 at 64²:
 * 315, 10 % faster; the 3-D ResNet-18 at 64³: 3,171). The last rule pays for compiling two graphs.
 */
const AUTO_MIN_SAVING = 0.1;
const AUTO_MIN_MACS_PER_GATHERED = 250;
const AUTO_MIN_SAVED_FLOPS = 3e10;

export interface BoxedLogitsOptions {
  fill: number;
  batchSize?: number;
  /** 'auto' (default): incremental where the cost model below expects it to be faster; true: whenever the model allows; false: direct. */
  incremental?: boolean | 'auto';
  onProgress?: (done: number, total: number) => void;
}

export interface BoxedLogits {
  /** [n · boxes, K]: image i with box b at row i · boxes + b. */
  logits: Float32Array;
  /** How the passes were computed, for `extra`: 'incremental (…)' or 'direct (why)'. */
  how: string;
}

/** Logits of each image with each box [origin, origin + extent) set to `fill` on every channel. */
export async function boxedLogits(model: Model, inputs: Tensor, origins: readonly number[][], extents: readonly number[][], options: BoxedLogitsOptions): Promise<BoxedLogits> {
  const { n, c, spatial, size } = batchLayout(inputs.shape);
  const rank = spatial.length;
  const nbox = origins.length;
  const K = model.numClasses;
  const total = n * nbox;
  const x = inputs.data as Float32Array;
  const mode = options.incremental ?? 'auto';
  if (mode !== true && mode !== false && mode !== 'auto') throw new Error(`incremental: expected auto, true or false, got ${JSON.stringify(mode)}`);
  let reason = 'not asked for';
  if (mode !== false) {
    const window = spatial.map((len, a) => Math.min(len, Math.max(...extents.map((e) => e[a]!))));
    const placed = new Int32Array(nbox * rank);
    origins.forEach((o, b) => o.forEach((v, a) => (placed[b * rank + a] = Math.min(v, spatial[a]! - window[a]!))));
    const key = `incremental:${spatial.join('x')}:${window.join('x')}:${placed.join(',')}`;
    let inc: IncrementalForward | string;
    try {
      inc = await model.resource(key, () => IncrementalForward.plan(model, spatial, window, placed));
    } catch (e) {
      inc = `incremental inference could not be planned (${(e as Error).message})`;
    }
    if (typeof inc !== 'string') {
      const saving = 1 - inc.info.fraction;
      const saved = inc.savedFlops * total;
      const perValue = inc.savedFlops / 2 / Math.max(1, inc.plan.gathered);
      if (mode === 'auto' && saving < AUTO_MIN_SAVING) reason = `incremental inference would save ${(saving * 100).toFixed(0)} % of the arithmetic (whole tensors from ${inc.info.stoppedAt ?? 'the output'})`;
      else if (mode === 'auto' && perValue < AUTO_MIN_MACS_PER_GATHERED) reason = `incremental inference would save only ${perValue.toFixed(0)} multiply-adds per value it gathers (< ${AUTO_MIN_MACS_PER_GATHERED}: moving the values would cost more than it saves)`;
      else if (mode === 'auto' && saved < AUTO_MIN_SAVED_FLOPS) reason = `incremental inference would save ${(saved / 1e9).toFixed(1)} GFLOP in all, less than compiling its graphs costs`;
      else {
        try {
          const logits = await incrementalLogits(inc, inputs, origins, extents, window, placed, options);
          const pct = (inc.info.fraction * 100).toFixed(0);
          return { logits, how: `incremental (${pct} % of a forward pass's multiply-adds per perturbed image; whole tensors from ${inc.info.stoppedAt ?? 'the output'})` };
        } catch (e) {
          if (e instanceof NonFiniteOutput) throw e;
          // a graph onnxruntime cannot compile or run is candor's limitation, not the user's: compute directly
          reason = `incremental inference failed (${(e as Error).message.split('\n')[0]})`;
        }
      }
    } else reason = inc;
  }
  const logits = new Float32Array(total * K);
  const bs = options.batchSize ?? 256;
  const chunk = Math.max(1, Math.min(total, Math.floor(CHUNK_FLOATS / size)));
  const hw = size / c;
  for (let start = 0; start < total; start += chunk) {
    const end = Math.min(total, start + chunk);
    const m = end - start;
    const buf = new Float32Array(m * size);
    for (let r = 0; r < m; r++) {
      const q = start + r;
      const img = Math.floor(q / nbox);
      const out = buf.subarray(r * size, (r + 1) * size);
      out.set(x.subarray(img * size, (img + 1) * size));
      for (let ch = 0; ch < c; ch++) forEachRun(spatial, origins[q % nbox]!, extents[q % nbox]!, (off, len) => out.fill(options.fill, ch * hw + off, ch * hw + off + len));
    }
    const out = await model.forward(new Tensor(buf, [m, ...inputs.shape.slice(1)]), { batchSize: bs });
    logits.set(out.data, start * K);
    options.onProgress?.(end, total);
  }
  return { logits, how: `direct (${reason})` };
}

/** The logits by incremental inference: per image its unperturbed activations, then batches of boxes. */
async function incrementalLogits(
  inc: IncrementalForward,
  inputs: Tensor,
  origins: readonly number[][],
  extents: readonly number[][],
  window: number[],
  placed: Int32Array,
  options: BoxedLogitsOptions,
): Promise<Float32Array> {
  const { n, c, spatial, size } = batchLayout(inputs.shape);
  const rank = spatial.length;
  const nbox = origins.length;
  const total = n * nbox;
  const x = inputs.data as Float32Array;
  const logits = new Float32Array(total * inc.classes);
  const wvox = window.reduce((a, b) => a * b, 1);
  const bs = options.batchSize ?? 256;
  const hw = size / c;
  for (let img = 0; img < n; img++) {
    const image = new Tensor(x.slice(img * size, (img + 1) * size), [1, ...inputs.shape.slice(1)]);
    const acts = await inc.activations(image);
    for (let q0 = 0; q0 < nbox; q0 += bs) {
      const q1 = Math.min(nbox, q0 + bs);
      const patches = new Float32Array((q1 - q0) * c * wvox);
      for (let q = q0; q < q1; q++) {
        // the box placed inside the image holds the image's values, then the perturbed region is filled
        const at = Array.from(placed.subarray(q * rank, (q + 1) * rank));
        const rel = origins[q]!.map((v, a) => v - at[a]!);
        for (let ch = 0; ch < c; ch++) {
          const dst = patches.subarray(((q - q0) * c + ch) * wvox, ((q - q0) * c + ch + 1) * wvox);
          let k = 0;
          forEachRun(spatial, at, window, (off, len) => {
            dst.set(image.data.subarray(ch * hw + off, ch * hw + off + len), k);
            k += len;
          });
          forEachRun(window, rel, extents[q]!, (off, len) => dst.fill(options.fill, off, off + len));
        }
      }
      const out = await inc.run(acts, q0, q1, new Tensor(patches, [q1 - q0, c, ...window]));
      logits.set(out.data, (img * nbox + q0) * inc.classes);
      options.onProgress?.(img * nbox + q1, total);
    }
  }
  return logits;
}
