/**
 * The hostile and damaged files issue 20 named, made by hand: each gives a one-line error naming the file
 * (no process abort, no gigabyte allocation, no garbage image), or is read correctly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gzipSync, zlibSync } from 'fflate';
import { decodeImage } from '../io/image.js';
import { crc32 } from '../io/zip.js';
import { readDicomSync } from '../io/dicom.js';
import { readNifti } from '../io/nifti.js';
import { repoRoot } from '../testing/paths.js';

const FIX = join(repoRoot, 'src', 'io', 'fixtures');
const u32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

function png(chunks: [string, number[] | Uint8Array][]): Uint8Array {
  const out: number[] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  for (const [type, data] of chunks) {
    const body = new Uint8Array([...type].map((c) => c.charCodeAt(0)).concat(Array.from(data)));
    out.push(...u32(data.length), ...body, ...u32(crc32(body)));
  }
  return new Uint8Array(out);
}
const ihdr = (w: number, h: number) => ['IHDR', [...u32(w), ...u32(h), 8, 0, 0, 0, 0]] as [string, number[]];

test('a 73-byte PNG whose IHDR claims width 2,147,483,647 is an error naming it, not a process abort', () => {
  const bytes = png([ihdr(0x7fffffff, 1), ['IDAT', zlibSync(new Uint8Array(2))], ['IEND', []]]);
  assert.ok(bytes.length < 80);
  assert.throws(() => decodeImage(bytes, 'huge.png'), /^Error: huge\.png: the PNG header \(IHDR\) declares 2147483647 × 1 = 2,147,483,647 pixels, more than the limit of 100,000,000 \(CANDOR_MAX_PIXELS raises it\)$/);
});

test('a PNG claiming 20,000 × 46,341 pixels is refused before anything is decoded', () => {
  const t0 = performance.now();
  assert.throws(() => decodeImage(png([ihdr(20000, 46341), ['IDAT', zlibSync(new Uint8Array(10))], ['IEND', []]]), 'tall.png'), /tall\.png: .* declares 20000 × 46341 = 926,820,000 pixels, more than the limit/);
  assert.ok(performance.now() - t0 < 500);
});

test('a PNG whose image data is only the zlib header, or is short, or is altered under a recomputed chunk CRC, is refused', () => {
  assert.throws(() => decodeImage(png([ihdr(4, 4), ['IDAT', [0x78, 0x9c]], ['IEND', []]]), 'empty.png'), /empty\.png: corrupt PNG: the image data is not a valid zlib stream/);
  assert.throws(() => decodeImage(png([ihdr(4, 4), ['IDAT', zlibSync(new Uint8Array(10))], ['IEND', []]]), 'short.png'), /short\.png: corrupt PNG: the image data inflate to 10 bytes, but a 4 × 4 image of 8 bits per pixel needs 20/);
  const data = zlibSync(new Uint8Array(20).fill(7));
  data[data.length - 1]! ^= 1; // Adler-32 broken, chunk CRC recomputed by png()
  assert.throws(() => decodeImage(png([ihdr(4, 4), ['IDAT', data], ['IEND', []]]), 'altered.png'), /altered\.png: corrupt PNG: the image data fail their Adler-32 check/);
  const ok = decodeImage(png([ihdr(4, 4), ['IDAT', zlibSync(new Uint8Array(20).fill(0))], ['IEND', []]]), 'ok.png');
  assert.deepEqual(ok.tensor.shape, [1, 4, 4]);
  assert.throws(() => decodeImage(new Uint8Array([...png([ihdr(4, 4), ['IDAT', zlibSync(new Uint8Array(20))], ['IEND', []]]), 1, 2, 3]), 'tail.png'), /tail\.png: corrupt PNG: 3 bytes after the IEND chunk/);
});

/** The JPEG Lossless fixture with its frame header (SOF3) patched to another size. */
function dicomWithJpegSize(w: number, h: number): Uint8Array {
  const b = new Uint8Array(readFileSync(join(FIX, 'dicom', 'MR_small_jpeg_lossless.dcm')));
  let p = -1;
  for (let i = 0; i + 9 < b.length; i++) if (b[i] === 0xff && b[i + 1] === 0xc3) { p = i; break; }
  assert.ok(p > 0, 'SOF3 found');
  b.set([(h >> 8) & 255, h & 255, (w >> 8) & 255, w & 255], p + 5);
  return b;
}

test('a DICOM whose JPEG frame claims 30,000 × 30,000 is refused at once: the codestream size is compared with Rows/Columns', () => {
  const t0 = performance.now();
  assert.throws(() => readDicomSync(dicomWithJpegSize(30000, 30000), 'bomb.dcm'), /^DicomError: bomb\.dcm: JPEG frame is 30000×30000 by its frame header, but Rows\/Columns say 64×64$/);
  assert.ok(performance.now() - t0 < 1000);
});

