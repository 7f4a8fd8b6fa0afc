/**
 * pytorch-grad-cam's newer CAMs against pytorch-grad-cam itself (../fixtures/make_newer_fixtures.py: its
 * source run in Python on a 6-class CNN whose ONNX export is the model here): Grad-CAM element-wise, KPCA-CAM (sigmoid and rbf kernels), FEM (k = 2 and 1), FinerCAM (defaults,
 * alpha 0.6 with two comparisons, a given target), FullGrad (whose BatchNorm term the export folds into a Conv),
 * for the predicted class and, where the method uses it, a given class per image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../runtime/node.js';
import { npzFixture } from '../../testing/npz-fixture.js';
import type { Tensor } from '../../tensor/tensor.js';
import { pearson } from '../../evaluate/correlation.js';
import { explain } from '../registry.js';
import { biasLayers } from './fullgrad.js';
import { comparisonClasses, finerCotangent } from './finercam.js';
import { topEigenpair } from './kpcacam.js';

const here = (f: string) => fileURLToPath(new URL(`../fixtures/${f}`, import.meta.url));
const get = npzFixture(here('newer_fixtures.npz'));
const x = get('input');
const given = Array.from(get('given_targets').data as unknown as Int32Array);
const n = x.shape[0]!;
const HW = 32 * 32;

function compare(ours: Tensor, ref: Tensor, label: string, maxErr: number, t: { diagnostic(s: string): void }): void {
  assert.deepEqual(ours.shape, ref.shape, label);
  let err = 0;
  const rs: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = Array.from(ours.data.subarray(i * HW, (i + 1) * HW));
    const b = Array.from(ref.data.subarray(i * HW, (i + 1) * HW));
    for (let p = 0; p < HW; p++) err = Math.max(err, Math.abs(a[p]! - b[p]!));
    rs.push(pearson(a, b));
  }
  t.diagnostic(`${label}: max |Δ| ${err.toExponential(2)}, per-image Pearson ≥ ${Math.min(...rs).toFixed(6)}`);
  assert.ok(Math.min(...rs) >= 0.99, `${label}: per-image Pearson ${rs}`);
  assert.ok(err <= maxErr, `${label}: max |Δ| ${err} > ${maxErr}`);
}

const CASES: [method: string, key: string, opts: Record<string, unknown>, targets: ('pred' | 'given')[], maxErr: number][] = [
  ['gradcamelementwise', 'elementwise', {}, ['pred', 'given'], 1e-4],
  ['kpcacam', 'kpcacam', {}, ['pred'], 1e-5],
  ['kpcacam', 'kpcacam_rbf', { kernel: 'rbf', gamma: 0.05 }, ['pred'], 1e-5],
  ['fem', 'fem', {}, ['pred'], 1e-4],
  ['fem', 'fem_k1', { k: 1 }, ['pred'], 1e-4],
  ['finercam', 'finercam', {}, ['pred', 'given'], 1e-4],
  ['finercam', 'finercam_a06', { alpha: 0.6, comparisons: '1,2' }, ['pred'], 1e-4],
  ['fullgrad', 'fullgrad', {}, ['pred', 'given'], 1e-4],
];

test('the newer CAMs equal pytorch-grad-cam’s maps on the same model and images', async (t) => {
  const model = loadModel(here('newer_cnn.onnx'));
  try {
    for (const [method, key, opts, targets, maxErr] of CASES) {
      for (const tg of targets) {
        const r = await explain(model, x, method, tg === 'pred' ? 'pred' : given, { layer: 'block3', ...opts });
        compare(r.map, get(`${key}_${tg}`), `${key} (${tg})`, maxErr, t);
      }
    }
  } finally {
    await model.dispose();
  }
});

/**
 * A projection-based CAM against pytorch-grad-cam: the raw CAM equals ReLU of pytorch-grad-cam's projection
 * oriented by candor's rule (positive correlation with Σ_k of the weighted activations), and where LAPACK's
 * arbitrary singular-vector sign happens to agree, the final map equals pytorch-grad-cam's.
 */
