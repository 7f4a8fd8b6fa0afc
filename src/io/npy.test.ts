import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor, type DType, type TypedArray } from '../tensor/tensor.js';
import { encodeNpy, parseNpy, parseNpyHeader, type NpyWriteOptions } from './npy.js';

const fixture = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))));
const readFixture = (name: string) => parseNpy(fixture(name), name);
const range = <T = number>(n: number, f: (k: number) => T): T[] => Array.from({ length: n }, (_, k) => f(k));

function sample(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32': return Float32Array.from(range(n, (k) => k * 0.5 - 3));
    case 'float64': return Float64Array.from(range(n, (k) => Math.PI * (k - 2)));
    case 'int32': return Int32Array.from(range(n, (k) => (k - 3) * 1_000_003));
    case 'int64': return BigInt64Array.from(range(n, (k) => BigInt(k - 2) * 2n ** 50n + 7n));
    case 'uint8': return Uint8Array.from(range(n, (k) => (k * 37) & 255));
    case 'int8': return Int8Array.from(range(n, (k) => ((k * 37) & 255) - 128));
    case 'uint16': return Uint16Array.from(range(n, (k) => (k * 4099) & 65535));
    case 'int16': return Int16Array.from(range(n, (k) => ((k * 4099) & 65535) - 32768));
    case 'bool': return Uint8Array.from(range(n, (k) => (k % 3 === 0 ? 1 : 0)));
  }
}
const DTYPES: DType[] = ['float32', 'float64', 'int32', 'int64', 'uint8', 'int8', 'uint16', 'int16', 'bool'];

function assertSame(actual: Tensor<any>, expected: Tensor<any>) {
  assert.equal(actual.dtype, expected.dtype);
  assert.deepEqual(actual.shape, expected.shape);
  assert.equal(actual.data.constructor, expected.data.constructor);
  assert.deepEqual(Array.from(actual.data as ArrayLike<unknown>), Array.from(expected.data as ArrayLike<unknown>));
}

test('every dtype round-trips through encodeNpy/parseNpy in each version, order and byte order', () => {
  const variants: NpyWriteOptions[] = [
    {}, { version: 2 }, { version: 3 }, { fortranOrder: true }, { byteOrder: 'big' },
    { fortranOrder: true, byteOrder: 'big', version: 2 },
  ];
  for (const dtype of DTYPES) {
    for (const shape of [[7], [2, 3], [2, 3, 4], [1, 5, 1, 2]]) {
      const t = new Tensor(sample(dtype, shape.reduce((a, b) => a * b, 1)), shape, dtype);
      for (const opts of variants) {
        const bytes = encodeNpy(t, opts);
        const h = parseNpyHeader(bytes);
        assert.equal(h.version[0], opts.version ?? 1);
        assert.equal(h.fortranOrder, !!opts.fortranOrder);
        assert.equal(h.dataOffset % 64, 0, 'data starts on a 64-byte boundary');
        assert.equal(bytes[h.dataOffset - 1], 0x0a, 'header ends with a newline');
        assertSame(parseNpy(bytes), t);
      }
    }
  }
});

test('0-d and empty arrays round-trip', () => {
  for (const dtype of DTYPES) {
    for (const shape of [[], [0], [0, 3], [4, 0, 2]]) {
      const t = new Tensor(sample(dtype, shape.reduce((a, b) => a * b, 1)), shape, dtype);
      for (const fortranOrder of [false, true]) assertSame(parseNpy(encodeNpy(t, { fortranOrder })), t);
    }
  }
  assert.match(new TextDecoder().decode(encodeNpy(new Tensor(new Float32Array(1), []))), /'shape': \(\), \}/);
  assert.match(new TextDecoder().decode(encodeNpy(new Tensor(new Float32Array(3), [3]))), /'shape': \(3,\), \}/);
});

