/**
 * Guided Backprop, Deconvolution and Guided Grad-CAM against PyTorch with Captum's ReLU hooks
 * (fixtures/make_tiny_fixtures.py: relu(grad_input) / relu(grad_output) on every nn.ReLU; Guided
 * Grad-CAM = GB × nearest-upsampled ReLU(Grad-CAM)), on the tiny CNN exported by torch.onnx.export.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guidedBackprop, deconvolution } from './guided-backprop.js';
import { guidedGradCam } from './guided-gradcam.js';
import { gradient } from './saliency.js';
import { gradCam } from './cam/gradcam.js';
import { loadTiny, relMaxError, TINY_LAYER } from './fixtures/tiny.js';

test('guided backprop and deconvolution equal PyTorch with Captum-style ReLU hooks', async (t) => {
  const { model, fx, x } = loadTiny();
  try {
    const gb = await guidedBackprop(model, x, fx.targets);
    const dc = await deconvolution(model, x, fx.targets);
    const e1 = relMaxError(gb.attributions!.data, fx.guided_backprop);
    const e2 = relMaxError(dc.attributions!.data, fx.deconvolution);
    t.diagnostic(`guided backprop rel. error ${e1.toExponential(2)}, deconvolution ${e2.toExponential(2)}`);
    assert.ok(e1 < 1e-5, `guided backprop rel. error ${e1}`);
    assert.ok(e2 < 1e-5, `deconvolution rel. error ${e2}`);
    assert.equal(gb.signed, true);
    assert.deepEqual(gb.map.shape, [2, 12, 12]);
    // the override is real: guided ≠ plain gradient, and the plain gradient graph is unaffected
    const g = await gradient(model, x, fx.targets);
    assert.ok(relMaxError(g.attributions!.data, fx.guided_backprop) > 1e-2);
    const gb2 = await guidedBackprop(model, x, fx.targets);
    assert.deepEqual(gb2.attributions!.data, gb.attributions!.data);
  } finally {
    await model.dispose();
  }
});

test("guided grad-cam equals Captum's GuidedGradCam (GB × nearest-upsampled ReLU Grad-CAM)", async (t) => {
  const { model, fx, x } = loadTiny();
  try {
    const r = await guidedGradCam(model, x, fx.targets, { layer: TINY_LAYER });
    const eCam = relMaxError((r.extra!.gradcam as { data: Float32Array }).data, fx.gradcam_layer);
    const e = relMaxError(r.attributions!.data, fx.guided_gradcam);
    t.diagnostic(`grad-cam rel. error ${eCam.toExponential(2)}, guided grad-cam ${e.toExponential(2)}`);
    assert.ok(eCam < 1e-5, `grad-cam rel. error ${eCam}`);
    assert.ok(e < 1e-5, `guided grad-cam rel. error ${e}`);
    // pytorch-grad-cam's recipe: GB × the scaled, bilinearly resized Grad-CAM map
    const p = await guidedGradCam(model, x, fx.targets, { layer: TINY_LAYER, cam: 'pytorch-grad-cam' });
    const gc = await gradCam(model, x, fx.targets, { layer: TINY_LAYER });
    const [n, c, H, W] = fx.shape;
    let worst = 0;
    for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let q = 0; q < H * W; q++) {
      const k = (i * c + ch) * H * W + q;
      worst = Math.max(worst, Math.abs(p.attributions!.data[k]! - fx.guided_backprop[k]! * gc.map.data[i * H * W + q]!));
    }
    assert.ok(worst < 1e-8, `pytorch-grad-cam recipe error ${worst}`);
    await assert.rejects(guidedGradCam(model, x, 0, { cam: 'nope' as never }), /unknown cam 'nope' \(valid: captum, pytorch-grad-cam\)/);
    await assert.rejects(guidedGradCam(model, x, 0, { layer: [TINY_LAYER, 'features.1'] }), /takes one layer/);
  } finally {
    await model.dispose();
  }
});
