import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelShap, sampleCoalitions } from './kernelshap.js';
import { randomEnsemble, randomRows } from './random-trees.js';
import { predictMargin } from './ensemble.js';
import { bruteForceInterventional } from './brute-force.js';
import { interventionalTreeShap } from './interventional.js';
import { loadXgbFixture } from './fixtures.js';
import { Rng } from '../tensor/rng.js';

test('KernelSHAP with every coalition evaluated equals brute-force interventional Shapley values to 1e-9', async () => {
  const e = randomEnsemble({ trees: 5, depth: 4, features: 6, seed: 21 });
  const X = randomRows(4, 6, 22, 0);
  const B = randomRows(5, 6, 23, 0);
  const s = await kernelShap((A, n) => predictMargin(e, A, n), X, 4, 6, B, 5);
  let worst = 0;
  for (let r = 0; r < 4; r++) {
    const b = bruteForceInterventional(e, X, r, B, 5);
    for (let j = 0; j < 6; j++) worst = Math.max(worst, Math.abs(s.values[r * 6 + j]! - b[j]!));
  }
  assert.ok(worst < 1e-9, `largest difference ${worst}`);
  console.log(`# kernel exact vs brute force: ${worst.toExponential(2)}`);
});

test('KernelSHAP on a linear model recovers w_j·(x_j − mean background) with sampling and l1 on', async () => {
  const d = 40;
  const w = Float64Array.from({ length: d }, (_, j) => (j % 3 === 0 ? 0 : (j - 20) / 10));
  const lin = (A: Float64Array, n: number) => Float64Array.from({ length: n }, (_, r) => w.reduce((s, wj, j) => s + wj * A[r * d + j]!, 0.5));
  const X = randomRows(2, d, 31, 0);
  const B = randomRows(8, d, 32, 0);
  const s = await kernelShap(lin, X, 2, d, B, 8, { nsamples: 300, seed: 4 });
  for (let r = 0; r < 2; r++)
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let b = 0; b < 8; b++) m += B[b * d + j]!;
      assert.ok(Math.abs(s.values[r * d + j]! - w[j]! * (X[r * d + j]! - m / 8)) < 1e-8, `row ${r} feature ${j}`);
    }
});

test('KernelSHAP sampled on the 30-feature XGBoost model approaches exact interventional TreeSHAP, seeded', async () => {
  const { model, X } = loadXgbFixture('xgb_binary_d3');
  const d = 30;
  const B = X.slice(20 * d, 30 * d);
  const f = (A: Float64Array, n: number) => predictMargin(model, A, n);
  const exact = interventionalTreeShap(model, X.subarray(0, 3 * d), 3, B, 10);
  const a = await kernelShap(f, X.subarray(0, 3 * d), 3, d, B, 10, { seed: 1 });
  const b = await kernelShap(f, X.subarray(0, 3 * d), 3, d, B, 10, { seed: 1 });
  const c = await kernelShap(f, X.subarray(0, 3 * d), 3, d, B, 10, { seed: 2 });
  assert.deepEqual(a.values, b.values);
  assert.notDeepEqual(a.values, c.values);
  let worst = 0, scale = 0;
  for (let i = 0; i < 3 * d; i++) {
    worst = Math.max(worst, Math.abs(a.values[i]! - exact.values[i]!));
    scale = Math.max(scale, Math.abs(exact.values[i]!));
  }
  assert.ok(worst < 0.05 * scale, `largest difference ${worst} of ${scale}`);
  console.log(`# kernel (auto, 2108 samples) vs interventional TreeSHAP: ${worst.toExponential(2)} (largest |φ| ${scale.toFixed(3)})`);
});

test("sampleCoalitions: full enumeration when the budget allows, kernel weights summing to 1", () => {
  const all = sampleCoalitions(5, 30, new Rng(0));
  assert.equal(all.masks.length, 30);
  assert.equal(new Set(all.masks.map((m) => m.join(''))).size, 30);
  assert.ok(Math.abs(all.weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const some = sampleCoalitions(12, 200, new Rng(0));
  assert.ok(some.masks.length <= 200 && some.masks.length >= 190);
  assert.ok(Math.abs(some.weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  // sizes 1 and 11 (24 coalitions) are enumerated first
  assert.equal(some.masks.slice(0, 24).every((m) => { const s = m.reduce((x, y) => x + y, 0); return s === 1 || s === 11; }), true);
});
