/**
 * GradientSHAP / Expected Gradients against independent references:
 *  - PyTorch re-implementation of Captum's GradientShap (fixtures/make_tiny_fixtures.py) with its
 *    recorded draws (baseline index, interpolation point, noise) on the tiny CNN;
 *  - a linear model, where the gradient is constant: attr = w_t ⊙ (x − mean of the drawn baselines),
 *    exactly, whatever the interpolation points;
 *  - seeded reproducibility, completeness in expectation, and clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { Model } from '../runtime/model.js';
import { nodeOrt } from '../runtime/node.js';
import { randn } from '../testing/gradcheck.js';
import { linearClassifierIR } from '../testing/linear-model.js';
import { gradientShap, gradientShapWithDraws, expectedGradients } from './gradient-shap.js';
import { loadTiny, relMaxError } from './fixtures/tiny.js';

test("GradientSHAP equals Captum's GradientShap (PyTorch re-implementation) for the same draws", async (t) => {
  const { model, fx, x } = loadTiny();
  try {
    const g = fx.gradientshap;
    const [n, c, h, w] = fx.shape;
    const size = c * h * w;
    const base = new Tensor(Float32Array.from(g.baselines), [g.baselines.length / size, c, h, w]);
    const attr = await gradientShapWithDraws(model, x, fx.targets, base, g.samples, {
      baselineIndex: (q) => g.baselineIndex[q]!,
      alpha: (q) => g.alpha[q]!,
      noise: (q, out) => {
        for (let p = 0; p < size; p++) out[p]! += g.noise[q * size + p]!;
      },
    }, { batchSize: 3 });
    assert.deepEqual(attr.shape, [n, c, h, w]);
    const e = relMaxError(attr.data, g.attributions);
    t.diagnostic(`GradientSHAP rel. error ${e.toExponential(2)}`);
    assert.ok(e < 1e-5, `rel. error ${e}`);
  } finally {
    await model.dispose();
  }
});

function linearModel(C: number, H: number, W: number, K: number, wts: Float32Array): Model {
  return Model.fromIR(linearClassifierIR(C, H, W, K, wts), nodeOrt, { source: 'linear' });
}

test('on a linear model GradientSHAP is w_t ⊙ (x − the drawn baselines) averaged, exactly', async (t) => {
  const [N, C, H, W, K, S] = [2, 2, 5, 4, 3, 7];
  const D = C * H * W;
  const wts = randn([K, D], 3).data as Float32Array;
  const model = linearModel(C, H, W, K, wts);
  try {
    const x = randn([N, C, H, W], 4);
    const base = randn([5, C, H, W], 5);
    const idx = [0, 4, 2, 2, 1, 3, 0, 1, 1, 4, 2, 0, 3, 3];
    const alpha = idx.map((_, q) => (q * 0.37) % 1);
    const attr = await gradientShapWithDraws(model, x, [2, 0], base, S, { baselineIndex: (q) => idx[q]!, alpha: (q) => alpha[q]! });
    const targets = [2, 0];
    let worst = 0;
    for (let i = 0; i < N; i++) {
      for (let p = 0; p < D; p++) {
        let mb = 0;
        for (let s = 0; s < S; s++) mb += base.data[idx[i * S + s]! * D + p]! / S;
        const want = wts[targets[i]! * D + p]! * (x.data[i * D + p]! - mb);
        worst = Math.max(worst, Math.abs(attr.data[i * D + p]! - want));
      }
    }
    t.diagnostic(`linear closed-form max |Δ| ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-5, `closed-form error ${worst}`);
    // seeded: same seed same result, other seed different; registry-level defaults run
    const a = await gradientShap(model, x, 1, { samples: 6, stdev: 0.1, seed: 3 });
    const b = await gradientShap(model, x, 1, { samples: 6, stdev: 0.1, seed: 3 });
    const c = await gradientShap(model, x, 1, { samples: 6, stdev: 0.1, seed: 4 });
    assert.deepEqual(a.map.data, b.map.data);
    assert.notDeepEqual(a.map.data, c.map.data);
    const eg = await expectedGradients(model, x, 1, { samples: 4 });
    assert.equal(eg.method, 'expectedgradients');
    assert.equal(eg.extra!.baselines, 'batch');
    await assert.rejects(gradientShap(model, x, 1, { baselines: 'noise' as never }), /unknown baselines 'noise' \(valid: zeros, black, gray, uniform, batch, or a tensor/);
    await assert.rejects(gradientShap(model, x, 1, { samples: 0 }), /samples must be a positive integer/);
    await assert.rejects(expectedGradients(model, x.slice0(0, 1), 1), /baselines 'batch' needs at least 2 images/);
    await assert.rejects(gradientShap(model, x, 1, { baselines: Tensor.zeros([1, C, H + 1, W]) }), /baselines have shape/);
  } finally {
    await model.dispose();
  }
});
