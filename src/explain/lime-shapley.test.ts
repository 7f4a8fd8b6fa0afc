/**
 * LIME and Shapley values over features against Captum itself (fixtures/make_newer_fixtures.py, the same
 * 6-class CNN export as the newer CAMs): Lime fed the same binary samples (deterministic given them: equal
 * up to scikit-learn's float32 Lasso), Lime and ShapleyValueSampling with their own sampling (same
 * distribution), ShapleyValues over all orderings (exact); the weighted Lasso against a closed form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../runtime/node.js';
import { npzFixture } from '../testing/npz-fixture.js';
import { Tensor } from '../tensor/tensor.js';
import { pearson } from '../evaluate/correlation.js';
import { explain } from './registry.js';
import { limeWithDesigns } from './lime.js';
import { lassoFit } from './lasso.js';
import { gridMaskNd } from './superpixels.js';

const here = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));
const get = npzFixture(here('newer_fixtures.npz'));
const x = get('input');
const n = x.shape[0]!;
const size = 3 * 32 * 32;
const ids = (cy: number, cx: number) => {
  const g = gridMaskNd([32, 32], [cy, cx]);
  const out = new Int32Array(n * size);
  for (let i = 0; i < n * 3; i++) out.set(g, i * 1024);
  return out;
};
const maskTensor = (cy: number, cx: number) => new Tensor(Float32Array.from(gridMaskNd([32, 32], [cy, cx])), [32, 32]);

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

function perImagePearson(a: Tensor, b: Tensor): number[] {
  return Array.from({ length: n }, (_, i) => pearson(Array.from(a.data.subarray(i * size, (i + 1) * size)), Array.from(b.data.subarray(i * size, (i + 1) * size))));
}

test('the weighted Lasso with alpha 0 is weighted least squares (closed form), and alpha shrinks coefficients to exact zeros', () => {
  // y = 1 + 2·x0 − 3·x1 exactly on 5 samples: any weights give that fit
  const X = [0, 0, 1, 0, 0, 1, 1, 1, 0.5, 0.2];
  const y = [1, 3, -2, 0, 1.4];
  const fit = lassoFit(X, y, [1, 2, 0.5, 1, 3], 5, 2, 0, { tol: 1e-12 });
  assert.ok(Math.abs(fit.coef[0]! - 2) < 1e-9 && Math.abs(fit.coef[1]! + 3) < 1e-9 && Math.abs(fit.intercept - 1) < 1e-9, `${[...fit.coef]} ${fit.intercept}`);
  assert.ok(fit.converged);
  const big = lassoFit(X, y, undefined, 5, 2, 100);
  assert.ok(big.coef.every((v) => v === 0), `${[...big.coef]}`);
  assert.ok(Math.abs(big.intercept - y.reduce((a, b) => a + b) / 5) < 1e-12);
});

test('LIME given Captum’s binary samples equals Captum’s Lime (scikit-learn Lasso, cosine kernel) on every image', async (t) => {
  const model = loadModel(here('newer_cnn.onnx'));
  try {
    const designs = Array.from({ length: n }, (_, i) => get(`lime_design_${i}`).data).map((d) => Uint8Array.from(d));
    const r = await limeWithDesigns(model, x, 'pred', ids(8, 8), designs);
    const ref = get('lime_fixed');
    const err = relErr(r.attributions!.data, ref.data);
    t.diagnostic(`max |Δ| / max |Captum| = ${err.toExponential(2)}; fit R² ${(r.extra!.fitR2 as number[]).map((v) => v.toFixed(3))}`);
    assert.ok(err < 1e-3, `relative error ${err}`);
    assert.equal(r.extra!.lassoNotConverged, undefined);
  } finally {
    await model.dispose();
  }
});

test('LIME and Shapley value sampling with their own draws follow Captum’s distribution; exact Shapley values equal Captum’s ShapleyValues', async (t) => {
  const model = loadModel(here('newer_cnn.onnx'));
  try {
    const lime = await explain(model, x, 'lime', 'pred', { mask: maskTensor(8, 8), samples: 3000 });
    const lr = perImagePearson(lime.attributions!, get('lime_seeded'));
    t.diagnostic(`lime 3000 samples vs Captum's: per-image Pearson ${lr.map((v) => v.toFixed(4))}`);
    assert.ok(Math.min(...lr) >= 0.99);
    const exact = await explain(model, x, 'shapley', 'pred', { mask: maskTensor(16, 11), exact: true });
    const ee = relErr(exact.attributions!.data, get('shapley_exact').data);
    t.diagnostic(`exact Shapley (64 coalitions) vs Captum's ShapleyValues (720 orderings): relative error ${ee.toExponential(2)}; efficiency gap ${(exact.extra!.efficiencyGap as number[]).map((v) => v.toExponential(1))}`);
    assert.ok(ee < 1e-5);
    assert.deepEqual(exact.extra!.passes, [64, 64, 64, 64]);
    for (const g of exact.extra!.efficiencyGap as number[]) assert.ok(g < 1e-5);
    const sampled = await explain(model, x, 'shapley', 'pred', { mask: maskTensor(8, 8), samples: 400 });
    const sr = perImagePearson(sampled.attributions!, get('shapley_sampled'));
    t.diagnostic(`shapley 400 orderings vs Captum's: per-image Pearson ${sr.map((v) => v.toFixed(4))}`);
    assert.ok(Math.min(...sr) >= 0.99);
    for (const g of sampled.extra!.efficiencyGap as number[]) assert.ok(g < 1e-4);
    // a sampled estimate with few orderings still sums to f(x) − f(baseline), and depends on the seed
    const a = await explain(model, x.slice0(0, 1), 'shapley', 'pred', { mask: maskTensor(8, 8), samples: 3, seed: 1 });
    const b = await explain(model, x.slice0(0, 1), 'shapley', 'pred', { mask: maskTensor(8, 8), samples: 3, seed: 2 });
    assert.notDeepEqual(a.map.data, b.map.data);
    assert.deepEqual(a.extra!.passes, [1 + 3 * 15]);
  } finally {
    await model.dispose();
  }
});

test('LIME and Shapley: SLIC superpixels by default in 2-D, a grid in 3-D; bad options are one-line errors', async () => {
  const model = loadModel(here('newer_cnn.onnx'));
  try {
    const x1 = x.slice0(0, 1);
    const r = await explain(model, x1, 'lime', 'pred', { samples: 20 });
    assert.equal(r.extra!.mask, 'slic');
    assert.ok((r.extra!.features as number[])[0]! > 4);
    await assert.rejects(explain(model, x1, 'lime', 'pred', { samples: 1 }), /lime: samples must be an integer ≥ 2/);
    await assert.rejects(explain(model, x1, 'shapley', 'pred', { exact: true }), /exact Shapley values need 2\^F forward passes; image 0 has \d+ features \(at most 16\)/);
    await assert.rejects(explain(model, x1, 'lime', 'pred', { distance: 'manhattan' }), /distance must be cosine or euclidean/);
  } finally {
    await model.dispose();
  }
});
