import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../tensor/tensor.js';
import { hasFixture, fixturePath } from '../testing/paths.js';
import { encodeNpy } from './npy.js';
import { openNpz, readNpz, writeNpz } from './npz.js';
import { openZip, writeZip } from './zip.js';

const fixture = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))));
const PNEUMONIA = 'data/pneumoniamnist.npz';

function countLabels(t: Tensor<any>): number[] {
  const counts = [0, 0];
  for (const v of t.data as Uint8Array) counts[v]!++;
  return counts;
}

test('PneumoniaMNIST (np.savez_compressed) reads with the expected splits, shapes and label counts', { skip: !hasFixture(PNEUMONIA) }, () => {
  const m = readNpz(new Uint8Array(readFileSync(fixturePath(PNEUMONIA))), 'pneumoniamnist.npz');
  for (const k of ['train_images', 'train_labels', 'val_images', 'val_labels', 'test_images', 'test_labels']) {
    assert.ok(m.has(k), k);
  }
  const shapes = Object.fromEntries([...m].map(([k, t]) => [k, [t.dtype, ...t.shape].join(' ')]));
  assert.deepEqual(shapes, {
    train_images: 'uint8 4690 28 28', train_labels: 'uint8 4690 1',
    val_images: 'uint8 524 28 28', val_labels: 'uint8 524 1',
    test_images: 'uint8 624 28 28', test_labels: 'uint8 624 1',
  });
  assert.deepEqual(countLabels(m.get('train_labels')!), [1213, 3477]); // DESIGN.md §7
  // Counted once with numpy (np.bincount): val 135/389, test 234/390.
  assert.deepEqual(countLabels(m.get('val_labels')!), [135, 389]);
  assert.deepEqual(countLabels(m.get('test_labels')!), [234, 390]);
  // Pixel sum of test_images computed by numpy: catches any inflate/offset error.
  let sum = 0;
  for (const v of m.get('test_images')!.data as Uint8Array) sum += v;
  assert.equal(sum, 70355184);
});

