/**
 * Quantus' robustness family and RandomLogit against Quantus itself (fixtures/make_quantus_robustness_fixtures.py:
 * the seeded CNN, the plain gradient as the method, NumPy's global generator seeded before each metric). candor
 * replays the same draws through a NumPy-compatible generator (tensor/numpy-random.ts), so even the noise-based
 * scores are compared value for value; candor computes the gradient with its own engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../runtime/node.js';
import { Tensor } from '../../tensor/tensor.js';
import { explain } from '../../explain/registry.js';
import { NumpyRandomState } from '../../tensor/numpy-random.js';
import { consistency, continuity, localLipschitzEstimate, quantusSensitivity, relativeStability, translateX } from './robustness.js';
import { randomLogit } from './random-logit.js';

const m = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/quantus_model_reference.json', import.meta.url)), 'utf8')) as { x: number[]; y: number[]; shape: number[] };
const ref = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/quantus_robustness_reference.json', import.meta.url)), 'utf8')) as Record<string, (number | null)[]>;

function same(name: string, got: readonly number[], tol: number, t: { diagnostic(s: string): void }): void {
  const want = ref[name]!;
  assert.equal(got.length, want.length, name);
  let worst = 0;
  got.forEach((g, i) => {
    const w = want[i];
    if (w === null) return assert.ok(Number.isNaN(g), `${name}[${i}]: Quantus gives NaN, candor ${g}`);
    const e = Math.abs(g - w) / Math.max(1, Math.abs(w));
    worst = Math.max(worst, e);
    assert.ok(e <= tol, `${name}[${i}]: candor ${g}, Quantus ${w}`);
  });
  t.diagnostic(`${name}: largest relative difference ${worst.toExponential(2)}`);
}

test('Quantus’ robustness metrics and RandomLogit: equal to Quantus on its own noise draws', async (t) => {
  const model = loadModel(fileURLToPath(new URL('./fixtures/quantus_cnn.onnx', import.meta.url)), { threads: 1 });
  try {
    const x = new Tensor(Float32Array.from(m.x), m.shape);
    const y = m.y;
    const grad = async (inputs: Tensor, targets: readonly number[]) => (await explain(model, inputs, 'gradient', [...targets])).attributions!;
    const a = await grad(x, y);
    const np = (seed: number) => new NumpyRandomState(seed);
    same('avg_sensitivity', await quantusSensitivity('avg', model, x, a, y, grad, { samples: 50, noise: np(1) }), 1e-5, t);
    same('max_sensitivity', await quantusSensitivity('max', model, x, a, y, grad, { samples: 50, noise: np(2) }), 1e-5, t);
    same('max_sensitivity_norm_abs_05', await quantusSensitivity('max', model, x, a, y, grad, { samples: 20, lowerBound: 0.5, normalise: true, abs: true, nanWhenPredictionChanges: true, noise: np(3) }), 1e-5, t);
    same('local_lipschitz', await localLipschitzEstimate(model, x, a, y, grad, { samples: 50, noise: np(4) }), 1e-5, t);
    same('local_lipschitz_std03', await localLipschitzEstimate(model, x, a, y, grad, { samples: 30, std: 0.3, abs: true, noise: np(5) }), 1e-5, t);
    same('continuity', await continuity(model, x, y, grad), 1e-5, t);
    same('continuity_6', await continuity(model, x, y, grad, { steps: 6 }), 1e-5, t);
    same('consistency', await consistency(model, x, a), 1e-9, t);
    same('consistency_signed', await consistency(model, x, a, { abs: false }), 1e-9, t);
    // RIS/ROS divide by the map's own entries, (a − a′)/a: where a gradient entry is near 0 the float32 rounding
    // of the two engines' gradients (~1e-7 of the map's scale) is amplified, hence the looser tolerance
    same('relative_input_stability', await relativeStability('input', model, x, a, y, grad, { samples: 30, nanWhenPredictionChanges: false, noise: np(6) }), 2e-3, t);
    same('relative_input_stability_nan', await relativeStability('input', model, x, a, y, grad, { samples: 30, noise: np(6) }), 2e-3, t);
    same('relative_output_stability', await relativeStability('output', model, x, a, y, grad, { samples: 30, nanWhenPredictionChanges: false, noise: np(7) }), 2e-3, t);
    same('relative_representation_stability', await relativeStability('representation', model, x, a, y, grad, { samples: 30, layer: '3', nanWhenPredictionChanges: false, noise: np(8) }), 2e-3, t);
    same('random_logit', (await randomLogit(model, x, a, y, grad, { noise: np(42) })).scores, 1e-4, t);
    same('random_logit_seed3', (await randomLogit(model, x, a, y, grad, { noise: np(3), abs: true })).scores, 1e-4, t);
  } finally {
    await model.dispose();
  }
});

test('translateX shifts along the last axis and fills with each image’s minimum (any shift, beyond the width too)', () => {
  const x = new Tensor(Float32Array.from([1, 2, 3, 4, 5, 6, -1, 7]), [2, 1, 1, 4]);
  assert.deepEqual([...translateX(x, 1).data], [1, 1, 2, 3, -1, 5, 6, -1]);
  assert.deepEqual([...translateX(x, -2).data], [3, 4, 1, 1, -1, 7, -1, -1]);
  assert.deepEqual([...translateX(x, 9).data], [1, 1, 1, 1, -1, -1, -1, -1]);
});

test('the robustness metrics refuse mismatched batches and bad settings in one line', async () => {
  const model = loadModel(fileURLToPath(new URL('./fixtures/quantus_cnn.onnx', import.meta.url)), { threads: 1 });
  try {
    const x = new Tensor(Float32Array.from(m.x), m.shape);
    const a = new Tensor(new Float32Array(x.data.length), x.shape);
    const grad = async () => a;
    await assert.rejects(quantusSensitivity('avg', model, x, a, [0], grad), /avg-sensitivity: 4 images, 4 attributions and 1 targets/);
    await assert.rejects(quantusSensitivity('max', model, x, a, m.y, grad, { samples: 0 }), /samples must be a positive integer/);
    await assert.rejects(relativeStability('input', model, x, a, m.y, grad, { lowerBound: 0.3, upperBound: 0.2 }), /upperBound must exceed lowerBound/);
    await assert.rejects(continuity(model, x.reshape([4, 144]), m.y, grad), /needs images \[N, C, H, W\]/);
  } finally {
    await model.dispose();
  }
});
