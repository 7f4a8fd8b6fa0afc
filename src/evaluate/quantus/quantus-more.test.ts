/**
 * Quantus' SensitivityN, Infidelity, MonotonicityCorrelation, IROF, Completeness, Focus and InputInvariance against
 * Quantus itself (fixtures/make_quantus_more_fixtures.py) on the seeded CNN, its recorded inputs and maps; the
 * random baseline of MonotonicityCorrelation replayed from NumPy's generator, IROF on the superpixels Quantus made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../runtime/node.js';
import { Tensor } from '../../tensor/tensor.js';
import { explain } from '../../explain/registry.js';
import { NumpyRandomState } from '../../tensor/numpy-random.js';
import { sensitivityN } from './sensitivity-n.js';
import { infidelity } from './infidelity.js';
import { monotonicityCorrelation } from './monotonicity-correlation.js';
import { irof } from './irof.js';
import { completeness } from './completeness.js';
import { focus } from './focus.js';
import { inputInvariance } from './input-invariance.js';
import type { Model } from '../../runtime/model.js';

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));
const m = JSON.parse(readFileSync(fixture('quantus_model_reference.json'), 'utf8')) as { x: number[]; y: number[]; a: number[]; shape: number[] };
const ref = JSON.parse(readFileSync(fixture('quantus_more_reference.json'), 'utf8')) as Record<string, number[] | number[][]>;
const x = new Tensor(Float32Array.from(m.x), m.shape);
const a = Float32Array.from(m.a);

function close(name: string, got: readonly number[], tol: number, t: { diagnostic(s: string): void }, want = ref[name] as (number | null)[]): void {
  assert.equal(got.length, want.length, name);
  let worst = 0;
  got.forEach((g, i) => {
    const w = want[i];
    if (w === null) return assert.ok(Number.isNaN(g), `${name}[${i}]: Quantus NaN, candor ${g}`);
    const e = Math.abs(g - w!) / Math.max(1, Math.abs(w!));
    worst = Math.max(worst, e);
    assert.ok(e <= tol, `${name}[${i}]: candor ${g}, Quantus ${w}`);
  });
  t.diagnostic(`${name}: largest relative difference ${worst.toExponential(2)}`);
}

async function withModel(file: string, f: (model: Model) => Promise<void>): Promise<void> {
  const model = loadModel(fixture(file), { threads: 1 });
  try {
    await f(model);
  } finally {
    await model.dispose();
  }
}

test('SensitivityN, Infidelity, MonotonicityCorrelation and IROF equal Quantus on the same CNN, maps and draws', async (t) => {
  await withModel('quantus_cnn.onnx', async (model) => {
    close('sensitivity_n_8', (await sensitivityN(model, x, m.y, a, { featuresInStep: 8 })).perN, 1e-4, t);
    close('sensitivity_n_12_abs', (await sensitivityN(model, x, m.y, a, { featuresInStep: 12, abs: true, nMaxPercentage: 0.5 })).perN, 1e-4, t);
    close('infidelity', await infidelity(model, x, m.y, a), 1e-4, t);
    close('infidelity_6_3', await infidelity(model, x, m.y, a, { patchSizes: [6, 3], abs: true }), 1e-4, t);
    close('monotonicity_correlation', await monotonicityCorrelation(model, x, m.y, a, { samples: 10, featuresInStep: 4, noise: new NumpyRandomState(11) }), 1e-9, t);
    const segments = new Tensor(Float32Array.from(ref.irof_segments as number[]), ref.irof_segments_shape as number[]);
    close('irof', await irof(model, x, m.y, a, { segments }), 1e-4, t);
  });
});

test('Completeness: Quantus’ exact equality is false on real maps; candor reports the gap, equal to the float64 reference', async (t) => {
  await withModel('quantus_cnn.onnx', async (model) => {
    const r = await completeness(model, x, m.y, a);
    assert.deepEqual(r.holds.map(Number), ref.completeness);
    close('completeness_gap', r.gap, 1e-5, t);
    const loose = await completeness(model, x, m.y, a, { tolerance: 1e9 });
    assert.ok(loose.holds.every(Boolean));
  });
});

test('Focus equals Quantus on mosaics’ quadrant labels (normalised; abs without normalising)', (t) => {
  const q = ref.focus_quadrants as [number, number, number, number][];
  close('focus', focus(a, m.shape, q), 1e-6, t);
  close('focus_abs', focus(a, m.shape, q, { abs: true, normalise: false }), 1e-6, t);
  assert.throws(() => focus(a, m.shape, q.slice(1)), /3 quadrant labels for 4 mosaics/);
});

test('InputInvariance equals Quantus (which leaves the first element unshifted); shifting every element, the gradient passes and input × gradient fails', async () => {
  const grad = async (model: Model, inputs: Tensor, targets: readonly number[]) => (await explain(model, inputs, 'gradient', [...targets])).attributions!;
  const ixg = async (model: Model, inputs: Tensor, targets: readonly number[]) => (await explain(model, inputs, 'inputxgradient', [...targets])).attributions!;
  await withModel('quantus_cnn.onnx', async (model) => {
    const ag = await grad(model, x, m.y);
    const q = { quantusFirstElement: true };
    assert.deepEqual((await inputInvariance(model, x, m.y, ag, grad, q)).map(Number), ref.input_invariance_gradient);
    assert.deepEqual((await inputInvariance(model, x, m.y, await ixg(model, x, m.y), ixg, q)).map(Number), ref.input_invariance_ixg);
    assert.deepEqual((await inputInvariance(model, x, m.y, ag, grad, { shift: 0.5, ...q })).map(Number), ref.input_invariance_gradient_shift05);
  });
  await withModel('quantus_cnn_nopad.onnx', async (model) => {
    const y = ref.nopad_y as number[];
    const ag = await grad(model, x, y);
    const ai = await ixg(model, x, y);
    assert.deepEqual((await inputInvariance(model, x, y, ag, grad, { quantusFirstElement: true })).map(Number), ref.input_invariance_nopad_gradient);
    assert.deepEqual((await inputInvariance(model, x, y, ai, ixg, { quantusFirstElement: true })).map(Number), ref.input_invariance_nopad_ixg);
    // every element shifted: with no padding the shift is cancelled exactly, so gradients are invariant
    assert.deepEqual(await inputInvariance(model, x, y, ag, grad), [true, true, true, true]);
    assert.deepEqual(await inputInvariance(model, x, y, ai, ixg), [false, false, false, false]);
  });
});

test('Monotonicity (AIX360’s definition): a linear model’s own contributions w·(x − baseline) are monotonic, a shuffled map is not', async () => {
  const { linearModel } = await import('../fixtures/linear-model.js');
  const { monotonicity } = await import('./monotonicity.js');
  const { model, W } = linearModel(1, 4, 4, 2, 21);
  try {
    const xs = new Tensor(Float32Array.from({ length: 2 * 16 }, (_, i) => Math.sin(i * 1.7) * 2), [2, 1, 4, 4]);
    const targets = [0, 1];
    // contribution of each element to the logit difference (target − other), revealed alone on the baseline
    const contrib = new Float32Array(32);
    for (let i = 0; i < 2; i++) {
      const img = xs.data.subarray(i * 16, (i + 1) * 16);
      const base = Math.min(...img);
      for (let p = 0; p < 16; p++) contrib[i * 16 + p] = (W[targets[i]! * 16 + p]! - W[(1 - targets[i]!) * 16 + p]!) * (img[p]! - base);
    }
    const good = await monotonicity(model, xs, targets, contrib, { abs: false });
    assert.deepEqual(good.monotonic, [true, true]);
    assert.deepEqual(good.monotoneShare, [1, 1]);
    const shuffled = Float32Array.from(contrib, (_, q) => contrib[(q * 7) % 32]!);
    const bad = await monotonicity(model, xs, targets, shuffled, { abs: false });
    assert.deepEqual(bad.monotonic, [false, false]);
    assert.ok(bad.monotoneShare.every((s) => s < 1));
  } finally {
    await model.dispose();
  }
});