test('a DICOM whose basic offset table does not match its fragments is read from the fragments (single frame), as without the table', () => {
  const src = new Uint8Array(readFileSync(join(FIX, 'dicom', 'MR_small_jpeg_lossless.dcm')));
  // Find the encapsulated Pixel Data's first item (the basic offset table) and give it a bogus entry.
  let p = -1;
  for (let i = 0; i + 12 < src.length; i++) if (src[i] === 0xe0 && src[i + 1] === 0x7f && src[i + 2] === 0x10 && src[i + 3] === 0x00) p = i;
  const item = p + 12; // tag(4) VR(2) reserved(2) length(4)
  assert.deepEqual([...src.subarray(item, item + 4)], [0xfe, 0xff, 0x00, 0xe0]);
  const dv = new DataView(src.buffer);
  assert.equal(dv.getUint32(item + 4, true), 4, 'the fixture has a one-entry table');
  assert.equal(dv.getUint32(item + 8, true), 0);
  const bad = Uint8Array.from(src);
  new DataView(bad.buffer).setUint32(item + 8, 12345, true); // points at no fragment
  const good = readDicomSync(src, 'good.dcm');
  const read = readDicomSync(bad, 'bad-table.dcm');
  assert.deepEqual(read.frames.data, good.frames.data);
});

