/**
 * Quantus' complexity and localisation metrics (issue 17) against Quantus itself, run on the same maps and
 * masks (fixtures/make_quantus_fixtures.py): per-image scores equal to float32 precision (Quantus computes in
 * the maps' float32), NaN where Quantus gives NaN (an empty mask).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sparseness } from './sparseness.js';
import { complexity } from './complexity.js';
import { effectiveComplexity } from './effective-complexity.js';
import { topKIntersection } from './top-k-intersection.js';
import { attributionLocalisation } from './attribution-localisation.js';
import { localisationAuc } from './localisation-auc.js';

const ref = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/quantus_reference.json', import.meta.url)), 'utf8')) as { n: number; a: number[]; s: number[]; scores: Record<string, (number | null)[]> };
const a = Float32Array.from(ref.a);

function same(name: string, got: number[], tol = 1e-5): void {
  const want = ref.scores[name]!;
  assert.equal(got.length, want.length, name);
  got.forEach((g, i) => {
    const w = want[i];
    if (w === null) assert.ok(Number.isNaN(g), `${name}[${i}]: Quantus gives NaN, candor ${g}`);
    else assert.ok(Math.abs(g - w) <= tol * Math.max(1, Math.abs(w)), `${name}[${i}]: candor ${g}, Quantus ${w}`);
  });
}

test('complexity family equals Quantus: Sparseness (Gini), Complexity (entropy), EffectiveComplexity', () => {
  same('sparseness', sparseness(a, ref.n));
  same('complexity', complexity(a, ref.n));
  same('effective_complexity', effectiveComplexity(a, ref.n, { eps: 0.05 }), 0);
});

test('localisation family equals Quantus: TopKIntersection (plain, concept influence), AttributionLocalisation, AUC; empty masks are NaN', () => {
  same('top_k_intersection_k50', topKIntersection(a, ref.s, ref.n, { k: 50 }), 0);
  same('top_k_intersection_k50_concept', topKIntersection(a, ref.s, ref.n, { k: 50, conceptInfluence: true }));
  same('attribution_localisation', attributionLocalisation(a, ref.s, ref.n));
  same('auc', localisationAuc(a, ref.s, ref.n));
});

test('the metrics refuse what they cannot read: non-finite maps, masks of another size, k beyond the map', () => {
  assert.throws(() => sparseness(Float32Array.from([1, NaN]), 1), /attribution 1 of image 0 is NaN/);
  assert.throws(() => topKIntersection(a, ref.s.slice(1), ref.n, { k: 5 }), /the masks hold \d+ values, the maps 5 × 256/);
  assert.throws(() => topKIntersection(a, ref.s, ref.n, { k: 257 }), /k must be an integer in \[1, 256\]/);
});

test('removal metrics equal Quantus on a PyTorch CNN exported to ONNX: PixelFlipping curves and AUC, FaithfulnessEstimate (black; white with abs)', async () => {
  const { loadModel } = await import('../../runtime/node.js');
  const { Tensor } = await import('../../tensor/tensor.js');
  const { pixelFlipping } = await import('./pixel-flipping.js');
  const { faithfulnessEstimate } = await import('./faithfulness-estimate.js');
  const m = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/quantus_model_reference.json', import.meta.url)), 'utf8')) as Record<string, unknown> & { x: number[]; y: number[]; a: number[]; shape: number[] };
  const model = loadModel(fileURLToPath(new URL('./fixtures/quantus_cnn.onnx', import.meta.url)), { threads: 1 });
  try {
    const x = new Tensor(Float32Array.from(m.x), m.shape);
    const a = Float32Array.from(m.a);
    const pf = await pixelFlipping(model, x, m.y, a, { featuresInStep: 16 });
    const curves = m.pixel_flipping_curves as number[][];
    let worst = 0;
    pf.curves.forEach((c, i) => c.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - curves[i]![j]!)))));
    assert.ok(worst < 1e-5, `pixel-flipping curves differ from Quantus by ${worst}`);
    pf.auc.forEach((v, i) => assert.ok(Math.abs(v - (m.pixel_flipping_auc as number[])[i]!) < 1e-4, `AUC ${i}: ${v} vs ${(m.pixel_flipping_auc as number[])[i]}`));
    const fe = await faithfulnessEstimate(model, x, m.y, a, { featuresInStep: 16 });
    fe.forEach((v, i) => assert.ok(Math.abs(v - (m.faithfulness_estimate as number[])[i]!) < 1e-4, `FE ${i}: ${v} vs ${(m.faithfulness_estimate as number[])[i]}`));
    const few = await faithfulnessEstimate(model, x, m.y, a, { featuresInStep: 8, baseline: 'white', abs: true });
    few.forEach((v, i) => assert.ok(Math.abs(v - (m.faithfulness_estimate_white_abs_8 as number[])[i]!) < 1e-4, `FE white ${i}: ${v} vs ${(m.faithfulness_estimate_white_abs_8 as number[])[i]}`));
  } finally {
    await model.dispose();
  }
});

test('patch-removal metrics equal Quantus on the same CNN: RegionPerturbation (morf, patch 4; lerf with abs, patch 5 padded to 15, 6 regions) and Selectivity (patch 4; white, patch 5)', async () => {
  const { loadModel } = await import('../../runtime/node.js');
  const { Tensor } = await import('../../tensor/tensor.js');
  const { regionPerturbation } = await import('./region-perturbation.js');
  const { selectivity } = await import('./selectivity.js');
  const { paddingFor } = await import('./patch-removal.js');
  const m = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/quantus_model_reference.json', import.meta.url)), 'utf8')) as { x: number[]; y: number[]; a: number[]; shape: number[] };
  const ref = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/quantus_region_reference.json', import.meta.url)), 'utf8')) as Record<string, number[][]>;
  assert.deepEqual(paddingFor(12, 5), [1, 2]);
  assert.deepEqual(paddingFor(12, 4), [0, 0]);
  const model = loadModel(fileURLToPath(new URL('./fixtures/quantus_cnn.onnx', import.meta.url)), { threads: 1 });
  try {
    const x = new Tensor(Float32Array.from(m.x), m.shape);
    const a = Float32Array.from(m.a);
    const same = (got: number[][], want: number[][], what: string) => {
      assert.equal(got.length, want.length, what);
      let worst = 0;
      got.forEach((c, i) => {
        assert.equal(c.length, want[i]!.length, `${what}: curve ${i} length`);
        c.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - want[i]![j]!))));
      });
      assert.ok(worst < 1e-5, `${what} differs from Quantus by ${worst}`);
    };
    same((await regionPerturbation(model, x, m.y, a, { patchSize: 4 })).curves, ref['region_perturbation_morf_4']!, 'region perturbation (morf, 4)');
    same((await regionPerturbation(model, x, m.y, a, { patchSize: 5, order: 'lerf', abs: true, regions: 6 })).curves, ref['region_perturbation_lerf_5_abs']!, 'region perturbation (lerf, 5, abs)');
    const sel = await selectivity(model, x, m.y, a, { patchSize: 4 });
    same(sel.curves, ref['selectivity_4']!, 'selectivity (4)');
    same((await selectivity(model, x, m.y, a, { patchSize: 5, baseline: 'white' })).curves, ref['selectivity_5_white']!, 'selectivity (5, white)');
    // AUC: numpy.trapz with unit spacing over each curve
    const c0 = ref['selectivity_4']![0]!;
    assert.ok(Math.abs(sel.auc[0]! - c0.reduce((t, v, j) => (j ? t + (v + c0[j - 1]!) / 2 : 0), 0)) < 1e-5);
    await assert.rejects(selectivity(model, new Tensor(new Float32Array(2 * 12 * 12 * 4), [2, 1, 4, 12, 12]), [0, 0], new Float32Array(2 * 4 * 12 * 12)), /2-D images/);
  } finally {
    await model.dispose();
  }
});

test('NonSensitivity equals Quantus on the same CNN: violations per image (defaults; groups of 4, white baseline, eps 1e-3)', async () => {
  const { loadModel } = await import('../../runtime/node.js');
  const { Tensor } = await import('../../tensor/tensor.js');
  const { nonSensitivity } = await import('./non-sensitivity.js');
  const m = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/quantus_model_reference.json', import.meta.url)), 'utf8')) as { x: number[]; y: number[]; shape: number[] };
  const ref = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/quantus_axiomatic_reference.json', import.meta.url)), 'utf8')) as { a: number[]; non_sensitivity: number[]; non_sensitivity_step4_white_eps3: number[] };
  const model = loadModel(fileURLToPath(new URL('./fixtures/quantus_cnn.onnx', import.meta.url)), { threads: 1 });
  try {
    const x = new Tensor(Float32Array.from(m.x), m.shape);
    const a = Float32Array.from(ref.a);
    assert.deepEqual(await nonSensitivity(model, x, m.y, a), ref.non_sensitivity);
    assert.deepEqual(await nonSensitivity(model, x, m.y, a, { featuresInStep: 4, baseline: 'white', eps: 1e-3 }), ref.non_sensitivity_step4_white_eps3);
  } finally {
    await model.dispose();
  }
});

test('Sufficiency equals Quantus on 12 images of both predicted classes whose maps form 3 clusters (threshold 0.6 with |a|; 0.8 signed)', async () => {
  const { loadModel } = await import('../../runtime/node.js');
  const { Tensor } = await import('../../tensor/tensor.js');
  const { sufficiency } = await import('./sufficiency.js');
  const ref = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/quantus_axiomatic_reference.json', import.meta.url)), 'utf8')) as { x12: number[]; y12: number[]; a12: number[]; sufficiency: number[]; sufficiency_t08_signed: number[] };
  const model = loadModel(fileURLToPath(new URL('./fixtures/quantus_cnn.onnx', import.meta.url)), { threads: 1 });
  try {
    const x = new Tensor(Float32Array.from(ref.x12), [12, 1, 12, 12]);
    const logits = await model.forward(x);
    assert.deepEqual(Array.from({ length: 12 }, (_, i) => (logits.data[2 * i + 1]! > logits.data[2 * i]! ? 1 : 0)), ref.y12, 'same predictions as PyTorch');
    const a = Float32Array.from(ref.a12);
    const close = (got: number[], want: number[], what: string) => got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-9, `${what} ${i}: ${v} vs ${want[i]}`));
    close(await sufficiency(model, x, a), ref.sufficiency, 'sufficiency');
    close(await sufficiency(model, x, a, { threshold: 0.8, abs: false }), ref.sufficiency_t08_signed, 'sufficiency (0.8, signed)');
  } finally {
    await model.dispose();
  }
});
