/**
 * ShapleyCAM against pytorch-grad-cam's `ShapleyCAM` run on the same two CNNs (../fixtures/make_shapleycam_fixtures.py),
 * and the engine's Hessian-vector products against float64 autograd's double backward: a ReLU network (curvature only
 * from the ReST score's softmax) and one with GELU and SiLU after the layers (curvature of the network too), at two
 * layers each, with both scores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../runtime/node.js';
import { npzFixture } from '../../testing/npz-fixture.js';
import type { Tensor } from '../../tensor/tensor.js';
import { pearson } from '../../evaluate/correlation.js';
import { explain } from '../registry.js';
import { hessianVectorProduct } from './shapleycam.js';

const here = (f: string) => fileURLToPath(new URL(`../fixtures/${f}`, import.meta.url));
const get = npzFixture(here('shapley_fixtures.npz'));
const x = get('input');
const given = Array.from(get('given_targets').data as unknown as Int32Array);
const n = x.shape[0]!;

/** Largest |a − b| relative to max |b|, and the smallest per-image Pearson correlation. */
function agreement(ours: Tensor, ref: Tensor): { rel: number; r: number } {
  assert.deepEqual([...ours.shape], [...ref.shape]);
  const per = ref.size / n;
  let err = 0;
  let scale = 0;
  let r = 1;
  for (let i = 0; i < n; i++) {
    const a = Array.from(ours.data.subarray(i * per, (i + 1) * per));
    const b = Array.from(ref.data.subarray(i * per, (i + 1) * per));
    for (let p = 0; p < per; p++) {
      err = Math.max(err, Math.abs(a[p]! - b[p]!));
      scale = Math.max(scale, Math.abs(b[p]!));
    }
    if (b.some((v) => v !== b[0])) r = Math.min(r, pearson(a, b));
  }
  return { rel: scale > 0 ? err / scale : err, r };
}

for (const act of ['relu', 'gelu'] as const) {
  test(`the engine's Hessian-vector products equal float64 autograd's double backward (${act} network)`, async (t) => {
    const model = loadModel(here(`shapley_cnn_${act}.onnx`));
    try {
      for (const layer of ['block2', 'block3']) {
        const tensor = model.resolveLayer(layer);
        for (const score of ['rest', 'logit'] as const) {
          const r = await model.vjp(x, { seed: model.oneHot(given), layers: [tensor], inputGrad: false });
          const A = r.activations.get(tensor)!;
          const { hvp, grad } = await hessianVectorProduct(model, x, tensor, given, A, score);
          const ref = get(`hvp_${act}_${layer}_${score}`);
          const refMax = Math.max(...Array.from(ref.data, Math.abs));
          const g = agreement(grad, get(`grad_${act}_${layer}_${score}`));
          t.diagnostic(`${layer} ${score}: ∂T/∂A rel ${g.rel.toExponential(2)}; H·A max |ref| ${refMax.toExponential(2)}`);
          assert.ok(g.rel < 1e-5, `${layer} ${score}: gradient rel error ${g.rel}`);
          if (act === 'relu' && score === 'logit') {
            // a piecewise-linear network and a linear score: no curvature, in autograd and here
            assert.equal(refMax, 0);
            assert.ok(Array.from(hvp.data).every((v) => v === 0), `${layer}: H·A should be exactly 0`);
            continue;
          }
          const h = agreement(hvp, ref);
          t.diagnostic(`  H·A rel ${h.rel.toExponential(2)}, per-image Pearson ≥ ${h.r.toFixed(7)}`);
          assert.ok(refMax > 1e-3, `${layer} ${score}: the reference's curvature should not vanish`);
          assert.ok(h.rel < 1e-4, `${layer} ${score}: H·A rel error ${h.rel}`);
        }
      }
    } finally {
      await model.dispose();
    }
  });

  test(`shapleycam equals pytorch-grad-cam's ShapleyCAM (${act} network, ReST and logit scores, given and predicted classes)`, async (t) => {
    const model = loadModel(here(`shapley_cnn_${act}.onnx`));
    try {
      for (const layer of ['block2', 'block3']) {
        for (const [score, tg] of [['rest', 'given'], ['logit', 'given'], ['logit', 'pred']] as const) {
          const r = await explain(model, x, 'shapleycam', tg === 'pred' ? 'pred' : given, { layer, score });
          const { rel, r: pr } = agreement(r.map, get(`cam_${act}_${layer}_${score}_${tg}`));
          t.diagnostic(`${layer} ${score} ${tg}: max |Δ| ${rel.toExponential(2)}, per-image Pearson ≥ ${pr.toFixed(6)}`);
          assert.ok(pr >= 0.99 && rel < 1e-4, `${layer} ${score} ${tg}: max |Δ| ${rel}, Pearson ${pr}`);
        }
      }
    } finally {
      await model.dispose();
    }
  });
}

