/**
 * Faithfulness metrics against independent references:
 *  - the Gaussian blur baseline equals scipy.ndimage.gaussian_filter (fixtures/blur.npz);
 *  - deletion and insertion curves of a linear model (Flatten → Gemm) equal the closed form: each
 *    perturbed image is rebuilt here from its own ranking and its softmax computed in float64
 *    from the weights;
 *  - a map equal to each pixel's true contribution to the logit margin gives a lower deletion AUC
 *    and a higher insertion AUC than a random map;
 *  - faithfulness correlation: for a linear model with a zero baseline, the logit drop of a
 *    subset is exactly Σ_{j∈S} w_t·x_j, so the map w_t ⊙ x (summed over channels) correlates 1,
 *    and the per-run drops equal that closed form;
 *  - the bundled small CNN: batching does not change a curve, its ends are p(x) and p(all-fill).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { loadModel } from '../runtime/node.js';
import { linearModel } from './fixtures/linear-model.js';
import { readNpzFileSync } from '../io/files.js';
import { repoRoot } from '../testing/paths.js';
import { gaussianBlur } from './blur.js';
import { deletionCurve, faithfulnessCorrelation, insertionCurve, stepCounts, trapezoid } from './faithfulness.js';

/** Softmax probability of class t for one image, float64, from the weights. */
function linearProb(W: Float32Array, b: Float32Array, k: number, img: ArrayLike<number>, t: number): number {
  const d = img.length;
  const z = Array.from({ length: k }, (_, j) => {
    let s = b[j]!;
    for (let p = 0; p < d; p++) s += W[j * d + p]! * img[p]!;
    return s;
  });
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  return e[t]! / e.reduce((a, v) => a + v, 0);
}

function randomImages(shape: number[], seed: number): Tensor {
  return new Tensor(new Rng(seed).fillNormal(new Float32Array(shape.reduce((a, v) => a * v, 1))), shape);
}

test('gaussianBlur matches scipy.ndimage.gaussian_filter (reflect, truncate 4) to 1e-12', () => {
  const fx = readNpzFileSync(fileURLToPath(new URL('./fixtures/blur.npz', import.meta.url)));
  const img = fx.get('img')!;
  const [c, h, w] = img.shape as [number, number, number];
  for (const [sigma, key] of [[2, 'blur2'], [5, 'blur5']] as const) {
    const got = gaussianBlur(img.data as Float64Array, c, h, w, sigma);
    const ref = fx.get(key)!.data as Float64Array;
    let err = 0;
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - ref[i]!));
    assert.ok(err < 1e-12, `sigma ${sigma}: ${err}`);
  }
});

test('stepCounts: even steps or a fixed number of pixels per step, ending at every pixel', () => {
  assert.deepEqual(stepCounts(10, { steps: 4 }), [0, 3, 5, 8, 10]);
  assert.deepEqual(stepCounts(10, { pixelsPerStep: 4 }), [0, 4, 8, 10]);
  assert.throws(() => stepCounts(10, { steps: 11 }), /steps/);
  assert.equal(trapezoid([0, 0.5, 1], [1, 1, 0]), 0.75);
});

test('deletion and insertion curves of a linear model equal the closed form (fill and blur baselines)', async () => {
  const [N, C, H, W, K] = [3, 2, 6, 5, 3];
  const { model, W: Wt, b } = linearModel(C, H, W, K, 1);
  const x = randomImages([N, C, H, W], 2);
  const maps = randomImages([N, H, W], 3);
  const hw = H * W;
  const size = C * hw;
  const targets = [0, 2, 1];
  for (const [mode, fn, baseline] of [['deletion', deletionCurve, 0.25], ['insertion', insertionCurve, 'blur'], ['deletion', deletionCurve, 'blur']] as const) {
    const progress: number[] = [];
    const r = await fn(model, x, maps, targets, { steps: 7, baseline, blurSigma: 1.5, batchSize: 5, onProgress: (d) => progress.push(d) });
    assert.equal(progress.at(-1), N * 8);
    assert.equal(r.fractions.length, 8);
    const base = baseline === 'blur' ? gaussianBlur(x.data, N * C, H, W, 1.5) : null;
    let err = 0;
    for (let i = 0; i < N; i++) {
      const m = Array.from(maps.data.subarray(i * hw, (i + 1) * hw));
      const order = m.map((v, p) => [v, p] as const).sort((a, c) => c[0] - a[0]).map((e) => e[1]);
      const counts = stepCounts(hw, { steps: 7 });
      counts.forEach((cnt, s) => {
        const img = new Float64Array(size);
        const top = new Set(order.slice(0, cnt));
        for (let ch = 0; ch < C; ch++) for (let p = 0; p < hw; p++) {
          const at = ch * hw + p;
          const orig = x.data[i * size + at]!;
          const bv = base ? Math.fround(base[i * size + at]!) : (baseline as number);
          img[at] = (mode === 'deletion') === top.has(p) ? bv : orig;
        }
        err = Math.max(err, Math.abs(r.curves[i]![s]! - linearProb(Wt, b, K, img, targets[i]!)));
      });
      assert.ok(Math.abs(r.auc[i]! - trapezoid(r.fractions, r.curves[i]!)) < 1e-12);
    }
    assert.ok(err < 1e-5, `${mode}/${baseline}: max error ${err}`);
  }
});

