// Tests of the DICOM reader on real files from pydicom's test data (and a few written by pydicom/dcmtk):
// see fixtures/dicom/README.md. Expected numbers were computed once with pydicom 2.3.1 (Debian's
// python3-pydicom); each block names the one-liner that produced them, run in fixtures/dicom/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import dicomParser from 'dicom-parser';
import { Tensor } from '../tensor/tensor.js';
import { parseNpy } from './npy.js';
import {
  DicomError,
  applyWindow,
  compareDicomOrder,
  readDicom,
  readDicomMeta,
  readDicomSync,
  slicePosition,
  sortDicomImages,
  stackDicomFrames,
  type DicomImage,
  type DicomMeta,
} from './dicom.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/dicom/', import.meta.url));
const bytesOf = (name: string) => new Uint8Array(readFileSync(FIXTURES + name));
const read = (name: string, opts = {}) => readDicomSync(bytesOf(name), name, opts);

function stats(data: ArrayLike<number>) {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { sum, min, max, mean: sum / data.length };
}
const at = (t: Tensor<Float32Array>, ...idx: number[]) => {
  let o = 0;
  for (let d = 0; d < idx.length; d++) o = o * t.shape[d]! + idx[d]!;
  for (let d = idx.length; d < t.shape.length; d++) o *= t.shape[d]!;
  return t.data[o]!;
};
/** RGB planar frame → [R, G, B] at (row, col). */
const rgbAt = (im: DicomImage, f: number, r: number, c: number) => [0, 1, 2].map((ch) => at(im.frames, f, ch, r, c));
const column50 = (im: DicomImage, f = 0) => Array.from({ length: 10 }, (_, k) => rgbAt(im, f, 5 + 10 * k, 50));

test('reads an uncompressed 16-bit signed CT in Hounsfield units (RescaleIntercept −1024)', () => {
  const im = read('CT_small.dcm');
  assert.deepEqual(im.frames.shape, [1, 128, 128]);
  // ds = pydicom.dcmread('CT_small.dcm'); hu = apply_modality_lut(ds.pixel_array, ds)
  // print(hu.min(), hu.max(), hu.mean(), hu[64,64], hu[0,0], hu[32,100])  →  -896 1167 -119.0738525390625 904 -849 -826
  const s = stats(im.frames.data);
  assert.equal(s.min, -896);
  assert.equal(s.max, 1167);
  assert.equal(s.mean, -119.0738525390625);
  assert.equal(at(im.frames, 0, 64, 64), 904);
  assert.equal(at(im.frames, 0, 0, 0), -849);
  assert.equal(at(im.frames, 0, 32, 100), -826);
  assert.equal(im.meta.modality, 'CT');
  assert.equal(im.meta.rescaleIntercept, -1024);
  assert.equal(im.meta.rescaleSlope, 1);
  assert.equal(im.meta.bitsAllocated, 16);
  assert.equal(im.meta.pixelRepresentation, 1);
  assert.equal(im.meta.photometricInterpretation, 'MONOCHROME2');
  assert.equal(im.meta.transferSyntaxUID, '1.2.840.10008.1.2.1');
  assert.equal(im.meta.sopClassUID, '1.2.840.10008.5.1.4.1.1.2');
  assert.deepEqual(im.meta.pixelSpacing, [0.661468, 0.661468]);
  assert.equal(im.meta.instanceNumber, 1);
  assert.equal(im.meta.seriesNumber, 1);
  assert.deepEqual(im.meta.imagePositionPatient, [-158.135803, -179.035797, -75.699997]);
  assert.equal(im.invert, false);
  assert.equal(im.window, undefined); // CT_small has no window
  // rescale: false keeps the stored values (pydicom: ds.pixel_array.min() == 128)
  assert.equal(stats(read('CT_small.dcm', { rescale: false }).frames.data).min, 128);
});

