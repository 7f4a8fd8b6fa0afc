import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareData, prepareDataAsync } from './prepare.js';
import { encodePng } from '../io/image.js';
import { classCounts } from '../data/dataset.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';

function imageFolder(perClass: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'candor-folder-'));
  const rng = new Rng(1);
  for (const cls of ['effusion', 'normal']) {
    mkdirSync(join(dir, cls));
    for (let i = 0; i < perClass; i++) {
      const img = new Tensor(Float32Array.from({ length: 20 * 24 }, () => rng.next()), [20, 24]);
      writeFileSync(join(dir, cls, `${i}.png`), encodePng(img));
    }
  }
  return dir;
}

test('an image folder is resized, scaled to [-1, 1] and split 70/15/15 with every class in every split', () => {
  const dir = imageFolder(20);
  const d = prepareData(dir, { size: 16, seed: 3 });
  const sizes = [d.train, d.val, d.test].map((s) => s.images.shape[0]!);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 40);
  assert.ok(Math.abs(sizes[0]! - 28) <= 2 && Math.abs(sizes[2]! - 6) <= 2, `${sizes}`);
  for (const s of [d.train, d.val, d.test]) {
    assert.deepEqual(s.images.shape.slice(1), [1, 16, 16]);
    assert.ok(classCounts(s).every((c) => c > 0));
  }
  assert.deepEqual(d.train.classNames, ['effusion', 'normal']);
  const px = d.train.images.data;
  assert.ok(Math.min(...px) >= -1 && Math.max(...px) <= 1 && Math.min(...px) < -0.5);
  // the same seed gives the same split
  const again = prepareData(dir, { size: 16, seed: 3 });
  assert.deepEqual(again.test.images.data, d.test.images.data);
});

test('the bundled PneumoniaMNIST with a shortcut keeps a clean test split and a fully marked copy', () => {
  const d = prepareData('pneumoniamnist', { size: 32, shortcut: 'corner:8', limit: 60 });
  assert.ok(d.testMarked);
  assert.equal(d.testMarked!.marked.reduce((a, b) => a + b, 0), d.test.images.shape[0]);
  assert.notDeepEqual(d.testMarked!.dataset.images.data, d.test.images.data);
});

const DICOM = fileURLToPath(new URL('../io/fixtures/dicom/', import.meta.url));
const TINY = fileURLToPath(new URL('../data/fixtures/medical/tiny_volume.nii.gz', import.meta.url));

/** Two classes of real DICOM files (copies of pydicom's test images under new names). */
function dicomFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'candor-dicom-data-'));
  const files = { ct: ['CT_small.dcm', 'MR_small_bigendian.dcm', 'MR_small_implicit.dcm', 'MR_small_RLE.dcm'], mr: ['MR_small.dcm', 'MR_small_mono1.dcm', 'MR_small_jpeg_lossless.dcm', 'bits12_signed.dcm'] };
  for (const [cls, names] of Object.entries(files)) {
    mkdirSync(join(dir, cls));
    names.forEach((f, i) => copyFileSync(DICOM + f, join(dir, cls, `IM${String(i).padStart(4, '0')}`)));
    for (let k = 0; k < 6; k++) copyFileSync(DICOM + names[k % 2]!, join(dir, cls, `copy${k}.dcm`));
  }
  return dir;
}

