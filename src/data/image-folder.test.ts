import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { encodeJpeg, encodePng } from '../io/image.js';
import { classCounts } from './dataset.js';
import { classBalance } from './balance.js';
import { loadImageCollection, loadImageFolder } from './image-folder.js';

/** A [C,H,W] image whose every pixel is `v` (exact at 8 bits when v = k/255). */
const flat = (C: number, H: number, W: number, v: number) => new Tensor(new Float32Array(C * H * W).fill(v), [C, H, W]);

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'candor-folder-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function put(path: string, bytes: Uint8Array): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
}

test('folder per class: sorted class names, sorted files, labels by folder, non-images ignored', () => {
  withDir((dir) => {
    put(join(dir, 'pneumonia', 'b.png'), encodePng(flat(1, 3, 4, 20 / 255)));
    put(join(dir, 'pneumonia', 'a.png'), encodePng(flat(1, 3, 4, 10 / 255)));
    put(join(dir, 'normal', 'x.PNG'), encodePng(flat(1, 3, 4, 30 / 255)));
    put(join(dir, 'normal', 'notes.txt'), new TextEncoder().encode('not an image'));
    put(join(dir, '.hidden', 'y.png'), encodePng(flat(1, 3, 4, 1)));
    const ds = loadImageFolder(dir);
    assert.deepEqual(ds.classNames, ['normal', 'pneumonia']);
    assert.deepEqual([...ds.labels], [0, 1, 1]);
    assert.deepEqual(ds.images.shape, [3, 1, 3, 4]);
    assert.deepEqual([0, 1, 2].map((i) => Math.round(ds.images.data[i * 12]! * 255)), [30, 10, 20]);
    const bal = classBalance(ds, 'all');
    assert.deepEqual(bal.classes.map((c) => [c.name, c.count]), [['normal', 1], ['pneumonia', 2]]);
    assert.equal(bal.imbalance, 2);
  });
});

test('mixed gray PNG and RGB JPEG: gray repeated to RGB by default, or all converted to gray', () => {
  withDir((dir) => {
    put(join(dir, 'a', '1.png'), encodePng(flat(1, 8, 8, 100 / 255)));
    put(join(dir, 'b', '2.jpg'), encodeJpeg(flat(3, 8, 8, 0.5), 95));
    const rgb = loadImageFolder(dir);
    assert.deepEqual(rgb.images.shape, [2, 3, 8, 8]);
    assert.equal(rgb.images.data[64], rgb.images.data[0]); // gray image: channel 1 == channel 0
    const gray = loadImageFolder(dir, { channels: 1 });
    assert.deepEqual(gray.images.shape, [2, 1, 8, 8]);
    assert.ok(Math.abs(gray.images.data[64]! - 0.5) < 0.02);
  });
});

test('images of different sizes: a clear error naming both files, or resized when size is given', () => {
  withDir((dir) => {
    put(join(dir, 'a', 'small.png'), encodePng(flat(1, 4, 6, 0.2)));
    put(join(dir, 'b', 'big.png'), encodePng(flat(1, 8, 8, 0.6)));
    assert.throws(() => loadImageFolder(dir), (e: Error) =>
      e.message.includes(dir) && /a\/small\.png is 6×4 but b\/big\.png is 8×8/.test(e.message) && /pass size/.test(e.message));
    const ds = loadImageFolder(dir, { size: [5, 7] });
    assert.deepEqual(ds.images.shape, [2, 1, 5, 7]);
    // constants survive the resize
    assert.ok(Math.abs(ds.images.data[0]! - Math.round(0.2 * 255) / 255) < 1e-6);
    assert.ok(Math.abs(ds.images.data[35]! - Math.round(0.6 * 255) / 255) < 1e-6);
  });
});

test('CSV of file,label: header detected, names sorted to indices, or indices with given names', () => {
  withDir((dir) => {
    put(join(dir, 'img', 'p1.png'), encodePng(flat(1, 2, 2, 1 / 255)));
    put(join(dir, 'img', 'p2.png'), encodePng(flat(1, 2, 2, 2 / 255)));
    put(join(dir, 'img', 'p 3.png'), encodePng(flat(1, 2, 2, 3 / 255)));
    writeFileSync(join(dir, 'labels.csv'), 'file,label\nimg/p1.png,pneumonia\r\nimg/p2.png,normal\n"img/p 3.png",pneumonia\n\n');
    const ds = loadImageFolder(dir, { csv: 'labels.csv' });
    assert.deepEqual(ds.classNames, ['normal', 'pneumonia']);
    assert.deepEqual([...ds.labels], [1, 0, 1]);
    assert.deepEqual([0, 1, 2].map((i) => Math.round(ds.images.data[i * 4]! * 255)), [1, 2, 3]);
    assert.match(ds.source, /labels\.csv$/);

    writeFileSync(join(dir, 'idx.csv'), 'img/p1.png,1\nimg/p2.png,0\nimg/p 3.png,2\n');
    const byIdx = loadImageFolder(dir, { csv: 'idx.csv' });
    assert.deepEqual(byIdx.classNames, ['class 0', 'class 1', 'class 2']);
    assert.deepEqual(classCounts(byIdx), [1, 1, 1]);
    const named = loadImageFolder(dir, { csv: 'idx.csv', classNames: ['a', 'b', 'c'] });
    assert.deepEqual(named.classNames, ['a', 'b', 'c']);

    const fixed = loadImageFolder(dir, { csv: 'labels.csv', classNames: ['pneumonia', 'normal'] });
    assert.deepEqual([...fixed.labels], [0, 1, 0]);
  });
});