test('reads the same MR from explicit little-, explicit big- and implicit little-endian files identically', () => {
  // ds = pydicom.dcmread('MR_small.dcm'); a = ds.pixel_array
  // print(a.min(), a.max(), a.sum(), a[0,:5], a[63,63], ds.WindowCenter, ds.WindowWidth)  →  127 2145 2125338 [905 1019 1227 1259 761] 862 600 1600
  const le = read('MR_small.dcm');
  const s = stats(le.frames.data);
  assert.deepEqual([s.min, s.max, s.sum], [127, 2145, 2125338]);
  assert.deepEqual(Array.from(le.frames.data.subarray(0, 5)), [905, 1019, 1227, 1259, 761]);
  assert.equal(at(le.frames, 0, 63, 63), 862);
  assert.equal(le.meta.modality, 'MR');
  assert.deepEqual(le.window, { center: 600, width: 1600, function: 'LINEAR', origin: 'file' });
  assert.equal(le.meta.windowCenter, 600);
  assert.deepEqual(le.meta.pixelSpacing, [0.3125, 0.3125]);
  for (const [name, ts] of [['MR_small_bigendian.dcm', '1.2.840.10008.1.2.2'], ['MR_small_implicit.dcm', '1.2.840.10008.1.2']] as const) {
    const other = read(name);
    assert.equal(other.meta.transferSyntaxUID, ts);
    assert.deepEqual(other.frames.data, le.frames.data, name);
    assert.deepEqual(other.window, le.window);
  }
});

test('reads a bare data set without preamble or meta header, with a warning', () => {
  const full = bytesOf('MR_small_implicit.dcm');
  // meta group: (0002,0000) UL group length at byte 132, value at 140
  const groupLength = new DataView(full.buffer, full.byteOffset).getUint32(140, true);
  const bare = full.subarray(144 + groupLength);
  const im = readDicomSync(bare, 'bare');
  assert.deepEqual(im.frames.data, read('MR_small.dcm').frames.data);
  assert.match(im.warnings.join(' '), /no Part 10 preamble; read as Implicit VR Little Endian/);
});

test('MONOCHROME1: values stay in modality units and applyWindow inverts the display', () => {
  const mono1 = read('MR_small_mono1.dcm'); // MR_small with PhotometricInterpretation = MONOCHROME1
  const mono2 = read('MR_small.dcm');
  assert.equal(mono1.invert, true);
  assert.deepEqual(mono1.frames.data, mono2.frames.data);
  const d1 = applyWindow(mono1).data;
  const d2 = applyWindow(mono2).data;
  for (let i = 0; i < d1.length; i++) assert.ok(Math.abs(d1[i]! - (1 - d2[i]!)) < 1e-6);
  // the lowest value displays brightest
  const iMin = mono2.frames.data.indexOf(127);
  assert.equal(d1[iMin], Math.max(...d1));
  assert.ok(d1[iMin]! > 0.79);
});

test('applyWindow implements PS3.3 C.11.2.1.2 LINEAR, LINEAR_EXACT and SIGMOID', () => {
  const x = Tensor.from([-1000, -200, -199.5, 599.5, 600, 1399, 1399.5, 3000], [8]);
  // LINEAR, c = 600, w = 1600: 0 at x ≤ c − 0.5 − (w−1)/2 = −200; 1 at x > c − 0.5 + (w−1)/2 = 1399
  const lin = Array.from(applyWindow(x, 600, 1600).data);
  const linRef = [-1000, -200, -199.5, 599.5, 600, 1399, 1399.5, 3000].map((v) =>
    v <= -200 ? 0 : v > 1399 ? 1 : (v - 599.5) / 1599 + 0.5,
  );
  lin.forEach((v, i) => assert.ok(Math.abs(v - linRef[i]!) < 1e-6, `LINEAR ${i}: ${v} vs ${linRef[i]}`));
  assert.equal(lin[3], 0.5);
  assert.equal(lin[5], 1);
  // LINEAR_EXACT: (x − c)/w + 0.5 inside (c − w/2, c + w/2]
  const ex = Array.from(applyWindow(x, 600, 1600, { function: 'LINEAR_EXACT' }).data);
  const exRef = [0, 0, 0.5 / 1600, 0.5 - 0.5 / 1600, 0.5, 1 - 1 / 1600, 1 - 0.5 / 1600, 1];
  ex.forEach((v, i) => assert.ok(Math.abs(v - exRef[i]!) < 1e-6, `LINEAR_EXACT ${i}: ${v} vs ${exRef[i]}`));
  const sig = applyWindow(Tensor.from([600, 1000], [2]), 600, 1600, { function: 'SIGMOID' }).data;
  assert.equal(sig[0], 0.5);
  assert.ok(Math.abs(sig[1]! - 1 / (1 + Math.exp(-1))) < 1e-6);
  assert.throws(() => applyWindow(x, 600, 0.5), /width 0.5 is invalid/);
  assert.throws(() => applyWindow(x), /center and width are required/);
});

