/**
 * CAM options against references built here from their definitions:
 *  - eigen_smooth: the per-layer cam is the first principal component (power iteration) of the
 *    weighted activations w_k·A_k (Grad-CAM) or W_k ⊙ A_k (HiResCAM);
 *  - aug_smooth: the mean of the 6 maps of {flip} × {0.9, 1, 1.1}-scaled inputs, flipped back;
 *  - Score-CAM's tf-keras-vis variant: weights = softmax probability of the target on x ⊙ M_k,
 *    masks normalised with safe_divide; and the exact de-duplication of identical masks changes
 *    nothing but the number of forward passes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../../tensor/tensor.js';
import { loadModel } from '../../runtime/node.js';
import { camFromTensors } from './base.js';
import { gradCam, gradCamMethod } from './gradcam.js';
import { hiResCamMethod } from './hirescam.js';
import { scoreCam, scoreCamMask } from './scorecam.js';
import { ablationCam } from './ablationcam.js';
import { loadTiny, TINY_LAYER } from '../fixtures/tiny.js';

const BASELINE = fileURLToPath(new URL('../../../models/baseline/small_cnn_pneumoniamnist64.onnx', import.meta.url));

function powerProjection(X: Float64Array, K: number, hw: number, ref: ArrayLike<number>): number[] {
  // X channel-major [K, hw]; centre per channel, top right-singular vector by power iteration
  const x = Float64Array.from(X);
  for (let c = 0; c < K; c++) {
    let m = 0;
    for (let p = 0; p < hw; p++) m += x[c * hw + p]! / hw;
    for (let p = 0; p < hw; p++) x[c * hw + p]! -= m;
  }
  let v = Array.from({ length: K }, (_, c) => 1 + 0.01 * c);
  for (let it = 0; it < 2000; it++) {
    const xv = Array.from({ length: hw }, (_, p) => v.reduce((s, vc, c) => s + x[c * hw + p]! * vc, 0));
    const nv = Array.from({ length: K }, (_, c) => xv.reduce((s, q, p) => s + x[c * hw + p]! * q, 0));
    const norm = Math.hypot(...nv);
    v = nv.map((e) => e / norm);
  }
  const proj = Array.from({ length: hw }, (_, p) => v.reduce((s, vc, c) => s + x[c * hw + p]! * vc, 0));
  // orientation: positively correlated with the channel-summed (weighted) activations
  let corr = 0;
  for (let c = 0; c < K; c++) for (let p = 0; p < hw; p++) corr += proj[p]! * ref[c * hw + p]!;
  return corr < 0 ? proj.map((q) => -q) : proj;
}

test('eigen_smooth: the cam is the first principal component of the weighted activations', (t) => {
  const [K, h, w] = [6, 4, 5];
  const hw = h * w;
  const a = Float32Array.from({ length: K * hw }, (_, i) => Math.max(0, Math.sin(i * 0.71) + 0.3 * Math.cos(i * 0.13)));
  const g = Float32Array.from({ length: K * hw }, (_, i) => Math.cos(i * 0.29) * 0.5 + 0.1);
  const layers = [{ activations: new Tensor(a, [1, K, h, w]), grads: new Tensor(g, [1, K, h, w]) }];
  for (const [method, weighted] of [
    [gradCamMethod, (() => { const wk = gradCamMethod.channelWeights!({ a, g, k: K, spatial: [h, w], voxels: hw, logit: 0, options: {} }); return Float64Array.from(a, (v, i) => v * wk[Math.floor(i / hw)]!); })()],
    [hiResCamMethod, Float64Array.from(a, (v, i) => v * g[i]!)],
  ] as const) {
    const { raw } = camFromTensors(method, layers, [0], [8, 10], { eigenSmooth: true });
    const ref = powerProjection(weighted, K, hw, weighted).map((v) => Math.max(v, 0));
    const scale = Math.max(...ref);
    let err = 0;
    for (let p = 0; p < hw; p++) err = Math.max(err, Math.abs(raw[0]!.data[p]! - ref[p]!));
    t.diagnostic(`eigen_smooth ${method.name}: max |Δ| ${(err / scale).toExponential(2)} of the max`);
    assert.ok(err < 1e-5 * scale, `${method.name}: ${err}`);
    const plain = camFromTensors(method, layers, [0], [8, 10]);
    assert.notDeepEqual(plain.raw[0]!.data, raw[0]!.data);
  }
});

test('aug_smooth: the mean of the six flipped / scaled maps, flipped back', async (t) => {
  const { model, fx, x } = loadTiny();
  try {
    const [n, c, H, W] = fx.shape;
    const r = await gradCam(model, x, fx.targets, { layer: TINY_LAYER, augSmooth: true });
    const want = new Float64Array(n * H * W);
    for (const flip of [false, true]) {
      for (const factor of [0.9, 1, 1.1]) {
        const xa = new Float32Array(x.size);
        for (let q = 0; q < n * c * H; q++) for (let j = 0; j < W; j++) xa[q * W + j] = x.data[q * W + (flip ? W - 1 - j : j)]! * factor;
        const m = await gradCam(model, new Tensor(xa, x.shape), fx.targets, { layer: TINY_LAYER });
        for (let q = 0; q < n * H; q++) for (let j = 0; j < W; j++) want[q * W + j]! += m.map.data[q * W + (flip ? W - 1 - j : j)]! / 6;
      }
    }
    let err = 0;
    for (let q = 0; q < want.length; q++) err = Math.max(err, Math.abs(r.map.data[q]! - want[q]!));
    t.diagnostic(`aug_smooth max |Δ| ${err.toExponential(2)}`);
    assert.ok(err < 1e-6, `aug_smooth error ${err}`);
    assert.deepEqual(r.targets, fx.targets);
    assert.deepEqual(Array.from(r.logits.data, (v) => Math.round(v * 1e4)), fx.logits.map((v) => Math.round(v * 1e4)));
    // Score-CAM and Ablation-CAM take it too
    const s = await scoreCam(model, x, fx.targets, { layer: TINY_LAYER, augSmooth: true });
    assert.deepEqual(s.map.shape, [n, H, W]);
    const a = await ablationCam(model, x, 'pred', { layer: TINY_LAYER, augSmooth: true, eigenSmooth: true });
    assert.deepEqual(a.map.shape, [n, H, W]);
  } finally {
    await model.dispose();
  }
});

test("Score-CAM's tf-keras-vis variant weights channels by the target probability; identical masks share a forward pass", async (t) => {
  const { model, fx, x } = loadTiny();
  try {
    const [n, c, H, W] = fx.shape;
    const r = await scoreCam(model, x, fx.targets, { layer: TINY_LAYER, variant: 'tf-keras-vis' });
    const act = await model.vjp(x, { seed: model.oneHot(fx.targets), layers: [TINY_LAYER], inputGrad: false });
    const A = act.activations.get(TINY_LAYER)!;
    const [, K, h, w] = A.shape as [number, number, number, number];
    const wts = (r.extra!['weights:' + TINY_LAYER] as Tensor).data;
    const mask = new Float64Array(H * W);
    let err = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) {
        // safe_divide: an all-constant channel gives the zero mask
        scoreCamMask(A.data.subarray((i * K + k) * h * w, (i * K + k + 1) * h * w), h, w, H, W, mask, 0);
        const xm = new Float32Array(c * H * W);
        for (let q = 0; q < c * H * W; q++) xm[q] = x.data[i * c * H * W + q]! * mask[q % (H * W)]!;
        const lg = (await model.forward(new Tensor(xm, [1, c, H, W]))).data;
        const mx = Math.max(...lg);
        const z = Array.from(lg).reduce((s, v) => s + Math.exp(v - mx), 0);
        err = Math.max(err, Math.abs(wts[i * K + k]! - Math.exp(lg[fx.targets[i]!]! - mx) / z));
      }
    }
    t.diagnostic(`tf-keras-vis weights max |Δ| ${err.toExponential(2)}`);
    assert.ok(err < 1e-6, `tf-keras-vis weights error ${err}`);
    await assert.rejects(scoreCam(model, x, 0, { variant: 'keras' as never }), /unknown variant 'keras' \(valid: pytorch-grad-cam, paper, tf-keras-vis\)/);
  } finally {
    await model.dispose();
  }
  // a real model with dead channels: de-duplication is exact and saves passes
  const base = loadModel(BASELINE);
  try {
    const xs = new Tensor(Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.37) * 0.8), [3, 1, 64, 64]);
    for (const variant of ['pytorch-grad-cam', 'paper'] as const) {
      const d = await scoreCam(base, xs, 'pred', { variant });
      const full = await scoreCam(base, xs, 'pred', { variant, dedupe: false });
      assert.deepEqual(d.map.data, full.map.data);
      const key = Object.keys(d.extra!).find((k) => k.startsWith('weights:'))!;
      assert.deepEqual((d.extra![key] as Tensor).data, (full.extra![key] as Tensor).data);
      assert.equal(full.extra!.forwardPasses, full.extra!.channels);
      assert.ok((d.extra!.forwardPasses as number) < (d.extra!.channels as number), `${d.extra!.forwardPasses} passes for ${d.extra!.channels} channels`);
    }
  } finally {
    await base.dispose();
  }
});
