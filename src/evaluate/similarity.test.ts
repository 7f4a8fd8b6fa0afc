/**
 * Map similarity against scipy 1.x / scikit-image 0.19 (fixtures/make_fixtures.py):
 * spearmanr (|map| and signed, with many ties), pearsonr, structural_similarity (7×7 uniform
 * window, data_range given, on min–max-normalised and on raw maps), hog features and their
 * Pearson correlation, on three map pairs of different sizes and HOG parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readNpzFileSync } from '../io/files.js';
import { Tensor } from '../tensor/tensor.js';
import { pearson, rankdata, spearman } from './correlation.js';
import { ssim } from './ssim.js';
import { hog } from './hog.js';
import { compareMapBatches, compareMaps, defaultHogCell, normalizeMap } from './similarity.js';

const fx = readNpzFileSync(fileURLToPath(new URL('./fixtures/similarity.npz', import.meta.url)));
const arr = (k: string) => fx.get(k)!.data as Float64Array;
const num = (k: string) => arr(k)[0]!;
const pairs = [0, 1, 2].map((k) => {
  const a = fx.get(`a${k}`)!;
  return { k, a: arr(`a${k}`), b: arr(`b${k}`), h: a.shape[0]!, w: a.shape[1]! };
});

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('rankdata averages tied ranks', () => {
  assert.deepEqual([...rankdata([3, 1, 3, 2, 3])], [4, 1, 4, 2, 4]);
  assert.deepEqual([...rankdata([0.5, 0.5])], [1.5, 1.5]);
  // float32 input takes the packed-key sort: the same ranks as the plain one, with ties, ±0, ±∞, subnormals
  const v = Float32Array.from({ length: 5000 }, (_, i) => [0, -0, 1e-45, -1e-45, Infinity, -Infinity, 3.5, -3.5][i % 8]! * (i % 3 ? 1 : 2) + (i % 11 === 0 ? Math.sin(i) : 0));
  assert.deepEqual([...rankdata(v)], [...rankdata(Array.from(v))]);
  const r = Float32Array.from({ length: 4096 }, (_, i) => Math.round(100 * Math.sin(i * 12.9898) * 43758.5453) % 37);
  assert.deepEqual([...rankdata(r)], [...rankdata(Array.from(r))]);
});

test('Spearman (|map| and signed) and Pearson match scipy to 1e-12, ties included', () => {
  for (const { k, a, b } of pairs) {
    const abs = (v: Float64Array) => v.map(Math.abs);
    assert.ok(Math.abs(spearman(abs(a), abs(b)) - num(`spearman_abs${k}`)) < 1e-12, `pair ${k} |spearman|`);
    assert.ok(Math.abs(spearman(a, b) - num(`spearman${k}`)) < 1e-12, `pair ${k} spearman`);
    assert.ok(Math.abs(pearson(a, b) - num(`pearson${k}`)) < 1e-12, `pair ${k} pearson`);
  }
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])), 'constant input gives NaN');
});

test('SSIM matches skimage structural_similarity to 1e-9 (normalised and raw maps)', () => {
  for (const { k, a, b, h, w } of pairs) {
    const s = ssim(normalizeMap(a), normalizeMap(b), h, w, { dataRange: 1 });
    assert.ok(Math.abs(s - num(`ssim${k}`)) < 1e-9, `pair ${k}: ${s} vs ${num(`ssim${k}`)}`);
    const raw = ssim(a, b, h, w, { dataRange: num(`ssim_raw_range${k}`) });
    assert.ok(Math.abs(raw - num(`ssim_raw${k}`)) < 1e-9, `pair ${k} raw: ${raw} vs ${num(`ssim_raw${k}`)}`);
  }
  const { a, h, w } = pairs[0]!;
  assert.ok(Math.abs(ssim(a, a, h, w, { dataRange: 2 }) - 1) < 1e-12, 'a map is identical to itself');
  assert.throws(() => ssim(a, a, h, w, { dataRange: 0 }), /dataRange/);
});

test('HOG features match skimage.feature.hog to 1e-9, and their correlation too', () => {
  for (const { k, a, b, h, w } of pairs) {
    const p = arr(`hog_params${k}`);
    const opts = { pixelsPerCell: [p[0]!, p[1]!] as const, cellsPerBlock: [p[2]!, p[3]!] as const, orientations: p[4]! };
    const ha = hog(normalizeMap(a), h, w, opts);
    const hb = hog(normalizeMap(b), h, w, opts);
    assert.equal(ha.length, arr(`hog_a${k}`).length, `pair ${k} feature length`);
    const err = Math.max(maxAbs(ha, arr(`hog_a${k}`)), maxAbs(hb, arr(`hog_b${k}`)));
    // skimage accumulates cells in float32; the port does the same, so agreement is far below 1e-6
    assert.ok(err < 1e-9, `pair ${k}: max feature error ${err}`);
    assert.ok(Math.abs(pearson(ha, hb) - num(`hog_pearson${k}`)) < 1e-9, `pair ${k} hog pearson`);
  }
  assert.throws(() => hog(new Float64Array(20 * 20), 20, 20, { pixelsPerCell: [8, 8] }), /too small/);
});

test('compareMaps reproduces the fixtures with its defaults and compareMapBatches maps over images', () => {
  const { a, b, h, w } = pairs[1]!; // 64×64: default HOG cell 16 (Adebayo et al.)
  assert.equal(defaultHogCell(64, 64), 16);
  assert.equal(defaultHogCell(28, 28), 9);
  const r = compareMaps(a, b, h, w);
  assert.ok(Math.abs(r.spearmanAbs - num('spearman_abs1')) < 1e-12);
  assert.ok(Math.abs(r.ssim - num('ssim1')) < 1e-9);
  assert.ok(Math.abs(r.hog - num('hog_pearson1')) < 1e-6);
  const ta = new Tensor(Float32Array.from([...a, ...b]), [2, h, w]);
  const tb = new Tensor(Float32Array.from([...b, ...b]), [2, h, w]);
  const batch = compareMapBatches(ta, tb);
  assert.equal(batch.ssim.length, 2);
  assert.ok(Math.abs(batch.spearman[0]! - num('spearman1')) < 1e-6, 'float32 maps stay close');
  for (const m of ['spearmanAbs', 'spearman', 'pearson', 'ssim', 'hog'] as const) assert.ok(Math.abs(batch[m][1]! - 1) < 1e-9, `${m} of a map with itself is 1`);
  assert.throws(() => compareMapBatches(ta, tb.reshape([2, w, h]).slice0(0, 1)), /b is/);
});

test('normalisations: minmax to [0,1], abs-p99 clips at the 99th percentile of |a|', () => {
  const v = normalizeMap([-2, 0, 2], 'minmax');
  assert.deepEqual([...v], [0, 0.5, 1]);
  const p = normalizeMap(Float64Array.from({ length: 101 }, (_, i) => (i % 2 ? -i : i)), 'abs-p99');
  assert.equal(p[100], 1);
  assert.ok(Math.abs(p[50]! - 50 / 99) < 1e-12);
  assert.deepEqual([...normalizeMap([3, 3, 3])], [0, 0, 0]);
});