test('window from the options overrides the file, and images without a window use their full range', () => {
  const im = read('MR_small.dcm', { windowCenter: 40, windowWidth: 400 });
  assert.deepEqual(im.window, { center: 40, width: 400, function: 'LINEAR', origin: 'options' });
  assert.equal(im.meta.windowCenter, 600); // the file's own values stay in meta
  const w = applyWindow(im);
  assert.equal(w.data[0], 1); // 905 > 40 + 199.5
  const ct = applyWindow(read('CT_small.dcm')); // no window in the file → [min, max] → [0, 1]
  const s = stats(ct.data);
  assert.equal(s.min, 0);
  assert.equal(s.max, 1);
  assert.throws(() => read('MR_small.dcm', { windowCenter: 40 }), /both windowCenter and a positive windowWidth/);
});

test('multi-frame RT Dose: 15 frames of 32-bit unsigned values scaled by DoseGridScaling', () => {
  const im = read('rtdose.dcm');
  assert.deepEqual(im.frames.shape, [15, 10, 10]);
  // a = pydicom.dcmread('rtdose.dcm').pixel_array; print(a[0,0,:4], a[14,9,9], [int(a[i].sum()) for i in range(15)], ds.DoseGridScaling)
  //   → [1249000 1249000 1250000 1250000] 799000 [101378000, 101381000, ...] 1e-6
  const f = im.frames.data;
  assert.deepEqual(Array.from(f.subarray(0, 4)).map((v) => +v.toFixed(6)), [1.249, 1.249, 1.25, 1.25]);
  assert.equal(+at(im.frames, 14, 9, 9).toFixed(6), 0.799);
  const perFrame = [101378000, 101381000, 101378000, 101369000, 101347000, 101291000, 101246000, 101273000, 101285000, 101245000, 101250000, 101310000, 101369000, 101397000, 101391000];
  perFrame.forEach((sum, i) => assert.ok(Math.abs(stats(f.subarray(i * 100, (i + 1) * 100)).sum - sum * 1e-6) < 1e-3, `frame ${i}`));
  assert.equal(im.meta.numberOfFrames, 15);
  assert.equal(im.meta.bitsAllocated, 32);
  assert.equal(im.meta.rescaleSlope, 1e-6);
});

test('enhanced multi-frame: per-frame rescale and window from the functional group sequences', () => {
  const im = read('enhanced_multiframe.dcm'); // written by pydicom: stored values 0, 10, …, 170; frame f: slope f+1, intercept −100 f
  assert.deepEqual(im.frames.shape, [3, 2, 3]);
  for (let f = 0; f < 3; f++) {
    for (let p = 0; p < 6; p++) assert.equal(im.frames.data[f * 6 + p], (f * 6 + p) * 10 * (f + 1) - 100 * f);
  }
  assert.deepEqual(im.rescale, { slope: [1, 2, 3], intercept: [0, -100, -200] });
  assert.equal(im.meta.rescaleType, 'US');
  assert.deepEqual(im.meta.pixelSpacing, [0.5, 0.25]);
  assert.equal(im.meta.sliceThickness, 2);
  assert.deepEqual(im.window, { center: 40, width: 400, function: 'LINEAR', origin: 'file' });
});

