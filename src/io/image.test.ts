import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../tensor/tensor.js';
import { readNpyFileSync } from './files.js';
import { decodeImage, decodeJpeg, decodePng, encodeJpeg, encodePng, sniffImageFormat } from './image.js';

// Fixtures written by Pillow (an independent encoder) with the values Pillow reads back: see
// src/data/fixtures/make_fixtures.py.
const fx = (name: string) => fileURLToPath(new URL(`../data/fixtures/${name}`, import.meta.url));
const bytes = (name: string) => new Uint8Array(readFileSync(fx(name)));

/** Pillow's array (H,W) or (H,W,C) → our [C,H,W] floats at the given max level. */
function expectedCHW(name: string, maxv: number): { data: Float32Array; shape: number[] } {
  const t = readNpyFileSync(fx(name));
  const [H, W, C = 1] = t.shape as number[];
  const out = new Float32Array(C * H! * W!);
  const d = t.data as ArrayLike<number>;
  for (let y = 0; y < H!; y++) for (let x = 0; x < W!; x++) for (let c = 0; c < C; c++) {
    out[c * H! * W! + y * W! + x] = Number(d[(y * W! + x) * C + c]) / maxv;
  }
  return { data: out, shape: [C, H!, W!] };
}

function assertClose(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  assert.ok(worst <= tol, `${what}: max |diff| ${worst} > ${tol}`);
}

const PNG_CASES = [
  { file: 'gray8.png', exp: 'expected_gray8.npy', max: 255, C: 1, depth: 8, color: 'gray', alpha: false },
  { file: 'gray16.png', exp: 'expected_gray16.npy', max: 65535, C: 1, depth: 16, color: 'gray', alpha: false },
  { file: 'gray1.png', exp: 'expected_gray1.npy', max: 1, C: 1, depth: 1, color: 'gray', alpha: false },
  { file: 'rgb.png', exp: 'expected_rgb.npy', max: 255, C: 3, depth: 8, color: 'rgb', alpha: false },
  { file: 'palette.png', exp: 'expected_palette.npy', max: 255, C: 3, depth: 8, color: 'palette', alpha: false },
] as const;

for (const c of PNG_CASES) {
  test(`PNG ${c.file} decodes to the values Pillow reads (${c.depth}-bit ${c.color})`, () => {
    const img = decodePng(bytes(c.file), c.file);
    const exp = expectedCHW(c.exp, c.max);
    assert.deepEqual(img.tensor.shape, exp.shape);
    assertClose(img.tensor.data, exp.data, 1e-7, c.file);
    assert.equal(img.bitDepth, c.depth);
    assert.equal(img.colorType, c.color);
    assert.equal(img.hasAlpha, c.alpha);
    assert.equal(img.format, 'png');
  });
}

test('PNG with alpha: alpha dropped by default, kept as the last channel on request', () => {
  for (const [file, exp, C] of [['rgba.png', 'expected_rgba.npy', 3], ['gray_alpha.png', 'expected_gray_alpha.npy', 1]] as const) {
    const full = expectedCHW(exp, 255);
    const n = full.shape[1]! * full.shape[2]!;
    const dropped = decodePng(bytes(file), file);
    assert.equal(dropped.hasAlpha, true);
    assert.deepEqual(dropped.tensor.shape, [C, 4, 5]);
    assertClose(dropped.tensor.data, full.data.subarray(0, C * n), 1e-7, file);
    const kept = decodePng(bytes(file), file, { keepAlpha: true });
    assert.deepEqual(kept.tensor.shape, [C + 1, 4, 5]);
    assertClose(kept.tensor.data, full.data, 1e-7, `${file} with alpha`);
  }
});

test('JPEG gray and RGB decode close to libjpeg (via Pillow), gray JPEGs stay 1-channel', () => {
  const g = decodeJpeg(bytes('gray.jpg'), 'gray.jpg');
  assert.equal(g.colorType, 'gray');
  assert.deepEqual(g.tensor.shape, [1, 16, 16]);
  // Different IDCTs may differ by a level or two.
  assertClose(g.tensor.data, expectedCHW('expected_gray_jpg.npy', 255).data, 3 / 255, 'gray.jpg');
  const c = decodeImage(bytes('rgb.jpg'), 'rgb.jpg');
  assert.equal(c.format, 'jpeg');
  assert.deepEqual(c.tensor.shape, [3, 16, 16]);
  assertClose(c.tensor.data, expectedCHW('expected_rgb_jpg.npy', 255).data, 3 / 255, 'rgb.jpg');
});