async function checkProjection(method: string, opts: Record<string, unknown>, key: string, weighting: (g: number, a: number) => number, t: { diagnostic(s: string): void }): Promise<void> {
  const model = loadModel(here('newer_cnn.onnx'));
  try {
    const proj = get(`${key}_projection`);
    const A = get('block3_activation');
    const G = get('block3_grad_pred');
    const ref = get(`${key}_pred`);
    const r = await explain(model, x, method, 'pred', { layer: 'block3', ...opts });
    const raw = r.extra!.raw as Tensor;
    const hw = 64;
    let agreeing = 0;
    for (let i = 0; i < n; i++) {
      let corr = 0;
      for (let k = 0; k < 32; k++) for (let p = 0; p < hw; p++) corr += proj.data[i * hw + p]! * weighting(G.data[(i * 32 + k) * hw + p]!, A.data[(i * 32 + k) * hw + p]!);
      const s = corr >= 0 ? 1 : -1;
      let err = 0;
      let scale = 0;
      for (let p = 0; p < hw; p++) {
        err = Math.max(err, Math.abs(raw.data[i * hw + p]! - Math.max(s * proj.data[i * hw + p]!, 0)));
        scale = Math.max(scale, Math.abs(proj.data[i * hw + p]!));
      }
      assert.ok(err <= 1e-4 * scale, `${key}, image ${i}: raw projection error ${err} of ${scale}`);
      if (s < 0) continue;
      agreeing++;
      let mapErr = 0;
      for (let p = 0; p < HW; p++) mapErr = Math.max(mapErr, Math.abs(r.map.data[i * HW + p]! - ref.data[i * HW + p]!));
      assert.ok(mapErr <= 1e-4, `${key}, image ${i}: map error ${mapErr}`);
    }
    t.diagnostic(`${key}: LAPACK's sign agreed with candor's orientation on ${agreeing} of ${n} images`);
  } finally {
    await model.dispose();
  }
}

test('EigenGrad-CAM and element-wise Grad-CAM with eigenSmooth: pytorch-grad-cam’s projection, oriented by candor’s sign rule', async (t) => {
  await checkProjection('eigengradcam', {}, 'eigengradcam', (g, a) => g * a, t);
  await checkProjection('gradcamelementwise', { eigenSmooth: true }, 'elementwise_eigensmooth', (g, a) => Math.max(g * a, 0), t);
});

test('FinerCAM’s cotangent is the gradient of its weighted-difference target (central differences in float64)', () => {
  const y = [0.3, -1.2, 2.0, 1.7, 0.9, 1.95];
  const target = (v: number[], nIdx: number, J: number[], alpha: number) => {
    const m = Math.max(...v);
    const e = v.map((z) => Math.exp(z - m));
    const Z = e.reduce((a, b) => a + b, 0);
    const p = e.map((z) => z / Z);
    const num = J.reduce((s, j) => s + p[j]! * (v[nIdx]! - alpha * v[j]!), 0);
    return num / (J.reduce((s, j) => s + p[j]!, 0) + 1e-9);
  };
  const J = comparisonClasses(y, 2, [1, 2, 3]);
  assert.deepEqual(J, [5, 3, 4]); // |y − 2.0|: 0.05, 0.3, 1.1
  for (const alpha of [1, 0.6]) {
    const g = finerCotangent(y, 2, J, alpha);
    for (let m = 0; m < y.length; m++) {
      const h = 1e-6;
      const up = [...y];
      const dn = [...y];
      up[m]! += h;
      dn[m]! -= h;
      const fd = (target(up, 2, J, alpha) - target(dn, 2, J, alpha)) / (2 * h);
      assert.ok(Math.abs(g[m]! - fd) < 1e-7, `alpha ${alpha}, logit ${m}: ${g[m]} vs ${fd}`);
    }
  }
});

test('FullGrad finds the export’s bias layers, the folded BatchNorm among them; bad options of the new CAMs are one-line errors', async () => {
  const model = loadModel(here('newer_cnn.onnx'));
  try {
    const layers = biasLayers(model);
    assert.equal(layers.length, 3, layers.map((l) => l.tensor).join(', '));
    assert.deepEqual(layers.map((l) => l.bias.length), [16, 24, 32]);
    const x1 = x.slice0(0, 1);
    await assert.rejects(explain(model, x1, 'finercam', 'pred', { comparisons: '1,6' }), /finercam: comparison rank 6 needs at least 7 classes; the model has 6/);
    await assert.rejects(explain(model, x1, 'finercam', 'pred', { comparisons: '0' }), /comparisons must be ranks ≥ 1/);
    await assert.rejects(explain(model, x1, 'kpcacam', 'pred', { kernel: 'laplace' }), /kpcacam: option kernel must be one of sigmoid, rbf, poly, linear, cosine, got 'laplace'/);
    await assert.rejects(explain(model, x1, 'fem', 'pred', { k: 'two' }), /fem: option k must be a number/);
  } finally {
    await model.dispose();
  }
});