test('8-bit: deflate-compressed 8-bit grayscale and 8-bit RGB', () => {
  // a = pydicom.dcmread('image_dfl.dcm').pixel_array; print(a.shape, a.min(), a.max(), a.sum(), a[256,256])  →  (512, 512) 0 255 33322688 65
  const dfl = read('image_dfl.dcm');
  assert.equal(dfl.meta.transferSyntaxName, 'Deflated Explicit VR Little Endian');
  assert.deepEqual(dfl.frames.shape, [1, 512, 512]);
  const s = stats(dfl.frames.data);
  assert.deepEqual([s.min, s.max, s.sum], [0, 255, 33322688]);
  assert.equal(at(dfl.frames, 0, 256, 256), 65);
  // pydicom.dcmread('SC_rgb_small_odd.dcm').pixel_array.tolist() → rows of (166,141,52), (63,87,176), (158,158,158)
  const rgb = read('SC_rgb_small_odd.dcm');
  assert.deepEqual(rgb.frames.shape, [1, 3, 3, 3]);
  assert.deepEqual([rgbAt(rgb, 0, 0, 2), rgbAt(rgb, 0, 1, 0), rgbAt(rgb, 0, 2, 1)], [[166, 141, 52], [63, 87, 176], [158, 158, 158]]);
});

test('BitsStored 12 of 16: bits above HighBit are masked and signed values sign-extended', () => {
  // written by make_fixtures.py with random junk in the 4 high bits; values as printed there
  const signed12 = [[-2048, -1, 0, 2047, -1306], [1234, 1512, 336, -1887, -1663], [-688, -274, 496, -86, -964], [-1394, 784, 960, -1915, -1583]];
  const s = read('bits12_signed.dcm'); // RescaleSlope 2, RescaleIntercept −5
  assert.deepEqual(Array.from(s.frames.data), signed12.flat().map((v) => 2 * v - 5));
  const unsigned12 = [[3845, 6, 315, 3987], [3866, 1222, 570, 1286], [176, 3652, 2714, 2396]];
  assert.deepEqual(Array.from(read('bits12_unsigned.dcm').frames.data), unsigned12.flat());
});

test('1-bit pixels unpack across frames that are not byte-aligned', () => {
  const im = read('bits1_2frames.dcm'); // checked against pydicom's pixel_array when written
  assert.deepEqual(im.frames.shape, [2, 3, 5]);
  assert.deepEqual(Array.from(im.frames.data), [1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1]);
});

test("YBR_FULL (planar) and YBR_FULL_422 are converted to RGB as pydicom's convert_color_space does", () => {
  // convert_color_space(pydicom.dcmread('ybr_full_planar.dcm').pixel_array, 'YBR_FULL', 'RGB').tolist()
  const planar = read('ybr_full_planar.dcm');
  assert.deepEqual(planar.frames.shape, [1, 3, 2, 3]);
  const ref = [[[254, 0, 0], [0, 255, 1], [0, 0, 254]], [[128, 128, 128], [0, 0, 0], [255, 255, 255]]];
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) assert.deepEqual(rgbAt(planar, 0, r, c), ref[r]![c], `(${r}, ${c})`);
  // r = convert_color_space(pydicom.dcmread('SC_ybr_full_422_uncompressed.dcm').pixel_array, 'YBR_FULL', 'RGB')
  // print(r.reshape(-1,3).sum(0), r[5:100:10, 50].tolist())
  const y422 = read('SC_ybr_full_422_uncompressed.dcm');
  assert.deepEqual(column50(y422), [[254, 0, 0], [255, 127, 127], [0, 255, 5], [129, 255, 129], [0, 0, 254], [128, 127, 255], [0, 0, 0], [64, 64, 64], [192, 192, 192], [255, 255, 255]]);
  assert.deepEqual([0, 1, 2].map((c) => stats(y422.frames.data.subarray(c * 10000, (c + 1) * 10000)).sum), [1277200, 1276500, 1278300]);
});

test("RLE Lossless decodes to exactly pydicom's values (16-bit MR, 8-bit RGB with 2 frames)", () => {
  // MR_small_RLE.pixels.npy = pydicom.dcmread('MR_small_RLE.dcm').pixel_array
  const ref = parseNpy(bytesOf('MR_small_RLE.pixels.npy'), 'MR_small_RLE.pixels.npy');
  const im = read('MR_small_RLE.dcm');
  assert.equal(im.meta.transferSyntaxName, 'RLE Lossless');
  assert.deepEqual(im.frames.shape, [1, ...ref.shape]);
  assert.deepEqual(Array.from(im.frames.data), Array.from(ref.data as Int16Array));
  // a = pydicom.dcmread('SC_rgb_rle_2frame.dcm').pixel_array; a[f, 5:100:10, 50], a[f].reshape(-1,3).sum(0)
  const rgb = read('SC_rgb_rle_2frame.dcm');
  assert.deepEqual(rgb.frames.shape, [2, 3, 100, 100]);
  assert.deepEqual(column50(rgb, 0), [[255, 0, 0], [255, 128, 128], [0, 255, 0], [128, 255, 128], [0, 0, 255], [128, 128, 255], [0, 0, 0], [64, 64, 64], [192, 192, 192], [255, 255, 255]]);
  assert.deepEqual(column50(rgb, 1), [[0, 255, 255], [0, 127, 127], [255, 0, 255], [127, 0, 127], [255, 255, 0], [127, 127, 0], [255, 255, 255], [191, 191, 191], [63, 63, 63], [0, 0, 0]]);
  assert.equal(stats(rgb.frames.data.subarray(0, 30000)).sum, 3 * 1277000);
  assert.equal(stats(rgb.frames.data.subarray(30000)).sum, 3 * 1273000);
});

