/**
 * Feature ablation and RISE against PyTorch/NumPy references (fixtures/make_tiny_fixtures.py:
 * Captum's FeatureAblation with a feature mask; RISE masks through skimage's resize and the authors'
 * saliency formula), and SLIC superpixels' basic guarantees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { featureAblation } from './feature-ablation.js';
import { gridMask, slic } from './superpixels.js';
import { rise, riseMask, riseWithMasks } from './rise.js';
import { loadTiny, relMaxError } from './fixtures/tiny.js';

test("feature ablation equals Captum's FeatureAblation for an irregular mask and a grid", async (t) => {
  const { model, fx, x } = loadTiny();
  try {
    const [, , h, w] = fx.shape;
    const irr = await featureAblation(model, x, fx.targets, { mask: new Tensor(Float32Array.from(fx.ablation_irregular.mask), [h, w]), baseline: fx.ablation_irregular.baseline, batchSize: 2 });
    const e1 = relMaxError(irr.attributions!.data, fx.ablation_irregular.attributions);
    assert.ok(e1 < 1e-5, `irregular mask rel. error ${e1}`);
    const grid = await featureAblation(model, x, fx.targets, { mask: 'grid', cell: 4 });
    assert.deepEqual(Array.from(gridMask(h, w, 4)), fx.ablation_grid4.mask);
    const e2 = relMaxError(grid.attributions!.data, fx.ablation_grid4.attributions);
    t.diagnostic(`irregular mask rel. error ${e1.toExponential(2)}, grid ${e2.toExponential(2)}`);
    assert.ok(e2 < 1e-5, `grid rel. error ${e2}`);
    assert.deepEqual(grid.extra!.features, [9, 9]);
    const sl = await featureAblation(model, x, fx.targets, { mask: 'slic', segments: 9 });
    assert.deepEqual(sl.map.shape, [2, h, w]);
    await assert.rejects(featureAblation(model, x, 0, { mask: 'voronoi' as never }), /unknown mask 'voronoi' \(valid: grid, slic, or a tensor/);
    await assert.rejects(featureAblation(model, x, 0, { mask: Tensor.zeros([h, w + 1]) }), /mask has shape \[12, 13\]/);
  } finally {
    await model.dispose();
  }
});

test('SLIC superpixels: contiguous ids, connected segments, about the requested count, respecting a sharp edge', () => {
  const [h, w] = [32, 40];
  const img = new Float32Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img[y * w + x] = x < 17 ? -1 : 1;
  const lab = slic(img, 1, h, w, { segments: 20 });
  const L = Math.max(...lab) + 1;
  assert.ok(L >= 10 && L <= 40, `${L} segments`);
  assert.deepEqual([...new Set(lab)].sort((a, b) => a - b), Array.from({ length: L }, (_, i) => i));
  for (let k = 0; k < L; k++) {
    const cols = new Set<boolean>();
    for (let p = 0; p < h * w; p++) if (lab[p] === k) cols.add(p % w < 17);
    assert.equal(cols.size, 1, `segment ${k} straddles the edge`);
  }
  // connectivity: flood fill from the first pixel of each label covers all of it
  for (let k = 0; k < L; k++) {
    const start = lab.indexOf(k);
    const seen = new Set([start]);
    const st = [start];
    while (st.length) {
      const p = st.pop()!;
      for (const q of [p - w, p + w, p % w ? p - 1 : -1, (p + 1) % w ? p + 1 : -1]) if (q >= 0 && q < h * w && lab[q] === k && !seen.has(q)) (seen.add(q), st.push(q));
    }
    assert.equal(seen.size, lab.filter((v) => v === k).length, `segment ${k} is not connected`);
  }
});

test("RISE masks equal skimage's resize + crop, and the saliency equals the authors' formula", async (t) => {
  const { model, fx, x } = loadTiny();
  try {
    const r = fx.rise;
    const [, , H, W] = fx.shape;
    const m = new Float32Array(H * W);
    let worst = 0;
    for (let i = 0; i < r.masks; i++) {
      riseMask(r.grids.slice(i * r.s * r.s, (i + 1) * r.s * r.s), r.s, r.shifts[i]!, [H, W], m);
      for (let q = 0; q < H * W; q++) worst = Math.max(worst, Math.abs(m[q]! - r.maskValues[i * H * W + q]!));
    }
    assert.ok(worst < 1e-6, `mask error ${worst}`);
    const sal = await riseWithMasks(model, x, fx.targets, { count: r.masks, s: r.s, p: r.p, grids: r.grids, shifts: r.shifts }, { batchSize: 7 });
    const e = relMaxError(sal.data, r.saliency);
    t.diagnostic(`RISE mask max |Δ| ${worst.toExponential(2)}, saliency rel. error ${e.toExponential(2)}`);
    assert.ok(e < 1e-5, `saliency rel. error ${e}`);
    const a = await rise(model, x, 'pred', { masks: 50, cells: 4, seed: 1 });
    const b = await rise(model, x, 'pred', { masks: 50, cells: 4, seed: 1 });
    assert.deepEqual(a.map.data, b.map.data);
    assert.equal(a.signed, false);
    await assert.rejects(rise(model, x, 0, { p: 0 }), /p must be in \(0, 1\]/);
    await assert.rejects(rise(model, x, 0, { score: 'odds' as never }), /unknown score 'odds' \(valid: probability, logit\)/);
  } finally {
    await model.dispose();
  }
});