test('NIfTI: a .nii.gz with a wrong CRC-32, dims ≤ 0, a non-finite sform, or far more data than its header says are errors naming the file', () => {
  const raw = new Uint8Array(readFileSync(join(FIX, 'nifti', 'dtype_uint8.nii')));
  const gz = gzipSync(raw);
  gz[gz.length - 8]! ^= 0xff;
  assert.throws(() => readNifti(gz, 'crc.nii.gz'), /crc\.nii\.gz: gzip member 1 fails its check \(CRC-32/);
  const zeroDim = Uint8Array.from(raw);
  new DataView(zeroDim.buffer).setInt16(42 + 2, 0, true); // dim[2] = 0
  assert.throws(() => readNifti(zeroDim, 'dims.nii'), /dims\.nii: invalid dim\[2\] = 0/);
  const nanSform = Uint8Array.from(raw);
  const dv = new DataView(nanSform.buffer);
  dv.setInt16(254, 1, true); // sform_code 1
  dv.setFloat32(280, NaN, true); // srow_x[0]
  assert.throws(() => readNifti(nanSform, 'sform.nii'), /sform\.nii: the sform transform holds non-finite values/);
  // 8 MB of zeros after a header that declares a tiny volume: refused after the declared bytes, not inflated whole.
  const big = new Uint8Array(raw.length + 8 * 2 ** 20);
  big.set(raw);
  const t0 = performance.now();
  assert.throws(() => readNifti(gzipSync(big), 'bomb.nii.gz'), /bomb\.nii\.gz: gzip data inflate to more than the \d+ bytes its header declares/);
  assert.ok(performance.now() - t0 < 2000);
  assert.throws(() => readNifti(big, 'tail.nii'), /tail\.nii: 8388608 bytes after the .* voxels of uint8 its header declares/);
});

test('zip: a lowered member count, a name that differs between the directory and the local header, and appended bytes are refused', async () => {
  const { writeZip, openZip } = await import('../io/zip.js');
  const z = writeZip([{ name: 'a.npy', data: new Uint8Array([1, 2, 3]) }, { name: 'b.npy', data: new Uint8Array([4]) }]);
  const fewer = Uint8Array.from(z);
  new DataView(fewer.buffer).setUint16(fewer.length - 22 + 8, 1, true);
  new DataView(fewer.buffer).setUint16(fewer.length - 22 + 10, 1, true);
  assert.throws(() => openZip(fewer, 'fewer.npz'), /fewer\.npz: corrupt central directory: its 1 entries end at offset \d+, but the end record says it spans/);
  const renamed = Uint8Array.from(z);
  renamed[30] = 'x'.charCodeAt(0); // the first local header's name
  assert.throws(() => openZip(renamed, 'renamed.npz'), /renamed\.npz: member 'a\.npy': corrupt: its local header names it 'x\.npy'/);
  assert.throws(() => openZip(new Uint8Array([...z, 0, 0]), 'tail.npz'), /tail\.npz: 2 bytes of trailing data after the zip archive's end record/);
  void deflateSync;
});

test('a DICOM whose Rows were lowered is refused (the pixel data no longer fit the header), not read as a plausible crop', () => {
  const b = new Uint8Array(readFileSync(join(FIX, 'dicom', 'MR_small.dcm')));
  let p = -1;
  for (let i = 132; i + 10 < b.length; i++) if (b[i] === 0x28 && b[i + 1] === 0x00 && b[i + 2] === 0x10 && b[i + 3] === 0x00 && b[i + 4] === 0x55 && b[i + 5] === 0x53) { p = i; break; }
  assert.ok(p > 0, 'Rows found');
  new DataView(b.buffer).setUint16(p + 8, 32, true);
  assert.throws(() => readDicomSync(b, 'rows.dcm'), /rows\.dcm: Pixel Data holds 8192 bytes, but 32×64×1 samples × 1 frame\(s\) × 16 bits need 4096/);
});

test('ONNX: huge or negative dims, a TENSOR attribute without a tensor, Conv pads of ten million and external data outside the folder are one-line errors naming the file', async () => {
  const onnxProto = (await import('onnx-proto')).default;
  const { onnx } = onnxProto;
  const { loadModel, modelFromBytes } = await import('../runtime/node.js');
  const { mkdtempSync, writeFileSync, mkdirSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const src = new Uint8Array(readFileSync(join(repoRoot, 'src', 'autodiff', 'fixtures', 'zoo', 'squeezenet.onnx')));
  const edit = (f: (m: ReturnType<typeof onnx.ModelProto.decode>) => void) => {
    const m = onnx.ModelProto.decode(src);
    f(m);
    return onnx.ModelProto.encode(m).finish();
  };
  const conv = (m: ReturnType<typeof onnx.ModelProto.decode>) => m.graph!.node!.find((n) => n.opType === 'Conv')!;
  const weight = (m: ReturnType<typeof onnx.ModelProto.decode>) => m.graph!.initializer!.find((t) => t.name === conv(m).input![1])!;
  assert.throws(() => modelFromBytes(edit((m) => void (weight(m).dims = [2 ** 40, 3, 3, 3])), { source: 'huge.onnx' }), /^Error: huge\.onnx: tensor '.*': dims \[1099511627776, 3, 3, 3\] declare .* elements, more than a weight tensor candor reads/);
  assert.throws(() => modelFromBytes(edit((m) => void (weight(m).dims = [-16, 3, 3, 3])), { source: 'neg.onnx' }), /neg\.onnx: tensor '.*': dims \[-16, 3, 3, 3\]: dim 0 is not a non-negative integer/);
  assert.throws(() => modelFromBytes(edit((m) => void conv(m).attribute!.push(onnx.AttributeProto.create({ name: 'value', type: 4 }))), { source: 'attr.onnx' }), /attr\.onnx: attribute 'value' is of type TENSOR but holds no tensor/);
  assert.throws(
    () => modelFromBytes(edit((m) => void (conv(m).attribute!.find((a) => a.name === 'pads')!.ints = [1, 1, 10000000, 1])), { source: 'pads.onnx' }),
    /pads\.onnx: Conv node '.*' makes '.*' of shape \[.*\] \([\d,]+ elements per image, more than 268,435,456\): check its attributes/,
  );
  // External weights that resolve outside the model's folder, though their path starts like it.
  const root = mkdtempSync(join(tmpdir(), 'candor-ext-'));
  mkdirSync(join(root, 'm'));
  mkdirSync(join(root, 'm-evil'));
  writeFileSync(join(root, 'm-evil', 'w.bin'), new Uint8Array(16 * 3 * 3 * 3 * 4));
  const ext = edit((m) => {
    const w = weight(m);
    w.rawData = new Uint8Array(0);
    w.floatData = [];
    w.dataLocation = 1;
    w.externalData = [onnx.StringStringEntryProto.create({ key: 'location', value: '../m-evil/w.bin' })];
  });
  writeFileSync(join(root, 'm', 'model.onnx'), ext);
  assert.throws(() => loadModel(join(root, 'm', 'model.onnx')), /model\.onnx: external data '\.\.\/m-evil\/w\.bin' points outside the model's folder/);
});

test('XGBoost JSON counts must be whole numbers: num_feature "Infinity" or "30.5" is an error naming the field', async () => {
  const { parseXgboostJson } = await import('../tabular/xgboost.js');
  const src = readFileSync(join(repoRoot, 'src', 'tabular', 'fixtures', 'xgb_binary_d3.model.json'), 'utf8');
  for (const bad of ['Infinity', '30.5', '-1', '1e999']) {
    const j = JSON.parse(src);
    j.learner.learner_model_param.num_feature = bad;
    assert.throws(() => parseXgboostJson(JSON.stringify(j), { source: 'm.json' }), /m\.json: 'learner\.learner_model_param\.num_feature' must be (a finite number|a whole number from 0 to 1,000,000)/, bad);
  }
});
