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

test('localisation on volume maps [N, D, H, W]: relevance mass and rank over voxels, the pointing game with a 3-D tolerance ball', async () => {
  const { relevanceMass, relevanceRank, pointingGame } = await import('./localization.js');
  const [D, H, W] = [4, 5, 6];
  const map = new Float32Array(D * H * W);
  const mask = new Uint8Array(D * H * W);
  const at = (z: number, y: number, x: number) => (z * H + y) * W + x;
  map[at(1, 2, 3)] = 5; // the maximum
  map[at(3, 4, 5)] = 1;
  mask[at(3, 4, 5)] = 1;
  mask[at(2, 3, 4)] = 1; // a diagonal neighbour (distance √3) of the maximum
  const maps = new Tensor(map, [1, D, H, W]);
  const masks = new Tensor(mask, [1, D, H, W]);
  assert.deepEqual(relevanceMass(maps, masks), [1 / 6]);
  assert.deepEqual(relevanceRank(maps, masks), [0.5]);
  assert.deepEqual(pointingGame(maps, masks), [0]);
  assert.deepEqual(pointingGame(maps, masks, { tolerance: 1.5 }), [0], 'distance √3 > 1.5');
  assert.deepEqual(pointingGame(maps, masks, { tolerance: 1.8 }), [1], 'distance √3 ≤ 1.8');
});
