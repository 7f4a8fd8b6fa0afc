import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { writeNpzFileSync } from '../io/files.js';
import { hasFixture, fixturePath } from '../testing/paths.js';
import { classCounts } from './dataset.js';
import { classBalanceReport, formatClassBalance } from './balance.js';
import { loadMedMnist, loadMedMnistSplits, medMnistName } from './medmnist.js';

const PNEUMONIA = 'data/pneumoniamnist.npz';

function tmp(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'candor-medmnist-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const u8 = (n: number, f: (i: number) => number) => Uint8Array.from({ length: n }, (_, i) => f(i));

test('PneumoniaMNIST: all splits with the documented counts, class names and 0..1 pixels', { skip: !hasFixture(PNEUMONIA) }, () => {
  const path = fixturePath(PNEUMONIA);
  const { train, val, test: tst } = loadMedMnistSplits(path);
  assert.equal(train.task, 'single');
  assert.deepEqual(train.images.shape, [4690, 1, 28, 28]);
  assert.deepEqual(val.images.shape, [524, 1, 28, 28]);
  assert.deepEqual(tst.images.shape, [624, 1, 28, 28]);
  assert.deepEqual(train.classNames, ['normal', 'pneumonia']);
  assert.deepEqual(classCounts(train), [1213, 3477]); // DESIGN.md §7
  assert.deepEqual(classCounts(val), [135, 389]);
  assert.deepEqual(classCounts(tst), [234, 390]);
  // numpy: test_images.sum() == 70355184, so the float images sum to that / 255
  let s = 0;
  for (const v of tst.images.data) s += v;
  assert.ok(Math.abs(s - 70355184 / 255) < 1);
  assert.ok(Math.max(...tst.images.data.subarray(0, 784)) <= 1);
  assert.match(val.source, /pneumoniamnist\.npz \(val\)/);
  const one = loadMedMnist(path, 'test', { limit: 10 });
  assert.deepEqual(one.images.shape, [10, 1, 28, 28]);
  assert.deepEqual(one.images.data, tst.images.data.subarray(0, 7840));
  const table = formatClassBalance(classBalanceReport({ train, val, test: tst }));
  assert.match(table, /pneumonia\s+3477 \(74\.1%\)\s+389 \(74\.2%\)\s+390 \(62\.5%\)/);
  assert.match(table, /train \(n=4690\)/);
});

test('multi-label npz (ChestMNIST layout) loads as an [N,K] matrix with the 14 finding names', () => {
  const { dir, done } = tmp();
  try {
    const n = 6, K = 14;
    const path = join(dir, 'chestmnist.npz');
    const labels = u8(n * K, (i) => ((i * 7) % 5 === 0 ? 1 : 0));
    writeNpzFileSync(path, {
      train_images: new Tensor(u8(n * 28 * 28, (i) => i % 256), [n, 28, 28]),
      train_labels: new Tensor(labels, [n, K]),
    }, { compress: true });
    const ds = loadMedMnist(path, 'train');
    assert.equal(ds.task, 'multi');
    if (ds.task !== 'multi') return;
    assert.deepEqual(ds.labels.shape, [n, K]);
    assert.deepEqual(ds.labels.data, labels);
    assert.equal(ds.classNames.length, 14);
    assert.equal(ds.classNames[0], 'atelectasis');
    assert.equal(ds.classNames[13], 'hernia');
    const counts = classCounts(ds);
    assert.equal(counts.reduce((a, b) => a + b, 0), labels.reduce((a, b) => a + b, 0));
    const bad = join(dir, 'bad.npz');
    writeNpzFileSync(bad, { train_images: new Tensor(u8(2 * 4, () => 0), [2, 2, 2]), train_labels: new Tensor(u8(6, (i) => i), [2, 3]) });
    assert.throws(() => loadMedMnist(bad, 'train'), /bad\.npz: 'train_labels' is multi-label \[N,3\] but holds 2/);
  } finally {
    done();
  }
});

test('RGB npz [N,H,W,3] becomes NCHW; unknown sets get "class k" names counted over all splits', () => {
  const { dir, done } = tmp();
  try {
    const path = join(dir, 'mystery_set.npz');
    const n = 3, H = 2, W = 4;
    const img = u8(n * H * W * 3, (i) => (i * 11) % 256);
    writeNpzFileSync(path, {
      train_images: new Tensor(img, [n, H, W, 3]),
      train_labels: new Tensor(Int32Array.from([0, 1, 0]), [n, 1]),
      test_images: new Tensor(img.slice(0, H * W * 3), [1, H, W, 3]),
      test_labels: new Tensor(BigInt64Array.from([3n]), [1, 1]),
    });
    const ds = loadMedMnist(path, 'train');
    assert.deepEqual(ds.images.shape, [n, 3, H, W]);
    // pixel (i=1, y=1, x=2, c=2) in HWC order
    const hwc = ((1 * H + 1) * W + 2) * 3 + 2;
    assert.equal(ds.images.data[((1 * 3 + 2) * H + 1) * W + 2], Math.fround(img[hwc]! / 255));
    assert.deepEqual(ds.classNames, ['class 0', 'class 1', 'class 2', 'class 3']);
    assert.equal(medMnistName('/x/bloodmnist_128.npz'), 'bloodmnist');
    assert.equal(medMnistName('mystery_set.npz'), null);
  } finally {
    done();
  }
});

test('bad archives fail with the file and key named (missing split, dtype, shape, counts, truncation)', () => {
  const { dir, done } = tmp();
  try {
    const path = join(dir, 'pneumoniamnist.npz');
    const imgs = new Tensor(u8(4 * 9, (i) => i), [4, 3, 3]);
    writeNpzFileSync(path, { train_images: imgs, train_labels: new Tensor(u8(4, (i) => i % 2), [4, 1]) });
    assert.throws(() => loadMedMnist(path, 'val'), (e: Error) =>
      e.message.includes(path) && /no 'val_images' array for the val split/.test(e.message) && /splits present: train/.test(e.message));

    const f32 = join(dir, 'f32.npz');
    writeNpzFileSync(f32, { train_images: new Tensor(new Float32Array(36), [4, 3, 3]), train_labels: new Tensor(u8(4, () => 0), [4, 1]) });
    assert.throws(() => loadMedMnist(f32, 'train'), /f32\.npz: 'train_images' has dtype float32; MedMNIST images are uint8/);

    const mism = join(dir, 'mismatch.npz');
    writeNpzFileSync(mism, { train_images: imgs, train_labels: new Tensor(u8(5, () => 0), [5, 1]) });
    assert.throws(() => loadMedMnist(mism, 'train'), /mismatch\.npz: 'train_images' has 4 images but 'train_labels' has 5 labels/);

    const rank = join(dir, 'rank.npz');
    writeNpzFileSync(rank, { train_images: new Tensor(u8(8, () => 0), [8]), train_labels: new Tensor(u8(8, () => 0), [8, 1]) });
    assert.throws(() => loadMedMnist(rank, 'train'), /rank\.npz: 'train_images' has shape \[8\]/);

    const flt = join(dir, 'fltlab.npz');
    writeNpzFileSync(flt, { train_images: imgs, train_labels: new Tensor(new Float32Array(4), [4, 1]) });
    assert.throws(() => loadMedMnist(flt, 'train'), /fltlab\.npz: 'train_labels' has dtype float32; labels must be integers/);

    const known = join(dir, 'breastmnist.npz'); // table has 2 classes, label 2 present → generic names
    writeNpzFileSync(known, { train_images: imgs, train_labels: new Tensor(u8(4, (i) => i % 3), [4, 1]) });
    assert.deepEqual(loadMedMnist(known, 'train').classNames, ['class 0', 'class 1', 'class 2']);

    const full = readFileSync(path);
    for (const cut of [full.length - 10, Math.floor(full.length / 2), 30]) {
      const trunc = join(dir, `truncated-${cut}.npz`);
      writeFileSync(trunc, full.subarray(0, cut));
      assert.throws(() => loadMedMnist(trunc, 'train'), (e: Error) => e.message.includes(`truncated-${cut}.npz`), `cut at ${cut}`);
    }
  } finally {
    done();
  }
});
