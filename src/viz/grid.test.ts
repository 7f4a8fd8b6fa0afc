import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { decodePng } from '../io/image.js';
import { Canvas, gridPng, renderGrid, textWidth, wrapText } from './grid.js';

function ramp(h: number, w: number, c = 1): Tensor {
  const d = new Float32Array(Math.max(c, 1) * h * w);
  for (let i = 0; i < d.length; i++) d[i] = (i % (h * w)) / (h * w - 1);
  return new Tensor(d, c === 0 ? [h, w] : [c, h, w]);
}

test('grid layout: one row per image, image + one panel per method, colorbars; PNG dimensions', () => {
  const map = ramp(32, 32).reshape([32, 32]);
  const rows = [0, 1].map((i) => ({
    image: ramp(32, 32),
    title: [`TRUE NORMAL`, `pred pneumonia 0.${i}7`],
    panels: [
      { map, signed: false, title: ['saliency'] },
      { map, signed: true, title: ['ig'] },
    ],
  }));
  // panels upscaled ×2 to 64 px (10 characters a line); gap 6; the titles wrapped, never cut: TRUE / NORMAL /
  // PRED / PNEUMONIA / 0.07 — 5 lines of 10 px; 2 colorbars (jet and rdbu_r) of 10 + 10 + 6 px
  const width = 6 + 3 * (64 + 6);
  const height = 6 + 2 * (5 * 10 + 64 + 6) + 2 * (10 + 10 + 6);
  const t = renderGrid(rows, { minPanel: 64 });
  assert.deepEqual(t.shape, [3, height, width]);
  const png = decodePng(gridPng(rows, { minPanel: 64 }));
  assert.deepEqual(png.tensor.shape, [3, height, width]);
  // the image panel is the image upscaled by 2 (nearest): its first pixel is the image's (0 = black)
  const y0 = 6 + 50;
  const at = (x: number, y: number) => [0, 1, 2].map((c) => t.data[c * width * height + y * width + x]!);
  assert.deepEqual(at(6, y0), [0, 0, 0]);
  assert.deepEqual(at(7, y0 + 1), [0, 0, 0]);
  // background is white
  assert.deepEqual(at(0, 0), [1, 1, 1]);
});

test('grid errors and text helpers', () => {
  assert.throws(() => renderGrid([]), /no rows/);
  const rows = [
    { image: ramp(8, 8), panels: [{ map: ramp(8, 8, 0), signed: false }] },
    { image: ramp(4, 4), panels: [{ map: ramp(4, 4, 0), signed: false }] },
  ];
  assert.throws(() => renderGrid(rows), /image 1 is 4×4, the first is 8×8/);
  assert.equal(textWidth('AB'), 11);
  assert.equal(textWidth('AB', 2), 22);
  const cv = new Canvas(20, 9);
  cv.text('a?~', 1, 1); // lower case drawn upper case; unknown characters as '?'
  assert.ok(cv.data.slice(0, 20 * 9).some((v) => v === 0));
});

test('titles wrap at spaces to the panel width, long words across lines, and are never cut short', () => {
  // 64 px at scale 1: 10 glyphs of 5 px and 1 px gaps a line
  assert.deepEqual(wrapText('TRUE PNEUMONIA', 64), ['TRUE', 'PNEUMONIA']);
  assert.deepEqual(wrapText('TARGET PNEUMONIA 0.93', 64), ['TARGET', 'PNEUMONIA', '0.93']);
  assert.deepEqual(wrapText('RANDOM LABELS', 128), ['RANDOM LABELS']);
  assert.deepEqual(wrapText('GRADIENTSHAPLEY', 64), ['GRADIENTSH', 'APLEY']);
  assert.deepEqual(wrapText('A  B', 64, 2), ['A B']);
  assert.deepEqual(wrapText('', 64), ['']);
  for (const t of ['TRUE PNEUMONIA', 'smoothgrad → pneumonia', 'RANDOM LABEL MODEL']) assert.equal(wrapText(t, 64).join(' ').replace(/\s+/g, ''), t.replace(/\s+/g, ''));
  for (const line of wrapText('a title much longer than one panel of sixty-four pixels', 64)) assert.ok(textWidth(line) <= 64);
});
