import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { readNpyFileSync } from '../io/files.js';
import { classCounts, type SingleLabelDataset } from './dataset.js';
import {
  channelStats, denormalize, normalize, repeatChannels, resizeDataset, shuffleDataset, stratifiedSample, takeFirst, toMinusOneOne,
} from './transforms.js';
import { augment, hflip, rotate } from './augment.js';

const fx = (name: string) => readNpyFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))) as Tensor;

function ramp(N: number, C: number, H: number, W: number): Tensor {
  return Tensor.from(Array.from({ length: N * C * H * W }, (_, i) => ((i * 7919) % 1000) / 1000), [N, C, H, W]);
}

function toyDataset(labels: number[]): SingleLabelDataset {
  const n = labels.length;
  const images = Tensor.from(Array.from({ length: n * 4 }, (_, i) => Math.floor(i / 4)), [n, 1, 2, 2]);
  return { task: 'single', images, labels: Int32Array.from(labels), classNames: ['a', 'b', 'c'], source: 'toy' };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('normalisation: tutorial [-1,1], per-channel mean/std, and its inverse', () => {
  const t = Tensor.from([0, 0.25, 0.5, 1, 0, 1, 0.5, 0.5], [1, 2, 2, 2]);
  assert.deepEqual([...toMinusOneOne(t).data], [-1, -0.5, 0, 1, -1, 1, 0, 0]);
  const n = normalize(t, [0.5, 0.25], [0.5, 2]);
  assert.deepEqual([...n.data.subarray(4)], [-0.125, 0.375, 0.125, 0.125]);
  assert.ok(maxDiff(denormalize(n, [0.5, 0.25], [0.5, 2]).data, t.data) < 1e-7);
  const st = channelStats(normalize(ramp(3, 2, 5, 5), channelStats(ramp(3, 2, 5, 5)).mean, channelStats(ramp(3, 2, 5, 5)).std));
  for (let c = 0; c < 2; c++) {
    assert.ok(Math.abs(st.mean[c]!) < 1e-6);
    assert.ok(Math.abs(st.std[c]! - 1) < 1e-5);
  }
  assert.throws(() => normalize(t, [0.5], 1), /1 values for 2 channels/);
  assert.throws(() => normalize(t, 0, 0), /std must be positive/);
});

test('channel repeat 1→3 copies the plane; other inputs are refused', () => {
  const t = ramp(2, 1, 3, 3);
  const r = repeatChannels(t);
  assert.deepEqual(r.shape, [2, 3, 3, 3]);
  for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) {
    assert.deepEqual(r.data.subarray((n * 3 + c) * 9, (n * 3 + c + 1) * 9), t.data.subarray(n * 9, (n + 1) * 9));
  }
  assert.throws(() => repeatChannels(ramp(1, 2, 2, 2)), /only 1-channel/);
});

test('resizeDataset upsamples every image and keeps labels', () => {
  const ds = toyDataset([0, 1, 2]);
  const up = resizeDataset(ds, 4);
  assert.deepEqual(up.images.shape, [3, 1, 4, 4]);
  assert.deepEqual(up.labels, ds.labels);
  assert.ok(maxDiff(up.images.data.subarray(16, 32), new Float32Array(16).fill(1)) < 1e-6);
});

test('seeded shuffle: same seed same order, different seed different, rows stay with their labels', () => {
  const ds = toyDataset(Array.from({ length: 20 }, (_, i) => i % 3));
  const a = shuffleDataset(ds, new Rng(1));
  const b = shuffleDataset(ds, new Rng(1));
  const c = shuffleDataset(ds, new Rng(2));
  assert.deepEqual(a.order, b.order);
  assert.notDeepEqual(a.order, c.order);
  for (let j = 0; j < 20; j++) {
    const i = a.order[j]!;
    assert.equal(a.dataset.labels[j], ds.labels[i]);
    assert.equal(a.dataset.images.data[j * 4], i);
  }
  assert.deepEqual([...a.order].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i));
});