test('fortran-order data is stored column-major on disk', () => {
  const t = new Tensor(Int32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], 'int32');
  const bytes = encodeNpy(t, { fortranOrder: true });
  const h = parseNpyHeader(bytes);
  const onDisk = new Int32Array(bytes.slice(h.dataOffset).buffer);
  assert.deepEqual(Array.from(onDisk), [1, 4, 2, 5, 3, 6]);
});

test('big-endian data is byte-swapped on disk', () => {
  const bytes = encodeNpy(new Tensor(Uint16Array.from([0x0102]), [1], 'uint16'), { byteOrder: 'big' });
  const h = parseNpyHeader(bytes);
  assert.equal(h.descr, '>u2');
  assert.deepEqual(Array.from(bytes.subarray(h.dataOffset)), [1, 2]);
  assert.equal(parseNpyHeader(encodeNpy(new Tensor(new Uint8Array(1), [1], 'uint8'), { byteOrder: 'big' })).descr, '|u1');
});

test('numpy fixtures: fortran order is transposed into C order', () => {
  const f8 = readFixture('f8_fortran.npy');
  assert.equal(parseNpyHeader(fixture('f8_fortran.npy')).fortranOrder, true);
  assertSame(f8, new Tensor(Float64Array.from(range(24, (k) => k / 4)), [2, 3, 4], 'float64'));
  assertSame(readFixture('i4_fortran_2d.npy'), new Tensor(Int32Array.from(range(12, (k) => k - 5)), [3, 4], 'int32'));
});

test('numpy fixtures: big-endian float32 and big-endian fortran int64', () => {
  assert.equal(parseNpyHeader(fixture('f4_bigendian.npy')).descr, '>f4');
  assert.equal(parseNpyHeader(fixture('i8_bigendian_fortran.npy')).descr, '>i8');
  assertSame(readFixture('f4_bigendian.npy'), new Tensor(Float32Array.from(range(6, (k) => k - 2.5)), [2, 3]));
  const i8 = readFixture('i8_bigendian_fortran.npy');
  assertSame(i8, new Tensor(BigInt64Array.from([1n, -2n, 3n, 2n ** 40n, -(2n ** 62n), 7n]), [2, 3], 'int64'));
});

test('numpy fixtures: bool, int64 beyond 2^53, small integer types', () => {
  assertSame(readFixture('bool.npy'), new Tensor(Uint8Array.from([1, 0, 1, 0, 0, 1]), [2, 3], 'bool'));
  assertSame(readFixture('i8.npy'), new Tensor(BigInt64Array.from([-(2n ** 62n), -1n, 0n, 1n, 2n ** 62n + 3n]), [5], 'int64'));
  assertSame(readFixture('small_ints.npy'), new Tensor(Int8Array.from([-128, -1, 0, 127]), [4], 'int8'));
  assertSame(readFixture('u2.npy'), new Tensor(Uint16Array.from([0, 1, 65535]), [3], 'uint16'));
  assertSame(readFixture('i2.npy'), new Tensor(Int16Array.from([-32768, 5, 32767]), [3], 'int16'));
});

test('numpy fixtures: uint32 widens exactly to int64 and float16 to float32', () => {
  assertSame(readFixture('u4.npy'), new Tensor(BigInt64Array.from([0n, 1n, 4294967295n]), [3], 'int64'));
  const f2 = readFixture('f2.npy');
  assert.equal(f2.dtype, 'float32');
  assert.deepEqual(Array.from(f2.data as Float32Array).slice(0, 3), [0.5, -2, 65504]);
  assert.equal((f2.data as Float32Array)[3], 2 ** -23, 'float16(1e-7) is the subnormal 2^-23');
});

test('numpy fixtures: 0-d scalar, empty array, version 2.0 and 3.0 headers', () => {
  assertSame(readFixture('scalar_f8.npy'), new Tensor(Float64Array.from([3.25]), [], 'float64'));
  assertSame(readFixture('empty_f4.npy'), new Tensor(new Float32Array(0), [0, 3]));
  assert.deepEqual(parseNpyHeader(fixture('v2_u1.npy')).version, [2, 0]);
  assertSame(readFixture('v2_u1.npy'), new Tensor(Uint8Array.from(range(10, (k) => k)), [2, 5], 'uint8'));
  assert.deepEqual(parseNpyHeader(fixture('v3_f4.npy')).version, [3, 0]);
  assertSame(readFixture('v3_f4.npy'), new Tensor(Float32Array.from([1.5, 2.5]), [2]));
});

