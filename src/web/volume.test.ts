/**
 * NIfTI slices and DICOM frames as the workbench decodes them (decode.ts, volume.ts), compared with the
 * Node data pipeline's images (data/medical-folder.ts `MedicalReader`) for the same slice/frame. No
 * browser needed: NIfTI and DICOM decoding are pure TypeScript.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { MedicalReader } from '../data/medical-folder.js';
import { repoRoot } from '../testing/paths.js';
import { decodeFile, setEntryPosition, setEntryWindow, sniffKind } from './decode.js';
import { hasNiftiMagic, valueRange, windowNiftiSlice } from './volume.js';
import { readNifti } from '../io/nifti.js';
import { Tensor } from '../tensor/tensor.js';

const NIFTI = join(repoRoot, 'src', 'io', 'fixtures', 'nifti');
const DICOM = join(repoRoot, 'src', 'io', 'fixtures', 'dicom');
const bytesOf = (p: string) => new Uint8Array(readFileSync(p));

/**
 * A minimal little-endian NIfTI-1 file of float32 voxels (x fastest), with an optional cal_min/cal_max:
 * enough for the cases the fixtures do not have (2-D images, a display range in the header).
 */
export function makeNifti(dims: number[], values: ArrayLike<number>, cal?: [number, number]): Uint8Array {
  const buf = new ArrayBuffer(352 + 4 * values.length);
  const dv = new DataView(buf);
  dv.setInt32(0, 348, true);
  dv.setInt16(40, dims.length, true);
  dims.forEach((d, i) => dv.setInt16(42 + 2 * i, d, true));
  for (let i = dims.length; i < 7; i++) dv.setInt16(42 + 2 * i, 1, true);
  dv.setInt16(70, 16, true); // float32
  dv.setInt16(72, 32, true);
  for (let i = 0; i < 8; i++) dv.setFloat32(76 + 4 * i, 1, true);
  dv.setFloat32(108, 352, true); // vox_offset
  dv.setFloat32(112, 1, true); // scl_slope
  if (cal) {
    dv.setFloat32(124, cal[1], true);
    dv.setFloat32(128, cal[0], true);
  }
  new Uint8Array(buf, 344, 4).set([0x6e, 0x2b, 0x31, 0]); // 'n+1\0'
  for (let i = 0; i < values.length; i++) dv.setFloat32(352 + 4 * i, values[i]!, true);
  return new Uint8Array(buf);
}

test('a NIfTI slice in the workbench is the image the Node pipeline makes of it (axis k, min–max of the volume)', async () => {
  const path = join(NIFTI, 'anatomical.nii'); // 33×41×25, big-endian int16, LAS
  const entry = await decodeFile(1, bytesOf(path), 'anatomical.nii');
  assert.equal(entry.summary.kind, 'nifti');
  const n = entry.summary.nifti!;
  assert.deepEqual([n.slices, n.slice, n.volumes, n.t, n.windowFrom, n.axes], [25, 12, 1, 0, 'range', 'LAS']);
  assert.deepEqual(entry.pixels.shape, [1, 41, 33]);
  assert.deepEqual([entry.summary.width, entry.summary.height], [33, 41]);
  const node = new MedicalReader();
  assert.deepEqual(entry.pixels.data, node.read(path, 'nifti', { slices: [12] })[0]!.data);
  setEntryPosition(entry, { slice: 3 });
  assert.equal(entry.summary.nifti!.slice, 3);
  assert.deepEqual(entry.pixels.data, node.read(path, 'nifti', { slices: [3] })[0]!.data);
  // an explicit window is Node's --window (DICOM LINEAR)
  setEntryWindow(entry, 300, 500);
  assert.deepEqual(entry.pixels.data, new MedicalReader({ window: [300, 500] }).read(path, 'nifti', { slices: [3] })[0]!.data);
  // back to the full range: Node's default again, exactly
  setEntryWindow(entry, (n.min + n.max) / 2, n.max - n.min);
  assert.deepEqual(entry.pixels.data, node.read(path, 'nifti', { slices: [3] })[0]!.data);
  assert.throws(() => setEntryPosition(entry, { slice: 25 }), /anatomical\.nii: slice 25 is out of range \(0\.\.24\)/);
  assert.throws(() => setEntryPosition(entry, { frame: 1 }), /anatomical\.nii is not a DICOM file/);
});

test('4-D NIfTI (gzipped NIfTI-2): volume t = 0, and the workbench says so; the header cal_min/cal_max window', async () => {
  const path = join(NIFTI, 'example_nifti2.nii.gz'); // 32×20×12×2, cal_min 0, cal_max 1162
  const entry = await decodeFile(1, bytesOf(path), 'example_nifti2.nii.gz');
  const n = entry.summary.nifti!;
  assert.deepEqual([n.slices, n.slice, n.volumes, n.t, n.windowFrom, n.center, n.width], [12, 6, 2, 0, 'cal', 581, 1162]);
  assert.match(n.notes.join(' '), /4-D NIfTI with 2 volumes: showing volume t = 0/);
  // the cal_min/cal_max window is Node's default for this file (src/io/nifti-scale.ts), i.e. its --window 581,1162
  const nodeDefault = new MedicalReader().read(path, 'nifti', { slices: [6], t: 0 })[0]!.data;
  assert.deepEqual(entry.pixels.data, nodeDefault);
  assert.deepEqual(entry.pixels.data, new MedicalReader({ window: [581, 1162] }).read(path, 'nifti', { slices: [6], t: 0 })[0]!.data);
  // the full range is the volume's min–max
  setEntryWindow(entry, (n.min + n.max) / 2, n.max - n.min);
  assert.ok(Math.min(...entry.pixels.data) >= 0 && Math.max(...entry.pixels.data) <= 1);
  assert.notDeepEqual(entry.pixels.data, nodeDefault);
});