test('openNpz inflates only the member asked for (a corrupt other member does not matter)', { skip: !hasFixture(PNEUMONIA) }, () => {
  const bytes = new Uint8Array(readFileSync(fixturePath(PNEUMONIA)));
  const train = openZip(bytes).find('train_images.npy')!;
  bytes[train.localHeaderOffset + 2000] ^= 0xff; // somewhere inside train_images' deflate stream
  const npz = openNpz(bytes, 'pneumoniamnist.npz');
  assert.deepEqual(npz.keys, ['train_images', 'train_labels', 'val_images', 'val_labels', 'test_images', 'test_labels']);
  const labels = npz.get('test_labels');
  assert.deepEqual(labels.shape, [624, 1]);
  assert.throws(() => npz.get('train_images'), /^Error: pneumoniamnist\.npz: member 'train_images\.npy': (corrupt deflate data|CRC-32 mismatch)/);
  assert.throws(() => npz.get('nope'), /pneumoniamnist\.npz: no array 'nope' \(arrays: train_images, train_labels/);
});

test('np.savez (stored) and np.savez_compressed fixtures read correctly', () => {
  const a = readNpz(fixture('savez.npz'), 'savez.npz');
  assert.deepEqual([...a.keys()], ['a', 'b', 'mask']);
  assert.deepEqual(Array.from(a.get('a')!.data as Float32Array), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(a.get('a')!.shape, [2, 3]);
  assert.deepEqual(Array.from(a.get('b')!.data as BigInt64Array), [1n, 2n, 3n]);
  assert.equal(a.get('mask')!.dtype, 'bool');
  assert.deepEqual(Array.from(a.get('mask')!.data as Uint8Array), [1, 0]);

  const zip = openZip(fixture('savez_compressed.npz'));
  assert.ok(zip.entries.every((e) => e.method === 8));
  const c = readNpz(fixture('savez_compressed.npz'), 'savez_compressed.npz');
  assert.deepEqual(c.get('images')!.shape, [4, 8, 8]);
  assert.deepEqual(Array.from(c.get('labels')!.data as Uint8Array), [0, 1, 1, 0]);
  assert.deepEqual(c.get('scalar')!.shape, []);
  assert.deepEqual(Array.from(c.get('scalar')!.data as Float64Array), [7]);
});

test('data descriptors (bit 3) with zip64 local headers, from Python zipfile on an unseekable stream', () => {
  const zip = openZip(fixture('descriptor-zip64.npz'));
  assert.ok(zip.entries.every((e) => (e.flags & 8) !== 0));
  assert.deepEqual(zip.entries.map((e) => e.method), [8, 0]);
  const m = readNpz(fixture('descriptor-zip64.npz'), 'descriptor-zip64.npz');
  assert.deepEqual(Array.from(m.get('x')!.data as Float64Array), Array.from({ length: 20 }, (_, k) => k));
  assert.deepEqual(Array.from(m.get('y')!.data as Int32Array), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
});

test('zip64 central directory fields and zip64 end record, from Info-ZIP', () => {
  const bytes = fixture('zip64-infozip.npz');
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(view.getUint32(bytes.length - 22 + 16, true), 0xffffffff, 'classic end record defers to zip64');
  const z = readNpz(bytes, 'zip64-infozip.npz').get('z')!;
  assert.equal(z.dtype, 'int16');
  assert.deepEqual(z.shape, [3, 4]);
  assert.deepEqual(Array.from(z.data as Int16Array), Array.from({ length: 12 }, (_, k) => k));
});

test('writeNpz round-trips every dtype, stored and compressed, and with a Map', () => {
  const entries = {
    f32: new Tensor(Float32Array.from([1.5, -2, 3]), [3]),
    f64: new Tensor(Float64Array.from([Math.PI]), [], 'float64'),
    i32: new Tensor(Int32Array.from([-1, 2, -3, 4]), [2, 2], 'int32'),
    i64: new Tensor(BigInt64Array.from([2n ** 60n, -5n]), [2, 1], 'int64'),
    u8: new Tensor(new Uint8Array(28 * 28).map((_, k) => k & 255), [1, 28, 28], 'uint8'),
    i8: new Tensor(Int8Array.from([-128, 127]), [2], 'int8'),
    u16: new Tensor(Uint16Array.from([65535]), [1], 'uint16'),
    i16: new Tensor(Int16Array.from([-300]), [1], 'int16'),
    flag: new Tensor(Uint8Array.from([1, 0, 1]), [3], 'bool'),
    empty: new Tensor(new Float32Array(0), [0, 4]),
  };
  for (const compress of [false, true]) {
    for (const input of [entries, new Map(Object.entries(entries))]) {
      const bytes = writeNpz(input, { compress });
      assert.ok(openZip(bytes).entries.every((e) => e.method === (compress ? 8 : 0) && e.name.endsWith('.npy')));
      const back = readNpz(bytes, 'w.npz');
      assert.deepEqual([...back.keys()], Object.keys(entries));
      for (const [k, t] of Object.entries(entries)) {
        const b = back.get(k)!;
        assert.equal(b.dtype, t.dtype, k);
        assert.deepEqual(b.shape, t.shape, k);
        assert.deepEqual(Array.from(b.data as ArrayLike<unknown>), Array.from(t.data as ArrayLike<unknown>), k);
      }
    }
  }
  assert.ok(writeNpz(entries, { compress: true }).length < writeNpz(entries).length);
});

test('writeNpz names the array when a tensor cannot be encoded', () => {
  assert.throws(() => writeNpz({ bad: { dtype: 'float32', shape: [3], data: new Float32Array(2) } }), /writeNpz: array 'bad': encodeNpy: data has 2 elements/);
});

test('a truncated npz is reported as truncated, naming the archive', () => {
  const bytes = fixture('savez_compressed.npz');
  for (const cut of [bytes.length - 1, bytes.length - 30, 200, 40]) {
    assert.throws(() => readNpz(bytes.subarray(0, cut), 'cut.npz'), /^Error: cut\.npz: truncated/);
  }
});

test('member data cut short while the directory survives names the archive and member', () => {
  const good = writeNpz({ a: new Tensor(new Float32Array(64), [64]) });
  const e = openZip(good).find('a.npy')!;
  // Move the directory so that it claims more member data than the file holds.
  const bytes = good.slice();
  new DataView(bytes.buffer).setUint32(bytes.length - 22 - (46 + 5) + 20, e.compressedSize + 10_000, true);
  new DataView(bytes.buffer).setUint32(bytes.length - 22 - (46 + 5) + 24, e.compressedSize + 10_000, true);
  assert.throws(() => openNpz(bytes, 't.npz').get('a'), /^Error: t\.npz: member 'a\.npy': truncated: needs 10\d+ bytes/);
});

test('a truncated .npy inside an intact archive names archive/member and the shortfall', () => {
  const npy = encodeNpy(new Tensor(new Float32Array(4096), [4096]));
  const bytes = writeZip([{ name: 'x.npy', data: npy.subarray(0, 128 + 100) }]);
  assert.throws(() => openNpz(bytes, 'arch.npz').get('x'), {
    message: 'arch.npz/x.npy: truncated: header says 4096 float32 values (16384 bytes), file has 100 bytes of data',
  });
});

test('a flipped byte in a stored member fails the CRC-32 check, naming archive and member', () => {
  const bytes = writeNpz({ img: new Tensor(new Float32Array(100).fill(0.25), [10, 10]) });
  const e = openZip(bytes).find('img.npy')!;
  bytes[e.localHeaderOffset + 30 + 'img.npy'.length + 200] ^= 0x01;
  assert.throws(() => readNpz(bytes, 'flip.npz'), /^Error: flip\.npz: member 'img\.npy': CRC-32 mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/);
});

test('a flipped byte in a deflated member is caught (deflate error or CRC-32), naming archive and member', () => {
  const bytes = fixture('savez_compressed.npz').slice();
  const e = openZip(bytes).find('images.npy')!;
  bytes[e.localHeaderOffset + 30 + 'images.npy'.length + 20 + 60] ^= 0x10;
  assert.throws(() => readNpz(bytes, 'flip.npz'), /^Error: flip\.npz: member 'images\.npy': (corrupt deflate data|CRC-32 mismatch)/);
});

test('wrong magic: a non-zip file is reported as not a zip archive, naming the file', () => {
  assert.throws(() => readNpz(fixture('f8_fortran.npy'), 'oops.npz'), /^Error: oops\.npz: not a zip archive/);
  assert.throws(() => readNpz(new Uint8Array(0), 'empty.npz'), /^Error: empty\.npz: empty file/);
  const bytes = fixture('savez.npz').slice();
  bytes[0] = 0x51; // local header signature damaged
  assert.throws(() => readNpz(bytes, 'sig.npz'), /^Error: sig\.npz: member 'a\.npy': corrupt: no local file header at offset 0/);
});
