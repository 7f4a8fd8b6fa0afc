/**
 * What Quantus' removal-based faithfulness metrics share (PixelFlipping, FaithfulnessEstimate): the map
 * broadcast to the input's shape and flattened (channels separately, as Quantus does), the order of its
 * elements by attribution (descending; ties by element index), the baseline an element is replaced with
 * (Quantus' `perturb_baseline`: 'black' = the image's minimum, 'white' its maximum, 'mean' its mean, or a
 * number), and the model's output for the target — softmax probability by default, as Quantus'
 * `softmax=True` — for many perturbed copies in batched forward passes.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { prepareAttributions } from './prepare.js';
import { namedValue, type NamedValue } from '../../tensor/named-value.js';

export type Baseline = NamedValue;

export interface RemovalOptions {
  /** Elements replaced per step (Quantus `features_in_step`, default 1). */
  featuresInStep?: number;
  baseline?: Baseline;
  abs?: boolean;
  normalise?: boolean;
  /** Probabilities (softmax, default) or logits. */
  softmax?: boolean;
  batchSize?: number;
}

/**
 * What every removal metric starts from: the map as rows over the input's elements (`broadcastRows`, |map| unless
 * `absDefault` is false and the caller did not say), the elements per step checked against their count, and the
 * number of steps. `metric` names the metric in the error.
 */
export function removalSteps(metric: string, a: ArrayLike<number>, x: Tensor, opts: Pick<RemovalOptions, 'featuresInStep' | 'abs' | 'normalise'>, absDefault: boolean): { step: number; rows: Float64Array[]; size: number; steps: number } {
  const step = opts.featuresInStep ?? 1;
  const rows = broadcastRows(a, x, { abs: opts.abs ?? absDefault, normalise: opts.normalise });
  const size = rows[0]!.length;
  if (!(Number.isInteger(step) && step >= 1 && step <= size)) throw new Error(`${metric}: featuresInStep must be an integer in [1, ${size}], got ${step}`);
  return { step, rows, size, steps: Math.ceil(size / step) };
}

/** The map as `[N, C·spatial]` rows over the input's elements (a 1-channel map repeated over channels). */
export function broadcastRows(a: ArrayLike<number>, x: Tensor, opts: { abs: boolean; normalise?: boolean }): Float64Array[] {
  const n = x.shape[0]!;
  const size = x.size / n;
  const rows = prepareAttributions(a, n, opts);
  const per = rows[0]!.length;
  if (per === size) return rows;
  const c = x.shape[1]!;
  if (per * c !== size) throw new Error(`quantus metrics: a map of ${per} values per image does not fit inputs of ${size} (${c} channels)`);
  return rows.map((r) => {
    const out = new Float64Array(size);
    for (let ch = 0; ch < c; ch++) out.set(r, ch * per);
    return out;
  });
}

/** Element indices by attribution, highest first (ties by index). */
export function descending(row: Float64Array): Int32Array {
  return Int32Array.from(Array.from({ length: row.length }, (_, p) => p).sort((p, q) => row[q]! - row[p]! || p - q));
}

export function baselineValue(x: Float32Array, baseline: Baseline): number {
  return namedValue(x, baseline, 'quantus metrics: baseline');
}

/**
 * The target's output for `count` perturbed copies of each image, made by `fill(image, copy, out)`:
 * returns [N][count]. Copies go through the model in batches.
 */
export async function scoreCopies(model: Model, x: Tensor, targets: readonly number[], count: number, fill: (image: number, copy: number, out: Float32Array) => void, opts: RemovalOptions): Promise<number[][]> {
  const n = x.shape[0]!;
  const size = x.size / n;
  const k = model.numClasses;
  const total = n * count;
  const chunk = Math.max(1, opts.batchSize ?? 256);
  const out = Array.from({ length: n }, () => new Array<number>(count).fill(0));
  for (let start = 0; start < total; start += chunk) {
    const m = Math.min(chunk, total - start);
    const buf = new Float32Array(m * size);
    for (let j = 0; j < m; j++) fill(Math.floor((start + j) / count), (start + j) % count, buf.subarray(j * size, (j + 1) * size));
    const logits = (await model.forward(new Tensor(buf, [m, ...x.shape.slice(1)]), { batchSize: opts.batchSize })).data;
    for (let j = 0; j < m; j++) {
      const i = Math.floor((start + j) / count);
      const row = logits.subarray(j * k, (j + 1) * k);
      const t = targets[i]!;
      let v = row[t]!;
      if (opts.softmax ?? true) {
        let mx = -Infinity;
        for (const z of row) mx = Math.max(mx, z);
        let s = 0;
        for (const z of row) s += Math.exp(z - mx);
        v = Math.exp(row[t]! - mx) / s;
      }
      out[i]![(start + j) % count] = v;
    }
  }
  return out;
}
