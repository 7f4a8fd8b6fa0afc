/**
 * DeepLIFT-Rescale against a float64 PyTorch port of Captum's DeepLift hooks
 * (fixtures/make_deeplift_fixtures.py) on lrp_cnn.onnx (Conv, unfolded BatchNorm, ReLU, MaxPool,
 * AvgPool, global average pooling, Gemm) and on the same network with the MaxPool replaced by an
 * AveragePool, for a zero and a random baseline; summation-to-delta on the MaxPool-free network
 * (and through MaxPool with maxPool: 'conservative'); registry wiring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { deepLift } from './deeplift.js';
import { explain, getMethod } from './registry.js';
import { relMaxError } from './fixtures/tiny.js';
import { avgPoolVariant, loadLrpCnn, type LrpCnnFixtures } from './fixtures/lrp-cnn.js';

const load = () => loadLrpCnn<DeepLiftFixtures>('deeplift_fixtures.json');

interface Ref {
  attributions: number[];
  delta: number[];
}
interface DeepLiftFixtures extends LrpCnnFixtures {
  cases: { baseline: string; baselineData: number[]; maxpool: Ref; avgpool: Ref }[];
}



const sum = (a: ArrayLike<number>) => Array.from(a).reduce((p, q) => p + q, 0);

test('DeepLIFT-Rescale equals a PyTorch port of Captum DeepLift (ReLU, MaxPool, BatchNorm; zero and random baselines)', async (t) => {
  const { model, fx, x } = load();
  const avg = avgPoolVariant(model);
  try {
    for (const cs of fx.cases) {
      const baseline = new Tensor(Float32Array.from(cs.baselineData), fx.shape);
      for (const [name, m, ref] of [['maxpool', model, cs.maxpool], ['avgpool', avg, cs.avgpool]] as const) {
        const r = await deepLift(m, x, fx.targets, { baseline: cs.baseline === 'zeros' ? 'zeros' : baseline });
        const e = relMaxError(r.attributions!.data, ref.attributions);
        t.diagnostic(`${cs.baseline} baseline, ${name}: rel. max error ${e.toExponential(2)}`);
        assert.ok(e < 1e-5, `${cs.baseline}/${name}: rel. error ${e}`);
        assert.equal(r.signed, true);
        assert.deepEqual(r.map.shape, [2, 12, 12]);
        const [, c, h, w] = fx.shape;
        const m0 = Array.from({ length: h * w }, (_, p) => Array.from({ length: c }, (_, ch) => r.attributions!.data[ch * h * w + p]!).reduce((a, b) => a + b));
        assert.ok(relMaxError(r.map.data.subarray(0, h * w), m0) < 1e-6);
        // Captum's convergence delta, from the reference's f(x) − f(x₀)
        const size = c * h * w;
        for (let i = 0; i < 2; i++) {
          const s = sum(r.attributions!.data.subarray(i * size, (i + 1) * size));
          assert.ok(Math.abs(s - ref.delta[i]! - (r.extra!.delta as number[])[i]!) < 1e-5, `${name} delta ${i}`);
        }
      }
    }
  } finally {
    await model.dispose();
    await avg.dispose();
  }
});

test('summation-to-delta: Σ attr = f_t(x) − f_t(x₀) on a ReLU network without MaxPool, and through MaxPool with the conservative rule', async (t) => {
  const { model, fx, x } = load();
  const avg = avgPoolVariant(model);
  try {
    const baselines: [string, Parameters<typeof deepLift>[3]][] = [
      ['zeros', {}],
      ['blur', { baseline: 'blur', blurSigma: 1.5 }],
      ['tensor', { baseline: new Tensor(Float32Array.from(fx.cases[1]!.baselineData), fx.shape) }],
    ];
    for (const [name, opts] of baselines) {
      for (const target of [0, 1, 2]) {
        const r = await deepLift(avg, x, target, opts);
        const d = r.extra!.delta as number[];
        const base = r.extra!.baselineLogits as Tensor;
        for (let i = 0; i < 2; i++) {
          const diff = r.logits.data[i * 3 + target]! - base.data[i * 3 + target]!;
          t.diagnostic(`avgpool ${name} t=${target} #${i}: f(x)−f(x₀) = ${diff.toFixed(6)}, delta ${d[i]!.toExponential(2)}`);
          assert.ok(Math.abs(d[i]!) < 1e-5 * Math.max(1, Math.abs(diff)), `${name} t=${target}: delta ${d[i]}`);
        }
      }
      const rc = await deepLift(model, x, fx.targets, { ...opts, maxPool: 'conservative' });
      for (const [i, d] of (rc.extra!.delta as number[]).entries()) {
        t.diagnostic(`maxpool conservative ${name} #${i}: delta ${d.toExponential(2)}`);
        assert.ok(Math.abs(d) < 1e-5, `conservative ${name}: delta ${d}`);
      }
    }
    // Captum's MaxPool rule drops part of Δy (the reference shows it too)
    const rcap = await deepLift(model, x, fx.targets);
    assert.ok(Math.max(...(rcap.extra!.delta as number[]).map(Math.abs)) > 1e-4);
    // chunking into image/baseline pairs does not change the result
    const one = await deepLift(avg, x, fx.targets, { batchSize: 2 });
    const all = await deepLift(avg, x, fx.targets);
    assert.ok(relMaxError(one.attributions!.data, all.attributions!.data) < 1e-6);
    // x = x₀: no attribution, no error
    const same = await deepLift(model, x, fx.targets, { baseline: x });
    assert.ok(same.attributions!.data.every((v) => v === 0));
    await assert.rejects(deepLift(model, x, 0, { maxPool: 'nope' as never }), /unknown maxPool 'nope'/);
  } finally {
    await model.dispose();
    await avg.dispose();
  }
});

test("registry: 'deeplift' is signed, takes a baseline, and runs", async () => {
  const m = getMethod('DeepLIFT');
  assert.equal(m.name, 'deeplift');
  assert.equal(m.signed, true);
  assert.equal(m.usesLayer, false);
  assert.ok('baseline' in m.options && 'maxPool' in m.options);
  const { model, fx, x } = load();
  try {
    const a = await explain(model, x, 'deeplift', fx.targets, { baseline: 'zeros' });
    const b = await deepLift(model, x, fx.targets);
    assert.equal(a.method, 'deeplift');
    assert.deepEqual(a.map.data, b.map.data);
  } finally {
    await model.dispose();
  }
});