test('JPEG Lossless (Process 14, SV1) decodes exactly: 16-bit signed MR and 8-bit RGB', () => {
  const mr = read('MR_small_jpeg_lossless.dcm'); // dcmcjpeg +e1 MR_small.dcm
  assert.equal(mr.meta.transferSyntaxUID, '1.2.840.10008.1.2.4.70');
  assert.deepEqual(mr.frames.data, read('MR_small.dcm').frames.data);
  // reference: dcmdjpeg SC_rgb_jpeg_gdcm.dcm, then pydicom: sum per channel and a[5:100:10, 50]
  const rgb = read('SC_rgb_jpeg_gdcm.dcm');
  assert.deepEqual(column50(rgb), [[255, 0, 0], [255, 128, 128], [0, 255, 0], [128, 255, 128], [0, 0, 255], [128, 128, 255], [0, 0, 0], [64, 64, 64], [192, 192, 192], [255, 255, 255]]);
  assert.deepEqual([0, 1, 2].map((c) => stats(rgb.frames.data.subarray(c * 10000, (c + 1) * 10000)).sum), [1277000, 1277000, 1277000]);
});

test('JPEG 2000 decodes with OpenJPEG: lossless MR exactly, lossy NM as pydicom (Pillow/OpenJPEG), and RGB', async () => {
  const mr = await readDicom(bytesOf('MR_small_jp2klossless.dcm'), 'MR_small_jp2klossless.dcm');
  assert.deepEqual(mr.frames.data, read('MR_small.dcm').frames.data);
  // a = pydicom.dcmread('JPEG2000.dcm').pixel_array; print(a.shape, a.min(), a.max(), a.sum(), a[500, 100:105])
  //   → (1024, 256) -30 245 3527976 [26 26 25 24 23]
  const nm = await readDicom(bytesOf('JPEG2000.dcm'), 'JPEG2000.dcm');
  assert.deepEqual(nm.frames.shape, [1, 1024, 256]);
  const s = stats(nm.frames.data);
  assert.deepEqual([s.min, s.max, s.sum], [-30, 245, 3527976]);
  assert.deepEqual([0, 1, 2, 3, 4].map((k) => at(nm.frames, 0, 500, 100 + k)), [26, 26, 25, 24, 23]);
  const rgb = await readDicom(bytesOf('SC_rgb_gdcm_KY.dcm'), 'SC_rgb_gdcm_KY.dcm');
  assert.deepEqual(column50(rgb), [[255, 0, 0], [255, 128, 128], [0, 255, 0], [128, 255, 128], [0, 0, 255], [128, 128, 255], [0, 0, 0], [64, 64, 64], [192, 192, 192], [255, 255, 255]]);
  // once loaded, the synchronous reader decodes JPEG 2000 too
  assert.deepEqual(read('MR_small_jp2klossless.dcm').frames.data, mr.frames.data);
});

