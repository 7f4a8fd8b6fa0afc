import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { METHOD_NAMES, NotApplicableError, explain, getMethod, parseMethods } from './registry.js';
import { loadModel } from '../runtime/node.js';
import { Tensor } from '../tensor/tensor.js';
import { saliency } from './saliency.js';
import { gradCam } from './cam/gradcam.js';

const BASELINE = fileURLToPath(new URL('../../models/baseline/small_cnn_pneumoniamnist64.onnx', import.meta.url));

test('every method is registered; unknown names list the valid ones', () => {
  const all = ['saliency', 'gradient', 'inputxgradient', 'smoothgrad', 'ig', 'gradientshap', 'expectedgradients', 'guidedbackprop', 'deconvolution', 'guidedgradcam', 'lrp', 'deeplift', 'deepliftshap', 'gradcam', 'gradcampp', 'xgradcam', 'layercam', 'hirescam', 'eigencam', 'gradcamelementwise', 'eigengradcam', 'kpcacam', 'fem', 'finercam', 'shapleycam', 'dff', 'fullgrad', 'scorecam', 'ablationcam', 'occlusion', 'featureablation', 'lime', 'shapley', 'rise', 'rollout', 'attnrelevance', 'random', 'sobel', 'constant'];
  assert.deepEqual(METHOD_NAMES, all);
  for (const n of METHOD_NAMES) assert.equal(getMethod(n).name, n);
  assert.equal(getMethod('GradCAM').name, 'gradcam');
  assert.equal(getMethod('ig').signed, true);
  assert.equal(getMethod('gradcam').usesLayer, true);
  assert.throws(() => getMethod('lrp2'), new RegExp(`unknown method 'lrp2' \\(valid: ${all.join(', ')}\\)`));
  for (const n of METHOD_NAMES) {
    const m = getMethod(n);
    assert.ok(m.about.length > 10 && typeof m.options === 'object', n);
    for (const k of Object.keys(m.defaults)) if (k !== 'layer' && k !== 'seed') assert.ok(k in m.options, `${n}: default '${k}' is not a documented option`);
  }
  assert.deepEqual(parseMethods('gradcam, IG,gradcam,,saliency'), ['gradcam', 'ig', 'saliency']);
  assert.throws(() => parseMethods(' , '), /no methods given \(valid: saliency/);
  assert.throws(() => parseMethods('saliency,lrp2'), /unknown method 'lrp2'/);
});

test('explain() runs a method by name with its defaults', async () => {
  const model = loadModel(BASELINE);
  try {
    const x = new Tensor(Float32Array.from({ length: 2 * 64 * 64 }, (_, i) => Math.sin(i * 0.37)), [2, 1, 64, 64]);
    const a = await explain(model, x, 'saliency', 1);
    const b = await saliency(model, x, 1);
    assert.deepEqual(a.map.data, b.map.data);
    const c = await explain(model, x, 'GradCam', 'pred', { layer: 'auto' });
    const d = await gradCam(model, x, 'pred');
    assert.equal(c.method, 'gradcam');
    assert.deepEqual(c.map.data, d.map.data);
    // a layer is passed to CAMs only
    const e = await explain(model, x, 'gradient', 0, { layer: 'features.8' });
    assert.deepEqual(e.map.shape, [2, 64, 64]);
    await assert.rejects(explain(model, x, 'gradcam', 0, { layer: 'nope' }), /no layer 'nope'/);
    await assert.rejects(explain(model, x, 'ig', 0, { stpes: 4 }), /ig: unknown option 'stpes' \(valid: batchSize, seed, onProgress, steps, method, baseline/);
    await assert.rejects(explain(model, x, 'saliency', 0, { layer: 'features.8', steps: 3 }), /saliency: unknown option 'steps'/);
    // every method runs by name with its defaults (small budgets for the slow ones)
    const quick: Record<string, Record<string, unknown>> = { smoothgrad: { samples: 2 }, ig: { steps: 2 }, gradientshap: { samples: 2 }, expectedgradients: { samples: 2 }, rise: { masks: 8 } };
    for (const n of METHOD_NAMES) {
      if (getMethod(n).family === 'attention') {
        // a CNN has no attention to read: a one-line reason, not a map
        await assert.rejects(explain(model, x, n, 'pred'), (e: Error) => e instanceof NotApplicableError && /self-attention/.test(e.message));
        continue;
      }
      const r = await explain(model, x, n, 'pred', quick[n] ?? {});
      assert.equal(r.method, n);
      assert.deepEqual(r.map.shape, [2, 64, 64], n);
      assert.ok(r.map.data.every(Number.isFinite), n);
    }
  } finally {
    await model.dispose();
  }
});
