/**
 * DeepLiftShap against independent compositions and closed forms:
 *  - the mean of B separate `deepLift` calls, one per baseline (lrp_cnn with Captum's MaxPool rule and
 *    the conservative one, and its MaxPool-free variant), whatever the chunking of the pairs;
 *  - completeness: Σ attr = f_t(x) − mean_b f_t(x₀_b), with both sides from plain forward passes, on
 *    the MaxPool-free network and through MaxPool with maxPool: 'conservative';
 *  - a linear model: attr = w_t ⊙ (x − mean_b x₀_b) exactly;
 *  - clear errors for missing or misshapen baselines; registry wiring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeOrt } from '../runtime/node.js';
import { Model } from '../runtime/model.js';
import { Tensor } from '../tensor/tensor.js';
import { randn } from '../testing/gradcheck.js';
import { linearClassifierIR } from '../testing/linear-model.js';
import { deepLift } from './deeplift.js';
import { deepLiftShap } from './deeplift-shap.js';
import { shapBaselines } from './gradient-shap.js';
import { explain, getMethod } from './registry.js';
import { relMaxError } from './fixtures/tiny.js';
import { avgPoolVariant, loadLrpCnn, type LrpCnnFixtures } from './fixtures/lrp-cnn.js';

const load = () => loadLrpCnn<LrpCnnFixtures>('deeplift_fixtures.json');



/** f_t(x) − mean_b f_t(x₀_b) per image, from forward passes only. */
async function expectedSums(model: Model, x: Tensor, base: Tensor, targets: readonly number[]): Promise<number[]> {
  const k = model.numClasses;
  const fx = await model.forward(x);
  const fb = await model.forward(base);
  const B = base.shape[0]!;
  return targets.map((t, i) => {
    let m = 0;
    for (let b = 0; b < B; b++) m += fb.data[b * k + t]! / B;
    return fx.data[i * k + t]! - m;
  });
}

function imageSums(a: Tensor): number[] {
  const n = a.shape[0]!;
  const size = a.size / n;
  return Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let p = i * size; p < (i + 1) * size; p++) s += a.data[p]!;
    return s;
  });
}

test('DeepLiftShap is the mean of one DeepLIFT call per baseline (MaxPool captum/conservative, AvgPool; any chunking)', async (t) => {
  const { model, fx, x } = load();
  const avg = avgPoolVariant(model);
  try {
    const [, c, h, w] = fx.shape;
    const size = c * h * w;
    const B = 3;
    const base = randn([B, c, h, w], 11, 0.7);
    for (const [name, m, maxPool] of [['maxpool/captum', model, 'captum'], ['maxpool/conservative', model, 'conservative'], ['avgpool', avg, 'captum']] as const) {
      const mean = new Float64Array(x.size);
      const pairDelta: number[][] = [[], []];
      for (let b = 0; b < B; b++) {
        const r = await deepLift(m, x, fx.targets, { baseline: base.slice0(b, b + 1), maxPool });
        for (let q = 0; q < x.size; q++) mean[q]! += r.attributions!.data[q]! / B;
        for (let i = 0; i < 2; i++) pairDelta[i]!.push((r.extra!.delta as number[])[i]!);
      }
      // batchSize 4: two pairs per VJP call, so a chunk straddles the two images; default: one call
      for (const batchSize of [4, undefined]) {
        const r = await deepLiftShap(m, x, fx.targets, { baselines: base, maxPool, batchSize });
        const e = relMaxError(r.attributions!.data, mean);
        t.diagnostic(`${name}, batchSize ${batchSize ?? 'default'}: rel. max error vs mean of ${B} deepLift calls ${e.toExponential(2)}`);
        assert.ok(e < 1e-5, `${name}: rel. error ${e}`);
        assert.equal(r.method, 'deepliftshap');
        assert.equal(r.signed, true);
        assert.deepEqual(r.attributions!.shape, [2, c, h, w]);
        assert.deepEqual(r.map.shape, [2, h, w]);
        const m0 = Array.from({ length: h * w }, (_, p) => Array.from({ length: c }, (_, ch) => r.attributions!.data[size + ch * h * w + p]!).reduce((a, b) => a + b));
        assert.ok(relMaxError(r.map.data.subarray(h * w, 2 * h * w), m0) < 1e-6);
        // Captum's per-pair deltas (image-major), and the per-image delta is their mean
        const pd = r.extra!.pairDelta as number[];
        assert.equal(pd.length, 2 * B);
        for (let i = 0; i < 2; i++) {
          for (let b = 0; b < B; b++) assert.ok(Math.abs(pd[i * B + b]! - pairDelta[i]![b]!) < 1e-5, `${name}: pair delta ${i},${b}`);
          const meanPd = pairDelta[i]!.reduce((a, b) => a + b, 0) / B;
          assert.ok(Math.abs((r.extra!.delta as number[])[i]! - meanPd) < 1e-5, `${name}: delta ${i}`);
        }
        assert.equal(r.extra!.baselineCount, B);
        assert.deepEqual((r.extra!.baselineLogits as Tensor).shape, [B, 3]);
      }
    }
    // one baseline: DeepLIFT itself
    const one = await deepLiftShap(model, x, fx.targets, { baselines: 'zeros' });
    const dl = await deepLift(model, x, fx.targets);
    assert.ok(relMaxError(one.attributions!.data, dl.attributions!.data) < 1e-6);
  } finally {
    await model.dispose();
    await avg.dispose();
  }
});