test('JPEG Baseline decodes within a grey level or two of libjpeg (lossy), YBR and RGB streams', () => {
  // r = convert_color_space(pydicom.dcmread('SC_rgb_jpeg_dcmtk.dcm').pixel_array, 'YBR_FULL', 'RGB')
  // print(r.reshape(-1,3).sum(0), r[5:100:10, 50].tolist())  →  [1277200 1276500 1278300] …
  const cases = [
    ['SC_rgb_jpeg_dcmtk.dcm', [1277200, 1276500, 1278300], [[254, 0, 0], [255, 127, 127], [0, 255, 5], [129, 255, 129], [0, 0, 254], [128, 127, 255], [0, 0, 0], [64, 64, 64], [192, 192, 192], [255, 255, 255]]],
    // a = pydicom.dcmread('SC_rgb_dcmtk_+eb+cr.dcm').pixel_array (PhotometricInterpretation RGB: no colour transform)
    ['SC_rgb_dcmtk_+eb+cr.dcm', [1277500, 1277200, 1277500], [[255, 0, 0], [255, 128, 128], [0, 255, 0], [128, 255, 128], [0, 0, 255], [128, 128, 255], [0, 0, 0], [64, 64, 64], [192, 192, 192], [255, 255, 255]]],
  ] as const;
  for (const [name, sums, col] of cases) {
    const im = read(name);
    assert.deepEqual(im.frames.shape, [1, 3, 100, 100]);
    [0, 1, 2].forEach((c) => {
      const mean = stats(im.frames.data.subarray(c * 10000, (c + 1) * 10000)).mean;
      assert.ok(Math.abs(mean - sums[c]! / 10000) < 0.5, `${name} channel ${c} mean ${mean}`);
    });
    column50(im).forEach((px, k) => px.forEach((v, c) => assert.ok(Math.abs(v - col[k]![c]!) <= 2, `${name} row ${5 + 10 * k}: ${px} vs ${col[k]}`)));
  }
});

test('an unsupported transfer syntax is a clear error naming the file, the syntax and its UID, and a conversion command', async () => {
  const expected = /^MR_small_jpeg_ls_lossless\.dcm: JPEG-LS Lossless Image Compression \(1\.2\.840\.10008\.1\.2\.4\.80\) is not supported; convert with `gdcmconv --raw in\.dcm out\.dcm` or dcmtk's `dcmdjpls in\.dcm out\.dcm`$/;
  assert.throws(() => read('MR_small_jpeg_ls_lossless.dcm'), (e: unknown) => e instanceof DicomError && expected.test(e.message));
  await assert.rejects(readDicom(bytesOf('MR_small_jpeg_ls_lossless.dcm'), 'MR_small_jpeg_ls_lossless.dcm'), (e: Error) => expected.test(e.message));
});

test('truncated or non-DICOM bytes are clear errors naming the file', () => {
  const mr = bytesOf('MR_small.dcm');
  // (a RegExp is matched against `${name}: ${message}`)
  assert.throws(() => readDicomSync(mr.subarray(0, 5000), 'cut.dcm'), /^DicomError: cut\.dcm: truncated /);
  assert.throws(() => readDicomSync(mr.subarray(0, 700), 'header-cut.dcm'), /^DicomError: header-cut\.dcm: truncated or corrupt DICOM file/);
  assert.throws(() => readDicomSync(mr.subarray(0, 100), 'tiny.dcm'), /^DicomError: tiny\.dcm: not a DICOM file \(no 'DICM' marker at byte 128/);
  assert.throws(() => readDicomSync(new TextEncoder().encode('hello, this is not DICOM at all'.repeat(10)), 'notes.txt'), /^DicomError: notes\.txt: not a DICOM file/);
  assert.throws(() => readDicomSync(new Uint8Array(0), 'empty.dcm'), /^DicomError: empty\.dcm: not a DICOM file/);
});

/** PatientName / PatientID values of a fixture, read with dicom-parser directly. */
function patientStrings(bytes: Uint8Array): string[] {
  let ds;
  try {
    ds = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
  } catch (err) {
    ds = (err as { dataSet?: ReturnType<typeof dicomParser.parseDicom> }).dataSet;
  }
  const out: string[] = [];
  for (const tag of ['x00100010', 'x00100020']) {
    const v = ds?.string(tag);
    if (!v) continue;
    out.push(v);
    for (const part of v.split(/[\^=]/)) if (part.length >= 3) out.push(part);
  }
  return out;
}

test('patient data never appears in meta, warnings or error messages', async () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.dcm'));
  let checked = 0;
  for (const name of files) {
    const bytes = bytesOf(name);
    const secrets = patientStrings(bytes);
    if (secrets.length === 0) continue;
    const texts: string[] = [];
    try {
      const im = await readDicom(bytes, name);
      texts.push(JSON.stringify(im.meta), JSON.stringify(im.warnings), JSON.stringify(im.window ?? null));
      texts.push(JSON.stringify(readDicomMeta(bytes, name)));
    } catch (err) {
      texts.push((err as Error).message);
    }
    for (const cut of [bytes.length - 100, 2000, 600]) {
      try {
        await readDicom(bytes.subarray(0, cut), name);
      } catch (err) {
        texts.push((err as Error).message);
      }
    }
    for (const t of texts) for (const s of secrets) assert.ok(!t.includes(s), `${name}: "${s}" leaked into ${t.slice(0, 200)}`);
    checked++;
  }
  assert.ok(checked >= 15, `checked ${checked} files`);
  // and meta has no field that could hold such data
  const keys = Object.keys(read('CT_small.dcm').meta);
  for (const k of keys) assert.doesNotMatch(k, /^patient|patient(name|id|sex|age)|birth|accession|institution|physician|operator|referring|study|date|instanceuid/i);
  assert.ok(!JSON.stringify(read('CT_small.dcm').meta).includes('CompressedSamples'));
});