test('a DICOM class folder: windowed, resized, scaled to [-1, 1], split; the description names no patient', () => {
  const dir = dicomFolder();
  try {
    const d = prepareData(dir, { size: 32, seed: 1 });
    const n = [d.train, d.val, d.test].map((s) => s.images.shape[0]!);
    assert.equal(n[0]! + n[1]! + n[2]!, 20);
    assert.deepEqual(d.train.images.shape.slice(1), [1, 32, 32]);
    assert.deepEqual(d.train.classNames, ['ct', 'mr']);
    for (const s of [d.train, d.val, d.test]) assert.ok(classCounts(s).every((c) => c > 0));
    const px = d.train.images.data;
    assert.ok(Math.min(...px) >= -1 && Math.max(...px) <= 1 && Math.min(...px) === -1);
    assert.match(d.description, /DICOM: 20 images from 20 files \(window from file: \d+, no window, min–max: \d+, MONOCHROME1 inverted: 4\)/);
    assert.doesNotMatch(d.description, /CompressedSamples|1CT1|4MR1|SYNTH/);
    // a window option replaces the files' windows
    const w = prepareData(dir, { size: 32, seed: 1, window: [40, 400], channels: 3 });
    assert.match(w.description, /window from options: 20/);
    assert.deepEqual(w.test.images.shape.slice(1), [3, 32, 32]);
    assert.throws(() => prepareData(dir, { size: 32, window: [40, 0] }), /window \[40, 0\]: needs a finite center and a width ≥ 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CSV of NIfTI slices: the slices of one volume stay in one split', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-nifti-data-'));
  try {
    const rows = ['file,label'];
    for (let v = 0; v < 12; v++) {
      copyFileSync(TINY, join(dir, `v${v}.nii.gz`));
      rows.push(`v${v}.nii.gz#slice=0-3,${v % 2 ? 'lesion' : 'normal'}`);
    }
    writeFileSync(join(dir, 'slices.csv'), rows.join('\n'));
    const d = prepareData(join(dir, 'slices.csv'), { size: 8, seed: 2 });
    const n = [d.train, d.val, d.test].map((s) => s.images.shape[0]!);
    assert.equal(n[0]! + n[1]! + n[2]!, 48);
    for (const k of n) assert.equal(k % 4, 0, `${n}`); // whole volumes only
    assert.match(d.description, /images of one file or CSV group kept in one split\); NIfTI: 48 slices from 12 volumes \(axis k, min–max per volume\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JPEG 2000 DICOM: a clear error from the synchronous prepareData, read by prepareDataAsync', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-j2k-data-'));
  try {
    for (const cls of ['a', 'b']) {
      mkdirSync(join(dir, cls));
      for (let k = 0; k < 4; k++) copyFileSync(DICOM + (k ? 'MR_small.dcm' : 'MR_small_jp2klossless.dcm'), join(dir, cls, `${k}.dcm`));
    }
    assert.throws(() => prepareData(dir, { size: 16 }), /0\.dcm: JPEG 2000 pixel data needs the JPEG 2000 decoder loaded first \(use prepareDataAsync/);
    const d = await prepareDataAsync(dir, { size: 16 });
    assert.equal(d.train.images.shape[0]! + d.val.images.shape[0]! + d.test.images.shape[0]!, 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--scale: the same images as pm1, unit, ImageNet mean/std (after the channel repeat) and byte', () => {
  const opts = { size: 28, channels: 3, seed: 0, limit: 20 };
  const pm1 = prepareData('pneumoniamnist', opts).test.images;
  const at = (t: Tensor, c: number, i: number) => t.data[c * 28 * 28 + i]!;
  for (const [scale, f] of [
    ['unit', (u: number) => u],
    ['byte', (u: number) => 255 * u],
    ['imagenet', (u: number, c: number) => (u - [0.485, 0.456, 0.406][c]!) / [0.229, 0.224, 0.225][c]!],
  ] as const) {
    const x = prepareData('pneumoniamnist', { ...opts, scale }).test.images;
    assert.deepEqual(x.shape, pm1.shape);
    for (const i of [0, 100, 400, 783])
      for (let c = 0; c < 3; c++) {
        const u = (at(pm1, c, i) + 1) / 2; // back to [0, 1]
        assert.ok(Math.abs(at(x, c, i) - f(u, c)) < 1e-4 * Math.max(1, Math.abs(f(u, c))), `${scale} channel ${c} pixel ${i}`);
      }
  }
  assert.throws(() => prepareData('pneumoniamnist', { ...opts, scale: 'nope' as 'unit' }), /unknown input scale 'nope' \(valid: pm1, unit, imagenet, byte\)/);
});
