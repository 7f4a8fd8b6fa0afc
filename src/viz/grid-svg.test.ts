/**
 * The SVG figure: titles and colorbar labels are text (read back from the SVG), long titles wrap to the panel
 * width and are never cut short, tiles are embedded at the maps' resolution and scaled by an integer factor, and
 * resvg rasterises it with the bundled font (text pixels drawn where the titles are).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { decodePng } from '../io/image.js';
import { gridSvg, svgTextWidth, wrapSvgText } from './grid-svg.js';
import { svgToPng } from './rasterize.js';

const img = new Tensor(Float32Array.from({ length: 16 * 16 }, (_, i) => (i % 16) / 15), [1, 16, 16]);
const map = new Tensor(Float32Array.from({ length: 16 * 16 }, (_, i) => Math.sin(i)), [16, 16]);
const texts = (svg: string) => [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));

test('wrapping uses the font’s widths and never drops a character', () => {
  assert.ok(svgTextWidth('iiii', 12) < svgTextWidth('MMMM', 12));
  const long = 'Integrated Gradients (Gauss–Legendre, 50 steps) of pneumonia_with_a_very_long_file_name.png';
  const lines = wrapSvgText(long, 100, 12);
  assert.ok(lines.length > 2);
  for (const l of lines) assert.ok(svgTextWidth(l, 12) <= 100, `'${l}' is wider than the panel`);
  assert.equal(lines.join('').replace(/\s/g, ''), long.replace(/\s/g, ''));
});

test('the grid’s titles and colorbar labels are SVG text; resvg renders them with the bundled font', () => {
  const svg = gridSvg([
    { image: img, title: ['test 0', 'true pneumonia', 'pred pneumonia 0.97'], panels: [{ map, signed: true, title: ['smoothgrad'] }, { map, signed: false, title: ['Grad-CAM & friends, a long title that must wrap'] }] },
  ], { minPanel: 128 });
  const t = texts(svg);
  for (const want of ['test 0', 'true pneumonia', 'pred pneumonia', '0.97', 'smoothgrad', 'jet', 'rdbu_r', '−P99', '+P99', '0', 'min', 'P99']) assert.ok(t.includes(want), `no text '${want}' in ${JSON.stringify(t)}`);
  assert.equal(t.filter((x) => /Grad-CAM|long|title|wrap/.test(x)).join(' '), 'Grad-CAM & friends, a long title that must wrap');
  // tiles at the maps' resolution (16×16), drawn at 128×128 with nearest-neighbour rendering
  assert.equal((svg.match(/<image [^>]*width="128" height="128"[^>]*image-rendering:pixelated/g) ?? []).length, 3);
  const png = decodePng(svgToPng(svg)).tensor;
  const [, H, W] = png.shape as [number, number, number];
  assert.deepEqual([W, H], svg.match(/width="(\d+)" height="(\d+)"/)!.slice(1).map(Number));
  // dark pixels in the first title line (text drawn), none in the white margin left of it
  let dark = 0;
  for (let y = 8; y < 20; y++) for (let x = 8; x < 60; x++) if (png.data[y * W + x]! < 0.5) dark++;
  assert.ok(dark > 20, `the title drew ${dark} dark pixels`);
});

test('grid layout: rows of the image and its panels, integer upscaling, the colorbars below; errors', () => {
  const ramp = (n: number) => new Tensor(Float32Array.from({ length: n * n }, (_, i) => i / (n * n - 1)), [1, n, n]);
  const rows = [0, 1].map((i) => ({ image: ramp(32), title: [`true normal`, `pred pneumonia 0.${i}7`], panels: [{ map: ramp(32).reshape([32, 32]), signed: false, title: ['saliency'] }, { map: ramp(32).reshape([32, 32]), signed: true, title: ['ig'] }] }));
  const svg = gridSvg(rows, { minPanel: 64 });
  // panels ×2 = 64 px; gap 8; titles of 16-px lines (true normal / pred / pneumonia 0.07: 3 lines at 64 px);
  // 2 colorbars (jet, rdbu_r) of 12 + 16 + 8
  const [w, h] = svg.match(/width="(\d+)" height="(\d+)"/)!.slice(1).map(Number);
  assert.equal(w, 8 + 3 * (64 + 8));
  const lines = Math.max(...rows.map((r) => r.title.flatMap((t) => wrapSvgText(t, 64, 12)).length));
  assert.equal(h, 8 + 2 * (lines * 16 + 64 + 8) + 2 * (12 + 16 + 8));
  assert.throws(() => gridSvg([]), /no rows/);
  assert.throws(() => gridSvg([rows[0]!, { image: ramp(16), panels: [] }]), /image 1 is 16×16, the first is 32×32/);
});