test('readDicomMeta reads the header without decoding pixels', () => {
  const m = readDicomMeta(bytesOf('MR_small_jpeg_ls_lossless.dcm'), 'x');
  assert.equal(m.hasPixelData, true);
  assert.equal(m.supported, false);
  assert.equal(m.meta.rows, 64);
  assert.equal(m.meta.transferSyntaxName, 'JPEG-LS Lossless Image Compression');
});

test('series order: series by SeriesNumber, then InstanceNumber, then position along the slice normal; frames stack', () => {
  const { imagePositionPatient: _p, imageOrientationPatient: _o, sliceLocation: _l, ...base } = read('MR_small.dcm').meta;
  const mk = (source: string, m: Partial<DicomMeta>) => ({ source, meta: { ...base, ...m } });
  const axial = [1, 0, 0, 0, 1, 0] as DicomMeta['imageOrientationPatient'];
  const items = [
    mk('c', { seriesNumber: 2, seriesKey: 'k2', instanceNumber: 1 }),
    mk('b', { seriesNumber: 1, seriesKey: 'k1', instanceNumber: 2, imagePositionPatient: [0, 0, 5], imageOrientationPatient: axial }),
    mk('a2', { seriesNumber: 1, seriesKey: 'k1', instanceNumber: 1, imagePositionPatient: [0, 0, 10], imageOrientationPatient: axial }),
    mk('a1', { seriesNumber: 1, seriesKey: 'k1', instanceNumber: 1, imagePositionPatient: [0, 0, -10], imageOrientationPatient: axial }),
    mk('d', { seriesNumber: 1, seriesKey: 'k3', instanceNumber: 1 }), // same SeriesNumber, other series: after k1 (first source 'a1' < 'd')
  ];
  assert.deepEqual(sortDicomImages(items).map((i) => i.source), ['a1', 'a2', 'b', 'd', 'c']);
  assert.deepEqual([...items].sort(compareDicomOrder).map((i) => i.source), ['a1', 'a2', 'c', 'd', 'b']);
  // the series key is a salted hash: same series → same key, and never the UID itself
  const k = read('MR_small.dcm').meta.seriesKey!;
  assert.match(k, /^[0-9a-f]{8}$/);
  assert.equal(read('MR_small_implicit.dcm').meta.seriesKey, k);
  assert.notEqual(read('CT_small.dcm').meta.seriesKey, k);
  // the normal is row × column direction: for a sagittal slice (rows along +y, columns along −z) it is −x
  assert.equal(slicePosition({ ...base, imagePositionPatient: [7, 1, 2], imageOrientationPatient: [0, 1, 0, 0, 0, -1] }), -7);
  const a = read('MR_small.dcm');
  const stacked = stackDicomFrames([a, read('MR_small_implicit.dcm'), a]);
  assert.deepEqual(stacked.shape, [3, 64, 64]);
  assert.throws(() => stackDicomFrames([a, read('CT_small.dcm')]), /CT_small\.dcm: frame shape \[128, 128\] differs/);
});
