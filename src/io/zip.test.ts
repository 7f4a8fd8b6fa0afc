import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, openZip, writeZip } from './zip.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(enc.encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  // Incremental use gives the same result as one pass.
  assert.equal(crc32(enc.encode('56789'), crc32(enc.encode('1234'))), 0xcbf43926);
});

test('writeZip output reads back, stored and deflated, with and without forced zip64', () => {
  const members = [
    { name: 'a.txt', data: enc.encode('hello '.repeat(100)) },
    { name: 'empty', data: new Uint8Array(0) },
    { name: 'dir/é.bin', data: Uint8Array.from({ length: 300 }, (_, k) => (k * 7) & 255) },
  ];
  for (const compress of [false, true]) {
    for (const forceZip64 of [false, true]) {
      const zip = openZip(writeZip(members, { compress, forceZip64 }), 'w.zip');
      assert.deepEqual(zip.entries.map((e) => e.name), members.map((m) => m.name));
      for (const m of members) {
        const e = zip.find(m.name)!;
        assert.equal(e.method, compress ? 8 : 0);
        assert.deepEqual(zip.extract(e), m.data);
      }
      assert.equal(dec.decode(zip.extract('a.txt')).length, 600);
    }
  }
});

test('a zip comment after the end record is tolerated', () => {
  const bytes = writeZip([{ name: 'x', data: enc.encode('x') }]);
  const comment = enc.encode('a comment PK');
  const withComment = new Uint8Array(bytes.length + comment.length);
  withComment.set(bytes);
  withComment.set(comment, bytes.length);
  new DataView(withComment.buffer).setUint16(bytes.length - 2, comment.length, true);
  assert.equal(dec.decode(openZip(withComment).extract('x')), 'x');
});

test('duplicate member names are refused by writeZip', () => {
  assert.throws(() => writeZip([{ name: 'a', data: new Uint8Array(1) }, { name: 'a', data: new Uint8Array(1) }]), /duplicate member name 'a'/);
});

test('unsupported compression methods and missing members are named', () => {
  const bytes = writeZip([{ name: 'm.npy', data: enc.encode('abc') }]);
  const zip = openZip(bytes, 'z.zip');
  assert.throws(() => zip.extract('nope'), /^Error: z\.zip: no member named 'nope'/);
  // Patch the method in the central directory to bzip2 (12): the local header disagrees, which is corrupt…
  const cd = bytes.length - 22 - (46 + 5);
  new DataView(bytes.buffer).setUint16(cd + 10, 12, true);
  assert.throws(() => openZip(bytes, 'z.zip').extract('m.npy'), /z\.zip: member 'm\.npy': corrupt: its local header says compression method 0, the central directory 12/);
  // …and in both: an unsupported method.
  new DataView(bytes.buffer).setUint16(8, 12, true);
  assert.throws(() => openZip(bytes, 'z.zip').extract('m.npy'), /z\.zip: member 'm\.npy': compression method 12 is not supported/);
});
