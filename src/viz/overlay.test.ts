import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { decodePng } from '../io/image.js';
import { colorAt } from './colormap.js';
import { colorizeMap, displayImage, normalizeForDisplay, overlay, overlayPng } from './overlay.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test('display normalisation: min–max for unsigned maps, symmetric max|·| for signed ones', () => {
  close(normalizeForDisplay([1, 2, 3, 5], false), [0, 0.25, 0.5, 1]);
  close(normalizeForDisplay([-2, 0, 1, 2], true), [0, 0.5, 0.75, 1]);
  close(normalizeForDisplay([0, 0.5, 1, 4], true), [0.5, 0.5625, 0.625, 1]);
  close(normalizeForDisplay([3, 3], false), [0, 0]);
  close(normalizeForDisplay([0, 0], true), [0.5, 0.5]);
});

test('overlay of a 2×2 grayscale image: (1 − α)·image + α·colormap(normalised map)', () => {
  const img = new Tensor(Float32Array.from([0, 0.5, 1, 0.25]), [1, 2, 2]);
  const map = new Tensor(Float32Array.from([0, 1, 2, 3]), [2, 2]);
  const alpha = 0.25;
  const o = overlay(img, map, { alpha, colormap: 'jet' });
  assert.deepEqual(o.shape, [3, 2, 2]);
  const norm = [0, 1 / 3, 2 / 3, 1];
  const want = new Float32Array(12);
  for (let p = 0; p < 4; p++) {
    const col = colorAt('jet', norm[p]!);
    for (let c = 0; c < 3; c++) want[c * 4 + p] = (1 - alpha) * img.data[p]! + alpha * col[c]!;
  }
  close(o.data, want);
  // α = 0 is the image, α = 1 the colormapped map.
  close(overlay(img, map, { alpha: 0 }).data, [...img.data, ...img.data, ...img.data]);
  close(overlay(img, map, { alpha: 1 }).data, colorizeMap(map).data);
  // a signed map uses the diverging colormap, centred at 0
  const s = overlay(img, new Tensor(Float32Array.from([-1, 0, 0.5, 1]), [2, 2]), { alpha: 1, signed: true });
  close([s.data[1]!, s.data[5]!, s.data[9]!], colorAt('rdbu_r', 0.5));
  close([s.data[0]!, s.data[4]!, s.data[8]!], colorAt('rdbu_r', 0));
});

test('RGB images blend per channel; the PNG has the image size', () => {
  const img = new Tensor(Float32Array.from([1, 1, 1, 1, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5]), [3, 2, 2]);
  const map = new Tensor(Float32Array.from([0, 0, 0, 1]), [1, 2, 2]);
  const o = overlay(img, map, { colormap: 'viridis' });
  const v0 = colorAt('viridis', 0);
  close([o.data[0]!, o.data[4]!, o.data[8]!], [0.5 + 0.5 * v0[0], 0.5 * v0[1], 0.25 + 0.5 * v0[2]]);
  const png = decodePng(overlayPng(img, map));
  assert.deepEqual(png.tensor.shape, [3, 2, 2]);
});

test('display images: from a known range or min–max; bad shapes and alphas are errors', () => {
  close(displayImage(new Tensor(Float32Array.from([-1, 0, 1, 3]), [1, 2, 2]), [-1, 1]).data, [0, 0.5, 1, 1]);
  close(displayImage(new Tensor(Float32Array.from([2, 4, 6, 10]), [1, 2, 2])).data, [0, 0.25, 0.5, 1]);
  const img = Tensor.zeros([1, 2, 2]);
  assert.throws(() => overlay(img, Tensor.zeros([3, 3])), /map is 3×3 but the image is 2×2/);
  assert.throws(() => overlay(Tensor.zeros([2, 2, 2]), Tensor.zeros([2, 2])), /grayscale or RGB/);
  assert.throws(() => overlay(img, Tensor.zeros([2, 2]), { alpha: 1.5 }), /alpha must be in \[0, 1\]/);
});