test('2-D NIfTI is one slice; cal_min/cal_max set the opening window; gzip is recognised without the name', async () => {
  const values = Array.from({ length: 12 }, (_, i) => i * 10); // 4×3, v = 10 (i + 4j)
  const flat = await decodeFile(1, makeNifti([4, 3], values), 'flat.nii');
  const n = flat.summary.nifti!;
  assert.deepEqual([n.slices, n.slice, n.volumes], [1, 0, 1]);
  assert.match(n.notes.join(' '), /2-D NIfTI \(4×3\): shown as its one slice/);
  assert.deepEqual(flat.pixels.shape, [1, 3, 4]);
  // rows run along j upwards: the top row is j = 2
  assert.deepEqual(Array.from(flat.pixels.data.slice(0, 4)), [80, 90, 100, 110].map((v) => Math.fround(v / 110)));

  const calBytes = makeNifti([4, 3, 2], Array.from({ length: 24 }, (_, i) => i), [5, 15]);
  for (const [bytes, name] of [[calBytes, 'cal.nii'], [gzipSync(calBytes), 'cal.bin']] as const) {
    assert.equal(sniffKind(bytes, name), 'nifti');
    const e = await decodeFile(1, bytes, name);
    const s = e.summary.nifti!;
    assert.deepEqual([s.windowFrom, s.center, s.width, s.min, s.max], ['cal', 10, 10, 0, 23]);
    assert.deepEqual(e.pixels.data, windowNiftiSlice(new Tensor(Float32Array.from([20, 21, 22, 23, 16, 17, 18, 19, 12, 13, 14, 15]), [1, 3, 4]), [0, 23], 10, 10).data);
  }
  assert.deepEqual(readNifti(calBytes, 'cal.nii').calRange, [5, 15]);
  assert.equal(readNifti(makeNifti([2, 2], [0, 1, 2, 3]), 'plain.nii').calRange, undefined);
  assert.equal(hasNiftiMagic(bytesOf(join(NIFTI, 'pair.hdr'))), false, "a pair header ('ni1') is not a single-file NIfTI");
});

test('unreadable files are named in the error', async () => {
  await assert.rejects(decodeFile(1, new Uint8Array(400), 'broken.nii'), /^Error: broken\.nii: not a NIfTI file/);
  await assert.rejects(decodeFile(1, Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), 'trunc.nii.gz'), /^Error: trunc\.nii\.gz: /);
  await assert.rejects(decodeFile(1, bytesOf(join(NIFTI, 'pair.hdr')), 'pair.hdr'), /pair\.hdr: NIfTI \.hdr\/\.img pairs are not supported/);
  await assert.rejects(decodeFile(1, Uint8Array.from([1, 2, 3]), 'notes.txt'), /^Error: notes\.txt: not an image the workbench can read/);
  await assert.rejects(decodeFile(1, new Uint8Array(200), 'empty.dcm'), /^Error: empty\.dcm: /);
  const inf = makeNifti([2, 2, 1], [1, 2, 3, Number.POSITIVE_INFINITY]);
  await assert.rejects(decodeFile(1, inf, 'inf.nii'), /inf\.nii: the volume holds non-finite values/);
});

test('multi-frame DICOM: frame 0 first, another frame on request, each the image the Node pipeline makes of it', async () => {
  for (const file of ['rtdose.dcm', 'enhanced_multiframe.dcm']) {
    const path = join(DICOM, file);
    const entry = await decodeFile(1, bytesOf(path), file);
    const d = entry.summary.dicom!;
    assert.ok(d.frames > 1, `${file} has ${d.frames} frames`);
    assert.equal(d.frame, 0);
    const node = new MedicalReader();
    assert.deepEqual(entry.pixels.data, node.read(path, 'dicom')[0]!.data, `${file}: frame 0`);
    const f = d.frames - 1;
    setEntryPosition(entry, { frame: f });
    assert.equal(entry.summary.dicom!.frame, f);
    assert.deepEqual(entry.pixels.data, node.read(path, 'dicom', { frames: [f] })[0]!.data, `${file}: frame ${f}`);
    assert.notDeepEqual(entry.pixels.data, node.read(path, 'dicom', { frames: [0] })[0]!.data, `${file}: frames 0 and ${f} differ`);
    assert.throws(() => setEntryPosition(entry, { frame: d.frames }), new RegExp(`${file}: frame ${d.frames} is out of range`));
  }
  assert.deepEqual(valueRange([Number.NaN]), [0, 1]);
});
