import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ssim, ssimNd } from './ssim.js';
import { compareMapsNd, compareMapBatches } from './similarity.js';
import { spearman } from './correlation.js';
import { Tensor } from '../tensor/tensor.js';

const fx = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/ssim3d.json', import.meta.url)), 'utf8')) as {
  shape: [number, number, number]; a: number[]; b: number[]; ssim_range1: number; ssim_win5_range2: number; hog_per_slice_pearson_cell4: number;
};

test("3-D SSIM equals scikit-image's n-D structural_similarity (7×7×7 and 5×5×5 windows); in 2-D it is the 2-D SSIM", () => {
  const s1 = ssimNd(fx.a, fx.b, fx.shape, { dataRange: 1 });
  const s2 = ssimNd(fx.a, fx.b, fx.shape, { dataRange: 2, winSize: 5 });
  assert.ok(Math.abs(s1 - fx.ssim_range1) < 1e-12, `${s1} vs ${fx.ssim_range1}`);
  assert.ok(Math.abs(s2 - fx.ssim_win5_range2) < 1e-12, `${s2} vs ${fx.ssim_win5_range2}`);
  const [, H, W] = fx.shape;
  const a2 = fx.a.slice(0, H * W);
  const b2 = fx.b.slice(0, H * W);
  assert.ok(Math.abs(ssimNd(a2, b2, [H, W], { dataRange: 1 }) - ssim(a2, b2, H, W, { dataRange: 1 })) < 1e-12);
});

test('volume maps: HOG per slice (stacked) equals scikit-image, Spearman over every voxel, batches of [N, D, H, W]', () => {
  const r = compareMapsNd(fx.a, fx.b, fx.shape, { normalize: 'none', hog: { pixelsPerCell: [4, 4] } });
  assert.ok(Math.abs(r.hog - fx.hog_per_slice_pearson_cell4) < 1e-9, `${r.hog} vs ${fx.hog_per_slice_pearson_cell4}`);
  assert.ok(Math.abs(r.spearman - spearman(fx.a, fx.b)) < 1e-15);
  const A = new Tensor(Float32Array.from([...fx.a, ...fx.b]), [2, ...fx.shape]);
  const B = new Tensor(Float32Array.from([...fx.b, ...fx.b]), [2, ...fx.shape]);
  const batch = compareMapBatches(A, B, { measures: ['spearman', 'ssim'] });
  assert.equal(batch.spearman.length, 2);
  assert.ok(Math.abs(batch.spearman[1]! - 1) < 1e-12 && Math.abs(batch.ssim[1]! - 1) < 1e-6, 'a map against itself');
});