test('completeness: Σ attr = f_t(x) − mean_b f_t(x₀_b) without MaxPool, and through MaxPool with the conservative rule', async (t) => {
  const { model, fx, x } = load();
  const avg = avgPoolVariant(model);
  try {
    const [, c, h, w] = fx.shape;
    const given = randn([5, c, h, w], 21, 0.8);
    const cases: [string, Parameters<typeof deepLiftShap>[3], Tensor][] = [
      ['tensor', { baselines: given }, given],
      // the default: GradientSHAP's 'uniform' distribution, 16 images of U(−1, 1), seed 0
      ['uniform (default)', {}, shapBaselines(x, 'uniform')],
      ['batch', { baselines: 'batch' }, x],
    ];
    let worst = 0;
    for (const [name, opts, base] of cases) {
      for (const [net, m, maxPool] of [['avgpool', avg, 'captum'], ['maxpool conservative', model, 'conservative']] as const) {
        for (const target of [0, 1, 2]) {
          const r = await deepLiftShap(m, x, target, { ...opts, maxPool, batchSize: 6 });
          assert.equal(r.extra!.baselineCount, base.shape[0]);
          const want = await expectedSums(m, x, base, [target, target]);
          const got = imageSums(r.attributions!);
          for (let i = 0; i < 2; i++) {
            const e = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
            worst = Math.max(worst, e);
            t.diagnostic(`${net}, ${name}, t=${target} #${i}: f(x) − mean f(x₀) = ${want[i]!.toFixed(6)}, Σ attr − that ${(got[i]! - want[i]!).toExponential(2)}, extra.delta ${(r.extra!.delta as number[])[i]!.toExponential(2)}`);
            assert.ok(e < 1e-4, `${net} ${name} t=${target} #${i}: rel. error ${e}`);
            assert.ok(Math.abs((r.extra!.delta as number[])[i]!) < 1e-4 * Math.max(1, Math.abs(want[i]!)), `${net} ${name}: extra.delta`);
          }
        }
      }
    }
    t.diagnostic(`worst completeness rel. error ${worst.toExponential(2)}`);
    // Captum's MaxPool rule drops part of Δy, as DeepLIFT's does
    const rcap = await deepLiftShap(model, x, fx.targets, { baselines: given });
    assert.ok(Math.max(...(rcap.extra!.delta as number[]).map(Math.abs)) > 1e-4);
  } finally {
    await model.dispose();
    await avg.dispose();
  }
});