test('shapleycam with the raw logit is Grad-CAM after a ReLU network, and ReST moves it', async () => {
  const model = loadModel(here('shapley_cnn_relu.onnx'));
  try {
    const sc = await explain(model, x, 'shapleycam', given, { layer: 'block2', score: 'logit' });
    const gc = await explain(model, x, 'gradcam', given, { layer: 'block2' });
    assert.deepEqual(Array.from(sc.map.data), Array.from(gc.map.data));
    const rest = await explain(model, x, 'shapleycam', given, { layer: 'block2' });
    assert.equal(rest.extra?.score, 'rest');
    const moved = Array.from((rest.extra!.hvpNorm as Tensor).data);
    assert.ok(moved.every((v) => v > 0), `ReST's curvature should change the weights on every image: ${moved}`);
    await assert.rejects(explain(model, x, 'shapleycam', given, { score: 'softmax' }), /option score must be 'rest' or 'logit'/);
  } finally {
    await model.dispose();
  }
});

test('shapleycam equals pytorch-grad-cam’s ShapleyCAM on the zoo’s ViT (token layer), ConvNeXt and EfficientNet', async (t) => {
  for (const name of ['vit', 'convnext', 'efficientnet']) {
    const model = loadModel(fileURLToPath(new URL(`../../autodiff/fixtures/zoo/${name}.onnx`, import.meta.url)));
    try {
      const zx = npzFixture(fileURLToPath(new URL(`../../autodiff/fixtures/zoo/${name}.npz`, import.meta.url)))('input');
      const targets = Array.from(get(`zoo_${name}_targets`).data as unknown as Int32Array);
      const layer = Buffer.from(get(`zoo_${name}_layer`).data as unknown as Uint8Array).toString();
      const r = await explain(model, zx, 'shapleycam', targets, { layer });
      const ref = get(`zoo_${name}_rest`);
      for (let i = 0; i < zx.shape[0]!; i++) assert.ok(Math.max(...ref.data.subarray(i * 1024, (i + 1) * 1024)) > 0.5, `${name}: the reference map of image ${i} is empty`);
      const { rel, r: pr } = agreement(r.map, ref);
      t.diagnostic(`${name} at ${layer}: max |Δ| ${rel.toExponential(2)}, per-image Pearson ≥ ${pr.toFixed(6)}; ‖½H·A‖/‖G‖ ${Array.from((r.extra!.hvpNorm as Tensor).data, (v) => v.toFixed(3))}`);
      assert.ok(pr >= 0.99 && rel < 1e-3, `${name}: max |Δ| ${rel}, Pearson ${pr}`);
    } finally {
      await model.dispose();
    }
  }
});

test('shapleycam on volumes: the raw 3-D map equals pytorch-grad-cam’s before its spline zoom (ReST and logit)', async (t) => {
  const model = loadModel(here('shapley_cnn3d.onnx'));
  try {
    const vx = get('input3d');
    for (const score of ['rest', 'logit'] as const) {
      const r = await explain(model, vx, 'shapleycam', [2, 0], { layer: 'block2', score });
      const raw = r.extra!.raw as Tensor;
      const ref = get(`raw3d_${score}`);
      assert.deepEqual([...r.map.shape], [2, 12, 16, 16]);
      const { rel, r: pr } = agreement(raw, ref);
      t.diagnostic(`${score}: raw [${raw.shape}] max |Δ| ${rel.toExponential(2)} of its scale, per-volume Pearson ≥ ${pr.toFixed(6)}`);
      assert.ok(Math.max(...Array.from(ref.data)) > 0, 'the reference map is not empty');
      assert.ok(pr >= 0.99 && rel < 1e-4, `${score}: ${rel}, ${pr}`);
    }
  } finally {
    await model.dispose();
  }
});
