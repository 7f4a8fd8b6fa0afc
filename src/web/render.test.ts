import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeForDisplay } from '../viz/overlay.js';
import { colorAt } from '../viz/colormap.js';
import { displayRanges, normalizeWith, overlayRgba, spearman, type MapLike } from './render.js';

const maps: MapLike[] = [
  { method: 'gradcam', map: [0, 1, 2, 4], signed: false },
  { method: 'ig', map: [-1, 0.5, 2, 0], signed: true },
  { method: 'gradcam', map: [0, 0.5, 1, 1], signed: false },
  { method: 'ig', map: [-4, 0, 0, 1], signed: true },
];

test("per-map normalisation is the CLI's display normalisation", () => {
  const r = displayRanges(maps, 'map');
  maps.forEach((m, i) => assert.deepEqual(normalizeWith(m.map, r[i]!), normalizeForDisplay(m.map, m.signed)));
  assert.deepEqual(normalizeWith([3, 3], displayRanges([{ method: 'x', map: [3, 3], signed: false }], 'map')[0]!), new Float32Array([0, 0]));
});

test('per-method normalisation shares one scale between the trained and randomized maps of a method', () => {
  const r = displayRanges(maps, 'method', 100);
  assert.deepEqual(r[0], { signed: false, lo: 0, t: 4 });
  assert.equal(r[0], r[2]);
  assert.deepEqual(r[1], { signed: true, lo: 0, t: 4 });
  // the fainter randomized Grad-CAM stays fainter
  assert.deepEqual(Array.from(normalizeWith(maps[2]!.map, r[2]!)), [0, 0.125, 0.25, 0.25]);
  assert.deepEqual(Array.from(normalizeWith(maps[1]!.map, r[1]!)), [0.375, 0.5625, 0.75, 0.5]);
});

test('shared normalisation uses one scale for all unsigned maps and one for all signed maps', () => {
  const all: MapLike[] = [...maps, { method: 'saliency', map: [0, 8, 0, 0], signed: false }];
  const r = displayRanges(all, 'shared', 100);
  assert.deepEqual(r[0], { signed: false, lo: 0, t: 8 });
  assert.equal(r[0], r[4]);
  assert.equal(r[1], r[3]);
});

test('overlay pixels blend the image with the colormapped map by the opacity', () => {
  const image = [0, 1, 0.5, 0.25];
  const r = displayRanges([{ method: 'm', map: [0, 1, 2, 3], signed: false }], 'map')[0]!;
  const px = overlayRgba(image, 1, [0, 1, 2, 3], r, 'jet', 0.25);
  for (let p = 0; p < 4; p++) {
    const c = colorAt('jet', p / 3);
    for (let k = 0; k < 3; k++) assert.equal(px[4 * p + k], Math.round((0.75 * image[p]! + 0.25 * c[k]!) * 255));
    assert.equal(px[4 * p + 3], 255);
  }
});

test('Spearman rank correlation handles ties and constant maps', () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 0.9486832980505138) < 1e-12);
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
});