test('KPCA-CAM’s eigen-solver beyond 600 positions (power iteration) finds the largest algebraic eigenpair, not the largest in magnitude', () => {
  // M = H·diag(λ)·H with H = I − 2wwᵀ (a Householder reflection): eigenvectors are H's columns.
  const n = 650;
  const w = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) + 0.2);
  const norm = Math.hypot(...w);
  for (let i = 0; i < n; i++) w[i]! /= norm;
  const lam = Float64Array.from({ length: n }, (_, i) => (i === 17 ? 5 : i === 3 ? -8 : i === 400 ? 4.5 : Math.cos(i)));
  const dw = Float64Array.from(w, (wi, i) => lam[i]! * wi);
  let wdw = 0;
  for (let i = 0; i < n; i++) wdw += w[i]! * dw[i]!;
  const m = new Float64Array(n * n);
  for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) m[p * n + q] = (p === q ? lam[p]! : 0) - 2 * w[p]! * dw[q]! - 2 * dw[p]! * w[q]! + 4 * wdw * w[p]! * w[q]!;
  const { value, vector } = topEigenpair(m, n);
  assert.ok(Math.abs(value - 5) < 1e-8, `eigenvalue ${value}`);
  const col = Float64Array.from({ length: n }, (_, p) => (p === 17 ? 1 : 0) - 2 * w[p]! * w[17]!);
  const sign = Math.sign(col.reduce((s, c, p) => s + c * vector[p]!, 0));
  let err = 0;
  for (let p = 0; p < n; p++) err = Math.max(err, Math.abs(vector[p]! - sign * col[p]!));
  assert.ok(err < 1e-6, `eigenvector error ${err}`);
});

test('Deep Feature Factorization equals pytorch-grad-cam’s: the NMF concepts’ maps and their logits through the model’s head', async (t) => {
  const { deepFeatureFactorization } = await import('./dff.js');
  const model = loadModel(here('newer_cnn.onnx'));
  try {
    const r = await deepFeatureFactorization(model, x, 'pred', { layer: 'block3', components: 5 });
    const concepts = r.extra!.concepts as Tensor;
    const ref = get('dff_explanations');
    assert.deepEqual(concepts.shape, ref.shape);
    let err = 0;
    for (let q = 0; q < ref.data.length; q++) err = Math.max(err, Math.abs(concepts.data[q]! - ref.data[q]!));
    const lg = r.extra!.conceptLogits as Tensor;
    const refLg = get('dff_concept_outputs');
    let lerr = 0;
    let scale = 0;
    for (let q = 0; q < refLg.data.length; q++) {
      lerr = Math.max(lerr, Math.abs(lg.data[q]! - refLg.data[q]!));
      scale = Math.max(scale, Math.abs(refLg.data[q]!));
    }
    t.diagnostic(`concept maps max |Δ| ${err.toExponential(2)}; concept logits max |Δ| ${lerr.toExponential(2)} of ${scale.toFixed(2)}; NMF iterations ${r.extra!.nmfIterations}`);
    assert.ok(err < 1e-3, `concept maps differ by ${err}`);
    assert.ok(lerr < 1e-4 * scale, `concept logits differ by ${lerr}`);
    // the map of each image is its target class's best concept
    const chosen = r.extra!.concept as number[];
    chosen.forEach((a, i) => {
      for (let b = 0; b < 5; b++) assert.ok(refLg.data[b * 6 + r.targets[i]!]! <= refLg.data[a * 6 + r.targets[i]!]! + 1e-6);
      assert.deepEqual(Array.from(r.map.data.subarray(i * HW, (i + 1) * HW)), Array.from(concepts.data.subarray((i * 5 + a) * HW, (i * 5 + a + 1) * HW)));
    });
    await assert.rejects(deepFeatureFactorization(model, x, 'pred', { layer: 'block3', components: 33 }), /components must be an integer in \[1, 32\]/);
  } finally {
    await model.dispose();
  }
});