test('on a linear model DeepLiftShap is w_t ⊙ (x − mean_b x₀_b), exactly', async (t) => {
  const [N, C, H, W, K, B] = [3, 2, 5, 4, 3, 5];
  const D = C * H * W;
  const wts = randn([K, D], 3).data as Float32Array;
  const bias = Float32Array.from([0.3, -1.2, 2.5]);
  const model = Model.fromIR(linearClassifierIR(C, H, W, K, wts, bias), nodeOrt, { source: 'linear' });
  try {
    const x = randn([N, C, H, W], 4);
    const base = randn([B, C, H, W], 5);
    const targets = [2, 0, 1];
    const r = await deepLiftShap(model, x, targets, { baselines: base, batchSize: 4 });
    const want = new Float64Array(N * D);
    for (let i = 0; i < N; i++) {
      for (let p = 0; p < D; p++) {
        let mb = 0;
        for (let b = 0; b < B; b++) mb += base.data[b * D + p]! / B;
        want[i * D + p] = wts[targets[i]! * D + p]! * (x.data[i * D + p]! - mb);
      }
    }
    const e = relMaxError(r.attributions!.data, want);
    t.diagnostic(`linear closed form: rel. max error ${e.toExponential(2)}; deltas ${(r.extra!.delta as number[]).map((d) => d.toExponential(1)).join(', ')}`);
    assert.ok(e < 1e-5, `rel. error ${e}`);
    for (const d of r.extra!.delta as number[]) assert.ok(Math.abs(d) < 1e-4, `delta ${d}`);
  } finally {
    await model.dispose();
  }
});

test('bad requests are clear errors naming what is expected', async () => {
  const { model, fx, x } = load();
  try {
    const [, c, h, w] = fx.shape;
    await assert.rejects(deepLiftShap(model, x, 0, { baselines: new Tensor(new Float32Array(0), [0, c, h, w]) }), /deepliftshap: no baselines: the baselines tensor \[0, 2, 12, 12\] holds 0 images; expected a baseline tensor \[B, 2, 12, 12\] with B ≥ 1/);
    await assert.rejects(deepLiftShap(model, x, 0, { baselines: null as never }), /deepliftshap: no baselines given; expected a baseline tensor \[B, 2, 12, 12\]/);
    await assert.rejects(deepLiftShap(model, x, 0, { baselines: randn([3, c, h + 1, w]) }), /deepliftshap: baselines have shape \[3, 2, 13, 12\], expected a baseline tensor \[B, 2, 12, 12\] with B ≥ 1 \(or one baseline \[2, 12, 12\]\)/);
    await assert.rejects(deepLiftShap(model, x, 0, { baselines: randn([h, w]) }), /deepliftshap: baselines have shape \[12, 12\], expected/);
    await assert.rejects(deepLiftShap(model, x, 0, { baselines: 'nope' as never }), /deepliftshap: unknown baselines 'nope' \(valid: zeros, black, gray, uniform, batch, or a tensor/);
    await assert.rejects(deepLiftShap(model, x, 0, { baselineCount: 0 }), /deepliftshap: baselineCount must be a positive integer, got 0/);
    await assert.rejects(deepLiftShap(model, x.slice0(0, 1), 0, { baselines: 'batch' }), /deepliftshap: baselines 'batch' needs at least 2 images/);
    await assert.rejects(deepLiftShap(model, x, 0, { maxPool: 'nope' as never }), /unknown maxPool 'nope' \(valid: captum, conservative\)/);
    // a [C,H,W] baseline is one baseline
    const one = await deepLiftShap(model, x, 0, { baselines: new Tensor(new Float32Array(c * h * w), [c, h, w]) });
    assert.equal(one.extra!.baselineCount, 1);
  } finally {
    await model.dispose();
  }
});

test("registry: 'deepliftshap' is signed, takes GradientSHAP's baselines and DeepLIFT's rules, and runs", async () => {
  const m = getMethod('DeepLiftShap');
  assert.equal(m.name, 'deepliftshap');
  assert.equal(m.signed, true);
  assert.equal(m.usesLayer, false);
  for (const k of ['baselines', 'baselineCount', 'dataRange', 'eps', 'maxPool']) assert.ok(k in m.options, k);
  assert.equal(m.defaults.baselines, 'uniform');
  const { model, fx, x } = load();
  try {
    const a = await explain(model, x, 'deepliftshap', fx.targets, { baselineCount: 3 });
    const b = await deepLiftShap(model, x, fx.targets, { baselineCount: 3 });
    assert.equal(a.method, 'deepliftshap');
    assert.deepEqual(a.map.data, b.map.data);
    await assert.rejects(explain(model, x, 'deepliftshap', 0, { baseline: 'zeros' }), /deepliftshap: unknown option 'baseline'/);
  } finally {
    await model.dispose();
  }
});
