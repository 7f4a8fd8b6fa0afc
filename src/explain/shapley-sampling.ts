/**
 * Shapley values of features (Shapley 1953), Captum's `ShapleyValueSampling` (Castro et al. 2009) and, with
 * `exact: true`, its `ShapleyValues`. A feature's value is its mean marginal contribution to the target logit
 * over orderings of the features: going through an ordering, features are switched from `baseline` to the
 * input one at a time, and each gets the change of the logit when it joins.
 *   - sampling (default): `samples` (25, Captum's) random orderings per image, each image with its own stream
 *     (`seed` forked by image index); 1 + samples·(F − 1) forward passes (the all-input coalition is the
 *     image's own logit, not run again);
 *   - exact: every coalition S of the F features once (2^F passes, F ≤ 16), and
 *       φ_i = Σ_{S ⊆ F∖{i}} |S|!(F − |S| − 1)!/F! · (v(S ∪ {i}) − v(S)),
 *     the same numbers as averaging over all F! orderings (Captum's `ShapleyValues`), in 2^F instead of F·F!
 *     passes.
 * Features as feature ablation's masks (default SLIC superpixels in 2-D, a grid of 8-voxel cubes in 3-D).
 * Efficiency holds: Σ_i φ_i = f(x) − f(baseline) exactly in both modes (`extra.efficiencyGap` reports the
 * largest deviation, float rounding). Signed; the map is the channel sum.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type Target, batchLayout, reduceChannels } from './types.js';
import { targetsOf } from './saliency.js';
import { type CoalitionOptions, coalitionFeatures } from './coalition-features.js';
import { type ImageFeatures, coalitionLogits, imageFeatures } from './coalitions.js';

export interface ShapleyOptions extends CoalitionOptions {
  /** Random orderings per image (default 25). */
  samples?: number;
  /** Every coalition instead of sampled orderings (F ≤ 16). */
  exact?: boolean;
}

const MAX_EXACT = 16;

/** Coalitions of the prefixes of each ordering (sizes 1 … F − 1), [orderings·(F − 1), F]. */
function prefixCoalitions(orders: readonly Int32Array[], F: number): Uint8Array {
  const z = new Uint8Array(orders.length * (F - 1) * F);
  orders.forEach((ord, o) => {
    for (let j = 0; j < F - 1; j++) {
      const row = (o * (F - 1) + j) * F;
      for (let q = 0; q <= j; q++) z[row + ord[q]!] = 1;
    }
  });
  return z;
}

function factorials(F: number): Float64Array {
  const f = new Float64Array(F + 1);
  f[0] = 1;
  for (let i = 1; i <= F; i++) f[i] = f[i - 1]! * i;
  return f;
}

export async function shapleySampling(model: Model, inputs: Tensor, target: Target, options: ShapleyOptions = {}): Promise<Attribution> {
  const samples = options.samples ?? 25;
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`shapley: samples must be an integer ≥ 1, got ${String(options.samples)}`);
  const { n } = batchLayout(inputs.shape);
  const { ids, mask } = coalitionFeatures(inputs, options);
  const size = inputs.data.length / n;
  const feats = Array.from({ length: n }, (_, i) => imageFeatures(ids, i, size));
  if (options.exact) {
    const big = feats.findIndex((f) => f.ids.length > MAX_EXACT);
    if (big >= 0) throw new Error(`shapley: exact Shapley values need 2^F forward passes; image ${big} has ${feats[big]!.ids.length} features (at most ${MAX_EXACT}): use sampling (exact false) or fewer features (segments, cell)`);
  }
  const { targets, logits: pre } = await targetsOf(model, inputs, target);
  const logits = pre ?? (await model.forward(inputs, { batchSize: options.batchSize }));
  const K = model.numClasses;
  const fill = options.baseline ?? 0;
  const attr = new Float32Array(n * size);
  const gaps: number[] = [];
  const passes = feats.map((f) => (options.exact ? 2 ** f.ids.length : 1 + samples * (f.ids.length - 1)));
  const total = passes.reduce((a, b) => a + b, 0);
  let done = 0;
  for (let i = 0; i < n; i++) {
    const x = (inputs.data as Float32Array).subarray(i * size, (i + 1) * size);
    const f = feats[i]!;
    const F = f.ids.length;
    const full = logits.data[i * K + targets[i]!]!;
    const run = (z: Uint8Array) => coalitionLogits(model, x, inputs.shape.slice(1), f, z, targets[i]!, { fill, batchSize: options.batchSize, onChunk: (m) => options.onProgress?.(done + m, total) });
    const phi = options.exact ? await exactValues(run, F, full) : await sampledValues(run, F, full, samples, new Rng(options.seed ?? 0).fork(`shapley-image-${i}`));
    done += passes[i]!;
    write(attr, i * size, f, phi.values);
    let sum = 0;
    for (const v of phi.values) sum += v;
    gaps.push(Math.abs(sum - (full - phi.empty)));
  }
  const attributions = new Tensor(attr, inputs.shape);
  const extra: NonNullable<Attribution['extra']> = { features: feats.map((f) => f.ids.length), passes, efficiencyGap: gaps, baseline: fill, mask };
  if (!options.exact) extra.samples = samples;
  return { method: 'shapley', attributions, map: reduceChannels(attributions, 'sum'), signed: true, targets, logits, extra };
}

function write(attr: Float32Array, offset: number, f: ImageFeatures, values: Float64Array): void {
  f.positions.forEach((pos, q) => {
    for (const p of pos) attr[offset + p] = values[q]!;
  });
}

type Run = (z: Uint8Array) => Promise<Float64Array>;

async function sampledValues(run: Run, F: number, full: number, samples: number, rng: Rng): Promise<{ values: Float64Array; empty: number }> {
  const orders = Array.from({ length: samples }, () => rng.permutation(F));
  const prefixes = prefixCoalitions(orders, F);
  const z = new Uint8Array(F + prefixes.length);
  z.set(prefixes, F); // row 0: the empty coalition
  const v = await run(z);
  const empty = v[0]!;
  const values = new Float64Array(F);
  orders.forEach((ord, o) => {
    let prev = empty;
    for (let j = 0; j < F; j++) {
      const cur = j === F - 1 ? full : v[1 + o * (F - 1) + j]!;
      values[ord[j]!]! += cur - prev;
      prev = cur;
    }
  });
  for (let q = 0; q < F; q++) values[q]! /= samples;
  return { values, empty };
}

async function exactValues(run: Run, F: number, full: number): Promise<{ values: Float64Array; empty: number }> {
  const count = 2 ** F;
  const z = new Uint8Array(count * F);
  for (let s = 0; s < count; s++) for (let q = 0; q < F; q++) z[s * F + q] = (s >> q) & 1;
  const v = await run(z.subarray(0, (count - 1) * F)); // the last coalition (all features) is the image's own logit
  const value = (s: number) => (s === count - 1 ? full : v[s]!);
  const fact = factorials(F);
  const values = new Float64Array(F);
  for (let s = 0; s < count; s++) {
    let size = 0;
    for (let q = 0; q < F; q++) size += (s >> q) & 1;
    if (size === F) continue;
    const w = (fact[size]! * fact[F - size - 1]!) / fact[F]!;
    const vs = value(s);
    for (let q = 0; q < F; q++) if (!((s >> q) & 1)) values[q]! += w * (value(s | (1 << q)) - vs);
  }
  return { values, empty: value(0) };
}