test('channel conversion: gray → RGB repeats, RGB → gray uses BT.601 luma', () => {
  const g = decodePng(bytes('gray8.png'), 'g', { channels: 3 }).tensor;
  assert.deepEqual(g.shape, [3, 4, 5]);
  assert.deepEqual(g.data.subarray(0, 20), g.data.subarray(40, 60));
  const rgb = decodePng(bytes('rgb.png'), 'rgb').tensor;
  const l = decodePng(bytes('rgb.png'), 'rgb', { channels: 1 }).tensor;
  assert.deepEqual(l.shape, [1, 4, 5]);
  for (let i = 0; i < 20; i++) {
    const want = 0.299 * rgb.data[i]! + 0.587 * rgb.data[20 + i]! + 0.114 * rgb.data[40 + i]!;
    assert.ok(Math.abs(l.data[i]! - want) < 1e-6);
  }
});

test('encodePng round-trips 8-bit gray/RGB/RGBA and 16-bit gray exactly at their levels', () => {
  const H = 3, W = 4;
  for (const C of [1, 2, 3, 4]) {
    const t = Tensor.from(Array.from({ length: C * H * W }, (_, i) => ((i * 37) % 256) / 255), [C, H, W]);
    const back = decodePng(encodePng(t), 'rt', { keepAlpha: true }).tensor;
    assert.deepEqual(back.shape, [C, H, W]);
    assertClose(back.data, t.data, 1e-7, `C=${C}`);
  }
  const t16 = Tensor.from(Array.from({ length: H * W }, (_, i) => (i * 5000) / 65535), [H, W]);
  const d16 = decodePng(encodePng(t16, { bitDepth: 16 }), 'rt16');
  assert.equal(d16.bitDepth, 16);
  assertClose(d16.tensor.data, t16.data, 1e-7, '16-bit');
  // out-of-range values are clamped, NaN written as 0
  const clamp = decodePng(encodePng(Tensor.from([-1, 2, NaN, 0.5], [2, 2])), 'c').tensor;
  assert.deepEqual([...clamp.data], [0, 1, 0, Math.fround(128 / 255)]);
});

test('encodeJpeg output decodes close to the input', () => {
  const t = Tensor.from(Array.from({ length: 3 * 8 * 8 }, (_, i) => 0.2 + 0.6 * ((i % 8) / 7)), [3, 8, 8]);
  const back = decodeImage(encodeJpeg(t, 95), 'rt.jpg').tensor;
  assertClose(back.data, t.data, 0.05, 'jpeg round trip');
});

test('corrupt, truncated and unsupported images fail with the file named', () => {
  const png = bytes('rgb.png');
  assert.throws(() => decodeImage(png.subarray(0, 40), 'scans/a.png'), /scans\/a\.png: corrupt PNG: chunk at byte 33 is cut short \(7 bytes left/);
  const flipped = png.slice();
  flipped[flipped.length - 20]! ^= 0xff; // inside IDAT: CRC mismatch
  assert.throws(() => decodeImage(flipped, 'scans/b.png'), /scans\/b\.png/);
  assert.equal(sniffImageFormat(new TextEncoder().encode('GIF89a....')), null);
  assert.throws(() => decodeImage(new TextEncoder().encode('GIF89a....'), 'c.gif'), /c\.gif: not a PNG or JPEG image/);
  assert.throws(() => decodeImage(new Uint8Array(0), 'empty.png'), /empty\.png: not a PNG or JPEG/);
  const jpg = bytes('rgb.jpg');
  assert.throws(() => decodeImage(jpg.subarray(0, 200), 'scans/d.jpg'), /scans\/d\.jpg/);
  // A 12-bit frame header: rejected before decoding.
  const twelve = jpg.slice();
  const sof = twelve.findIndex((b, i) => b === 0xff && twelve[i + 1] === 0xc0);
  twelve[sof + 1] = 0xc1;
  twelve[sof + 4] = 12;
  assert.throws(() => decodeImage(twelve, 'e.jpg'), /e\.jpg: unsupported JPEG \(12-bit/);
  const lossless = jpg.slice();
  lossless[sof + 1] = 0xc3;
  assert.throws(() => decodeImage(lossless, 'f.jpg'), /f\.jpg: unsupported JPEG \(lossless/);
});