test('CSV and folder errors name the file and line', () => {
  withDir((dir) => {
    put(join(dir, 'ok.png'), encodePng(flat(1, 2, 2, 0)));
    writeFileSync(join(dir, 'missing.csv'), 'ok.png,0\ngone.png,1\n');
    assert.throws(() => loadImageFolder(dir, { csv: 'missing.csv' }), /missing\.csv:2: image 'gone\.png' not found/);
    writeFileSync(join(dir, 'short.csv'), 'ok.png\n');
    assert.throws(() => loadImageFolder(dir, { csv: 'short.csv' }), /short\.csv:1: expected 'file,label'/);
    put(join(dir, 'ok2.png'), encodePng(flat(1, 2, 2, 0)));
    writeFileSync(join(dir, 'mixed.csv'), 'ok.png,0\nok2.png,normal\n');
    assert.throws(() => loadImageFolder(dir, { csv: 'mixed.csv' }), /mixed\.csv:2: label 'normal' is a class name but line 1 has an index \('0'\): labels mix class names and indices/);
    writeFileSync(join(dir, 'range.csv'), 'ok.png,5\n');
    assert.throws(() => loadImageFolder(dir, { csv: 'range.csv', classNames: ['a', 'b'] }), /range\.csv:1: label '5' of .*ok\.png is not one of 2 classes/);
    put(join(dir, 'cls', 'broken.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0]));
    assert.throws(() => loadImageFolder(dir, { strict: true }), /cls\/broken\.png: corrupt PNG/);
    // Without --strict an unreadable file is skipped, counted and listed.
    put(join(dir, 'cls', 'fine.png'), encodePng(flat(1, 2, 2, 0)));
    const skipped = loadImageCollection(dir);
    assert.equal(skipped.dataset.images.shape[0], 1);
    assert.equal(skipped.skipped.length, 1);
    assert.match(skipped.skipped[0]!, /cls\/broken\.png: corrupt PNG/);
    assert.match(skipped.notes.join('\n'), /1 unreadable file\(s\) skipped \(--strict stops at the first\): .*broken\.png/);
    rmSync(join(dir, 'cls', 'fine.png'));
    assert.throws(() => loadImageFolder(join(dir, 'nope')), /nope: not a directory/);
    assert.throws(() => loadImageFolder(dir, { csv: 'absent.csv' }), /absent\.csv: CSV file not found/);
  });
  withDir((dir) => {
    assert.throws(() => loadImageFolder(dir), /no class sub-folders/);
    mkdirSync(join(dir, 'empty'));
    assert.throws(() => loadImageFolder(dir), /empty: class folder 'empty' holds no PNG, JPEG or DICOM files/);
  });
});

test('multi-label CSVs: finding columns of 0/1, or a labels column of |-separated names; errors name the line', async () => {
  const { loadImageCollection } = await import('./image-folder.js');
  withDir((dir) => {
    for (const f of ['a', 'b', 'c']) put(join(dir, `${f}.png`), encodePng(flat(1, 2, 2, 0.5)));
    writeFileSync(join(dir, 'cols.csv'), 'file,effusion,nodule,patient\na.png,1,0,p1\nb.png,0,0,p2\nc.png,1,1,p1\n');
    const cols = loadImageCollection(dir, { csv: 'cols.csv' });
    assert.equal(cols.dataset.task, 'multi');
    assert.deepEqual(cols.dataset.classNames, ['effusion', 'nodule']);
    assert.deepEqual([...(cols.dataset.labels as Tensor<Uint8Array>).data], [1, 0, 0, 0, 1, 1]);
    assert.deepEqual([...cols.groups], [0, 1, 0]); // the patient column keeps a and c together
    writeFileSync(join(dir, 'named.csv'), 'Image,Finding Labels\na.png,Nodule|Effusion\nb.png,No Finding\nc.png,Mass\n');
    const named = loadImageCollection(dir, { csv: 'named.csv' });
    assert.deepEqual(named.dataset.classNames, ['Effusion', 'Mass', 'Nodule']);
    assert.deepEqual([...(named.dataset.labels as Tensor<Uint8Array>).data], [1, 0, 1, 0, 0, 0, 0, 1, 0]);
    writeFileSync(join(dir, 'bad.csv'), 'file,effusion,nodule\na.png,1,0\nb.png,2,0\n');
    assert.throws(() => loadImageCollection(dir, { csv: 'bad.csv' }), /bad\.csv:3: finding 'effusion' is '2'; multi-label cells are 0 or 1/);
    assert.throws(() => loadImageFolder(dir, { csv: 'cols.csv' }), /a multi-label CSV/);
  });
});