test('a map of true contributions deletes faster and inserts faster than random maps', async () => {
  const [N, C, H, W, K] = [4, 1, 8, 8, 2];
  const { model, W: Wt } = linearModel(C, H, W, K, 4);
  const x = randomImages([N, C, H, W], 5);
  const hw = H * W;
  // target 1: pixel p contributes (w1 − w0)·(x_p − baseline) to the logit margin
  const truth = new Float32Array(N * hw);
  for (let i = 0; i < N; i++) for (let p = 0; p < hw; p++) truth[i * hw + p] = (Wt[hw + p]! - Wt[p]!) * x.data[i * hw + p]!;
  const good = new Tensor(truth, [N, H, W]);
  const rand = randomImages([N, H, W], 6);
  const del = await deletionCurve(model, x, good, 1, { steps: 16 });
  const delR = await deletionCurve(model, x, rand, 1, { steps: 16 });
  const ins = await insertionCurve(model, x, good, 1, { steps: 16, baseline: 0 });
  const insR = await insertionCurve(model, x, rand, 1, { steps: 16, baseline: 0 });
  for (let i = 0; i < N; i++) {
    assert.ok(del.auc[i]! < delR.auc[i]!, `deletion image ${i}: ${del.auc[i]} vs random ${delR.auc[i]}`);
    assert.ok(ins.auc[i]! > insR.auc[i]!, `insertion image ${i}: ${ins.auc[i]} vs random ${insR.auc[i]}`);
  }
});

test('faithfulness correlation is 1 for the exact contributions of a linear model; drops match the closed form', async () => {
  const [N, C, H, W, K] = [2, 2, 6, 6, 3];
  const { model, W: Wt } = linearModel(C, H, W, K, 7);
  const x = randomImages([N, C, H, W], 8);
  const hw = H * W;
  const targets = [2, 1];
  const contrib = new Float32Array(N * hw);
  for (let i = 0; i < N; i++) for (let p = 0; p < hw; p++) for (let ch = 0; ch < C; ch++) contrib[i * hw + p]! += Wt[targets[i]! * C * hw + ch * hw + p]! * x.data[(i * C + ch) * hw + p]!;
  const maps = new Tensor(contrib, [N, H, W]);
  const r = await faithfulnessCorrelation(model, x, maps, targets, { runs: 20, subsetSize: 5, normalize: 'none', batchSize: 16, seed: 3 });
  for (let i = 0; i < N; i++) {
    assert.ok(r.correlation[i]! > 1 - 1e-5, `image ${i}: ${r.correlation[i]}`);
    for (let j = 0; j < 20; j++) assert.ok(Math.abs(r.drops[i]![j]! - r.attributionSums[i]![j]!) < 1e-4, 'drop = Σ w·x over the subset');
  }
  const again = await faithfulnessCorrelation(model, x, maps, targets, { runs: 20, subsetSize: 5, normalize: 'none', seed: 3 });
  assert.deepEqual(again.drops, r.drops, 'seeded');
  const rand = await faithfulnessCorrelation(model, x, randomImages([N, H, W], 9), targets, { runs: 40, subsetSize: 5, seed: 3 });
  for (const v of rand.correlation) assert.ok(Math.abs(v) < 0.6, `a random map correlates weakly: ${v}`);
  await assert.rejects(faithfulnessCorrelation(model, x, maps, targets, { subsetSize: hw }), /subsetSize/);
});

test('deletion on the bundled small CNN: batching-invariant, ends at p(x) and p(filled image)', async () => {
  const model = loadModel(`${repoRoot}/models/baseline/small_cnn_pneumoniamnist64.onnx`, { threads: 1 });
  const x = randomImages([2, 1, 64, 64], 10);
  const maps = randomImages([2, 64, 64], 11);
  const a = await deletionCurve(model, x, maps, 'pred', { steps: 10, batchSize: 3 });
  const b = await deletionCurve(model, x, maps, 'pred', { steps: 10, batchSize: 64 });
  for (let i = 0; i < 2; i++) for (let s = 0; s <= 10; s++) assert.ok(Math.abs(a.curves[i]![s]! - b.curves[i]![s]!) < 1e-6);
  const lg = await model.forward(x);
  const filled = await model.forward(Tensor.zeros([2, 1, 64, 64]));
  for (let i = 0; i < 2; i++) {
    const t = a.targets[i]!;
    const p = (l: Tensor) => 1 / (1 + Math.exp(l.data[i * 2 + 1 - t]! - l.data[i * 2 + t]!));
    assert.ok(Math.abs(a.curves[i]![0]! - p(lg)) < 1e-6);
    assert.ok(Math.abs(a.curves[i]![10]! - p(filled)) < 1e-6);
  }
  await model.dispose();
});
