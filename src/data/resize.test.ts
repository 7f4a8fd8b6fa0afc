import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../tensor/tensor.js';
import { readNpyFileSync } from '../io/files.js';
import { resize, resizeCoefficients } from './resize.js';

const fx = (name: string) => readNpyFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('resize matches Pillow BILINEAR on float images (28→64 up, 28→14 and 28→9 down, 28→40×13 mixed)', () => {
  // References written once by Pillow 9.4 (src/data/fixtures/make_fixtures.py).
  const src = fx('resize_in_28.npy') as Tensor;
  for (const [h, w] of [[64, 64], [14, 14], [9, 9], [40, 13]] as const) {
    const ref = fx(`resize_pil_${h}x${w}.npy`);
    const out = resize(src, [h, w]);
    assert.deepEqual(out.shape, [h, w]);
    const d = maxDiff(out.data, ref.data as Float32Array);
    assert.ok(d < 1e-6, `${h}x${w}: max |diff| vs Pillow ${d}`);
  }
});

test('2× upsampling of a 2×2 image gives the hand-computed half-pixel values', () => {
  // Output centres at input coords 0.25, 0.75, 1.25, 1.75 (in pixel units, centres at 0.5 and 1.5):
  // weights on (p0, p1): (1,0), (0.75,0.25), (0.25,0.75), (0,1).
  const out = resize(Tensor.from([0, 4, 8, 12], [2, 2]), 4);
  const row = (a: number, b: number) => [a, 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b, b];
  const r0 = row(0, 4);
  const r1 = row(8, 12);
  const expect: number[] = [];
  for (const [wa, wb] of [[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]] as const) {
    for (let x = 0; x < 4; x++) expect.push(wa * r0[x]! + wb * r1[x]!);
  }
  assert.deepEqual([...out.data], expect);
});

test('constants are preserved exactly at every scale, with and without antialiasing', () => {
  const c = new Tensor(new Float32Array(2 * 28 * 28).fill(0.375), [2, 28, 28]);
  for (const size of [64, 14, 9, 28, 57, 3, 1] as const) {
    for (const antialias of [true, false]) {
      const out = resize(c, size, { antialias });
      assert.deepEqual(out.shape, [2, size, size]);
      assert.ok(maxDiff(out.data, new Float32Array(out.size).fill(0.375)) < 1e-6, `size ${size} aa ${antialias}`);
    }
  }
});

test('linear ramps are preserved exactly in the interior when upsampling and for integer reductions', () => {
  // Ramp v(x) = a + b·x in continuous coordinates (pixel j holds v(j + 0.5)): output pixel i, centred at
  // c_i = (i+0.5)·s, must read v(c_i) when its taps are all inside the image and placed symmetrically
  // about c_i (any scale up, where the filter is linear interpolation; integer factors down).
  const n = 28;
  const a = 0.1, b = 0.03;
  const ramp = Tensor.from(Array.from({ length: n * n }, (_, k) => a + b * ((k % n) + 0.5)), [n, n]);
  for (const m of [64, 50, 29, 14, 7]) {
    const s = n / m;
    const f = Math.max(1, s);
    const out = resize(ramp, [n, m]);
    let checked = 0;
    for (let i = 0; i < m; i++) {
      const c = (i + 0.5) * s;
      if (c - f < 0.5 || c + f > n - 0.5) continue; // the filter reaches past the outermost centres
      for (let y = 0; y < n; y++) assert.ok(Math.abs(out.data[y * m + i]! - (a + b * c)) < 1e-6, `m=${m} i=${i}`);
      checked++;
    }
    assert.ok(checked >= m - 2 * Math.ceil(f / s) - 2, `m=${m}: only ${checked} interior columns`);
  }
  // Non-integer reductions: the sampled triangle is slightly asymmetric (as in Pillow), a bias of a
  // small fraction of a pixel.
  const r9 = resize(ramp, [n, 9]);
  for (let i = 2; i < 7; i++) assert.ok(Math.abs(r9.data[i]! - (a + b * (i + 0.5) * (n / 9))) < 0.05 * b);
});

test('downsampling is antialiased: a 1-pixel checkerboard averages to its mean, plain bilinear aliases', () => {
  const n = 32;
  const board = Tensor.from(Array.from({ length: n * n }, (_, k) => ((k % n) + Math.floor(k / n)) % 2), [n, n]);
  const aa = resize(board, 8);
  for (let y = 1; y < 7; y++) for (let x = 1; x < 7; x++) assert.ok(Math.abs(aa.data[y * 8 + x]! - 0.5) < 1e-6);
  assert.ok(maxDiff(aa.data, new Float32Array(64).fill(0.5)) < 0.01); // border rows lose a few taps
  const plain = resize(board, 10, { antialias: false });
  const spread = Math.max(...plain.data) - Math.min(...plain.data);
  assert.ok(spread > 0.3, `plain bilinear should alias, spread ${spread}`);
});

test('weights: each output row sums to 1, support widens with the scale', () => {
  for (const [i, o] of [[28, 64], [64, 28], [100, 7], [5, 5]] as const) {
    const k = resizeCoefficients(i, o);
    for (let r = 0; r < o; r++) {
      let s = 0;
      for (let j = 0; j < k.count[r]!; j++) s += k.weights[r * k.stride + j]!;
      assert.ok(Math.abs(s - 1) < 1e-12);
    }
  }
  assert.ok(resizeCoefficients(100, 7).count[3]! >= 28); // ~2·(100/7) taps
  assert.ok(resizeCoefficients(28, 64).count[10]! <= 3);
});

test('batched [N,C,H,W] resize equals per-plane resize; same size is an exact copy', () => {
  const src = fx('resize_in_28.npy') as Tensor;
  const batch = Tensor.concat0([src.reshape([1, 1, 28, 28]), src.reshape([1, 1, 28, 28])]);
  const out = resize(batch, [64, 64]);
  assert.deepEqual(out.shape, [2, 1, 64, 64]);
  const one = resize(src, [64, 64]);
  assert.equal(maxDiff(out.data.subarray(0, 4096), one.data), 0);
  assert.equal(maxDiff(out.data.subarray(4096), one.data), 0);
  const same = resize(src, 28);
  assert.notEqual(same.data, src.data);
  assert.equal(maxDiff(same.data, src.data), 0);
});