test('aligned little-endian input is viewed; unaligned input is copied into an aligned array', () => {
  const bytes = encodeNpy(new Tensor(Float64Array.from([1.5, -2, 3]), [3], 'float64'));
  const view = parseNpy(bytes);
  assert.equal(view.data.buffer, bytes.buffer);
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  const unaligned = parseNpy(shifted.subarray(3));
  assert.notEqual(unaligned.data.buffer, shifted.buffer);
  assert.equal(unaligned.data.byteOffset % 8, 0);
  assert.deepEqual(Array.from(unaligned.data as Float64Array), [1.5, -2, 3]);
});

test('unsupported dtypes are rejected with the file name and the dtype', () => {
  assert.throws(() => readFixture('unicode.npy'), {
    message: "unicode.npy: dtype '<U5' is not supported (numeric arrays only)",
  });
  assert.throws(() => readFixture('object.npy'), /^Error: object\.npy: dtype '\|O' is not supported \(object arrays/);
  const complex = fixture('f4_bigendian.npy');
  const text = new TextDecoder('latin1').decode(complex).replace("'>f4'", "'<c8'");
  assert.throws(() => parseNpy(Uint8Array.from(text, (c) => c.charCodeAt(0)), 'c.npy'), /c\.npy: dtype '<c8' \(complex64\) is not supported/);
});

test('truncated data reports how many values the header promised and how many bytes exist', () => {
  const bytes = encodeNpy(new Tensor(new Float32Array(4096), [64, 64]));
  const cut = bytes.subarray(0, parseNpyHeader(bytes).dataOffset + 100);
  assert.throws(() => parseNpy(cut, 'x.npy'), {
    message: 'x.npy: truncated: header says 4096 float32 values (16384 bytes), file has 100 bytes of data',
  });
  assert.throws(() => parseNpy(bytes.subarray(0, 40), 'x.npy'), /^Error: x\.npy: truncated: header says 118 bytes/);
});

test('wrong magic is reported as not a .npy file, naming the file', () => {
  assert.throws(() => parseNpy(new TextEncoder().encode('hello world, not numpy'), 'bad.npy'), /^Error: bad\.npy: not a \.npy file \(bad magic/);
  assert.throws(() => parseNpy(fixture('savez.npz'), 'a.npz'), /a\.npz: not a \.npy file .*'PK' \(a zip archive: is it an \.npz\?\)/);
  assert.throws(() => parseNpy(new Uint8Array(0), 'empty.npy'), /empty\.npy: not a \.npy file/);
});

test('malformed headers give a clear error', () => {
  const bytes = encodeNpy(new Tensor(new Float32Array(2), [2]));
  const text = new TextDecoder('latin1').decode(bytes);
  const patch = (from: string, to: string) => Uint8Array.from(text.replace(from, to), (c) => c.charCodeAt(0));
  assert.throws(() => parseNpy(patch("'shape'", "'shap_'"), 'h.npy'), /h\.npy: malformed header: no 'shape' key/);
  assert.throws(() => parseNpy(patch('(2,)', '(-2,)'), 'h.npy'), /h\.npy: malformed header: shape \(-2,\)/);
  assert.throws(() => parseNpy(patch('False', 'Maybe'), 'h.npy'), /h\.npy: malformed header/);
});

test('encodeNpy rejects data that does not match the dtype or shape', () => {
  assert.throws(() => encodeNpy({ dtype: 'float32', shape: [2], data: new Float64Array(2) }), /needs a Float32Array, got Float64Array/);
  assert.throws(() => encodeNpy({ dtype: 'uint8', shape: [3], data: new Uint8Array(2) }), /data has 2 elements but shape \[3\] needs 3/);
});
