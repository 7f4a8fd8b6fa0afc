/**
 * pytorch-grad-cam's ROADCombined and ARCC against pytorch-grad-cam itself (explain/fixtures/
 * make_newer_fixtures.py: its GradCAM maps of the 6-class CNN, imputation noise 0 — deterministic — and 0.01),
 * and NumPy's percentile against worked cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../runtime/node.js';
import { npzFixture } from '../testing/npz-fixture.js';
import type { Tensor } from '../tensor/tensor.js';
import { explain } from '../explain/registry.js';
import { arcc, numpyPercentile, roadCombined } from './road-combined.js';

const here = (f: string) => fileURLToPath(new URL(`../explain/fixtures/${f}`, import.meta.url));
const get = npzFixture(here('newer_fixtures.npz'));

test('numpyPercentile interpolates linearly between order statistics as np.percentile', () => {
  assert.equal(numpyPercentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(numpyPercentile([4, 1, 3, 2], 0), 1);
  assert.equal(numpyPercentile([4, 1, 3, 2], 100), 4);
  assert.equal(numpyPercentile([0, 10], 30), 3);
  assert.equal(numpyPercentile([0, 10, 20], 75), 15);
});

test('ROADCombined and ARCC equal pytorch-grad-cam’s on its GradCAM maps (noise 0: exactly; noise 0.01: same distribution)', async (t) => {
  const model = loadModel(here('newer_cnn.onnx'));
  try {
    const x = get('input');
    const cams = get('gradcam_pred');
    const road = await roadCombined(model, x, cams, 'pred', { noise: 0 });
    const want = Array.from(get('road_combined').data);
    t.diagnostic(`ROADCombined ${road.combined.map((v) => v.toFixed(5))} vs pytorch-grad-cam ${want.map((v) => v.toFixed(5))}`);
    road.combined.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-4 * Math.max(1, Math.abs(want[i]!)), `image ${i}: ${v} vs ${want[i]}`));
    const noisy = await roadCombined(model, x, cams, 'pred');
    const wantNoisy = Array.from(get('road_combined_noisy').data);
    noisy.combined.forEach((v, i) => assert.ok(Math.abs(v - wantNoisy[i]!) < 0.05 * Math.abs(wantNoisy[i]!) + 0.02, `noisy image ${i}: ${v} vs ${wantNoisy[i]}`));
    const r = await arcc(model, x, cams, 'pred', async (mixed, targets) => (await explain(model, mixed, 'gradcam', targets, { layer: 'block3' })).map, { noise: 0 });
    const parts = { arcc: r.arcc, complexity: r.complexity, coherency: r.coherency } as const;
    for (const [k, ours] of Object.entries(parts)) {
      const ref = Array.from(get(k === 'arcc' ? 'arcc' : `arcc_${k}`).data);
      t.diagnostic(`${k}: ${ours.map((v) => v.toFixed(5))} vs ${ref.map((v) => v.toFixed(5))}`);
      ours.forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) < 1e-4, `${k}, image ${i}: ${v} vs ${ref[i]}`));
    }
  } finally {
    await model.dispose();
  }
});
