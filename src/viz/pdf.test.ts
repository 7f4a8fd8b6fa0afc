/**
 * PDF output: a grid figure becomes a one-page PDF of the SVG's size, with the bundled font embedded and a
 * ToUnicode map (text is text), the map tiles as image XObjects; poppler's pdftotext (Debian poppler-utils, an
 * independent PDF reader: .ci/run installs it) reads every title back. Bad SVG is a clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { gridSvg } from './grid-svg.js';
import { svgSize, svgToPdf } from './pdf.js';

const img = new Tensor(Float32Array.from({ length: 16 * 16 }, (_, i) => (i % 16) / 15), [1, 16, 16]);
const map = new Tensor(Float32Array.from({ length: 16 * 16 }, (_, i) => Math.sin(i)), [16, 16]);
const TITLES = ['test 0', 'true pneumonia', 'smoothgrad', 'Grad-CAM & friends, a long title that must wrap'];
const svg = gridSvg([{ image: img, title: TITLES.slice(0, 2), panels: [{ map, signed: true, title: [TITLES[2]!] }, { map, signed: false, title: [TITLES[3]!] }] }], { minPanel: 128 });
const PDFTOTEXT = '/usr/bin/pdftotext';

test('a grid figure as PDF: one page of the SVG’s size, the bundled font embedded with a ToUnicode map, tiles as images', async () => {
  const pdf = await svgToPdf(svg, { title: 'grid' });
  const text = Buffer.from(pdf).toString('latin1');
  assert.ok(text.startsWith('%PDF-1.'), 'a PDF header');
  const { width, height } = svgSize(svg);
  const box = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(text);
  assert.ok(box, 'a MediaBox');
  assert.deepEqual([Number(box![1]), Number(box![2])], [width, height]);
  assert.equal(text.match(/\/Type \/Page\b/g)?.length, 1);
  assert.match(text, /\/FontFile2/, 'the TrueType font is embedded');
  assert.match(text, /DejaVuSans/, 'it is the bundled DejaVu Sans');
  assert.match(text, /\/ToUnicode/, 'text maps back to Unicode');
  // three tiles per row (image, two overlays) plus the colorbars: images, not vector approximations
  assert.ok((text.match(/\/Subtype \/Image/g)?.length ?? 0) >= 3);
});

test('pdftotext reads every title back from the PDF', { skip: existsSync(PDFTOTEXT) ? false : 'poppler-utils (pdftotext) is not installed: apt-get install poppler-utils (.ci/run does)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-pdf-'));
  try {
    writeFileSync(join(dir, 'grid.pdf'), await svgToPdf(svg));
    const out = execFileSync(PDFTOTEXT, [join(dir, 'grid.pdf'), '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    for (const t of TITLES) assert.ok(out.includes(t.split(' ')[0]!), `'${t}' in: ${out}`);
    assert.ok(out.replace(/\s/g, '').includes(TITLES[3]!.replace(/\s/g, '')), `the wrapped title is whole: ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an SVG without a size, or not an SVG, is a clear error', async () => {
  assert.throws(() => svgSize('<html></html>'), /no <svg> element/);
  await assert.rejects(svgToPdf('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), /no width and height/);
});