test('subsets: first n, and a seeded stratified sample with n per class', () => {
  const ds = toyDataset([0, 0, 0, 0, 1, 1, 1, 2, 2, 0, 1, 2]);
  const first = takeFirst(ds, 5);
  assert.deepEqual([...first.labels], [0, 0, 0, 0, 1]);
  assert.equal(takeFirst(ds, 99).labels.length, 12);
  const s = stratifiedSample(ds, 2, new Rng(3));
  assert.deepEqual(classCounts(s), [2, 2, 2]);
  assert.deepEqual(stratifiedSample(ds, 2, new Rng(3)).images.data, s.images.data);
  const uneven = stratifiedSample(ds, [5, 1, 9], new Rng(3));
  assert.deepEqual(classCounts(uneven), [5, 1, 3]); // class 2 has only 3
});

test('rotation matches scipy (order-1 affine, constant 0 outside) and 90° equals an exact rot90', () => {
  const src = fx('rotate_in_16.npy');
  const ref = fx('rotate_scipy_10deg.npy');
  const out = rotate(src.reshape([1, 1, 16, 16]), 10);
  assert.ok(maxDiff(out.data, ref.data) < 1e-5, `vs scipy ${maxDiff(out.data, ref.data)}`);
  const r90 = rotate(src.reshape([1, 1, 16, 16]), 90);
  for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) {
    // numpy rot90 (counter-clockwise): out[i, j] = in[j, W-1-i]
    assert.ok(Math.abs(r90.data[i * 16 + j]! - src.data[j * 16 + (15 - i)]!) < 1e-5);
  }
  assert.deepEqual(rotate(src.reshape([1, 1, 16, 16]), 0).data, src.data);
});

test('augmentation is deterministic per seed, differs across seeds, and does what it records', () => {
  const t = ramp(8, 2, 12, 12);
  const opts = { flip: 0.5, rotate: 10, cropPadding: 2 };
  const a = augment(t, new Rng(42), opts);
  const b = augment(t, new Rng(42), opts);
  const c = augment(t, new Rng(43), opts);
  assert.deepEqual(a.images.data, b.images.data);
  assert.notDeepEqual(a.images.data, c.images.data);
  assert.deepEqual(a.images.shape, t.shape);
  const fl = a.applied.flipped.reduce((x, y) => x + y, 0);
  assert.ok(fl > 0 && fl < 8, `flips ${fl}`);
  assert.ok([...a.applied.angles].every((d) => Math.abs(d) <= 10));
  assert.ok([...a.applied.dx, ...a.applied.dy].every((d) => Math.abs(d) <= 2));

  // Flip only: each image is either unchanged or exactly mirrored, as recorded.
  const f = augment(t, new Rng(7), { flip: 0.5 });
  const mirrored = hflip(t);
  for (let n = 0; n < 8; n++) {
    const seg = (x: Tensor) => x.data.subarray(n * 288, (n + 1) * 288);
    assert.deepEqual(seg(f.images), seg(f.applied.flipped[n] ? mirrored : t));
  }
  // Crop with padding only: a shift by (dx, dy) with the fill value where uncovered.
  const s = augment(t, new Rng(9), { flip: 0, cropPadding: 3, fill: -1 });
  for (let n = 0; n < 8; n++) {
    const dx = s.applied.dx[n]!, dy = s.applied.dy[n]!;
    for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) {
      const sx = x - dx, sy = y - dy;
      const want = sx >= 0 && sx < 12 && sy >= 0 && sy < 12 ? t.data[n * 288 + sy * 12 + sx]! : -1;
      assert.equal(s.images.data[n * 288 + y * 12 + x], want);
    }
  }
  // Nothing enabled: identity.
  assert.deepEqual(augment(t, new Rng(1), { flip: 0 }).images.data, t.data);
});
