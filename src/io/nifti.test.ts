// Tests of the NIfTI reader on nibabel's test data and on files written by nibabel 5.0 (Debian's
// python3-nibabel): see fixtures/nifti/README.md. Expected numbers come from nibabel; make_fixtures.py
// prints most of them, the others name their one-liner (run in fixtures/nifti/ with
// `import nibabel as nib, numpy as np`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'fflate';
import type { Tensor } from '../tensor/tensor.js';
import { NiftiError, axisCodes, niftiSlices, niftiToCanonical, readNifti, type Affine, type NiftiVolume } from './nifti.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/nifti/', import.meta.url));
const bytesOf = (name: string) => new Uint8Array(readFileSync(FIXTURES + name));
const read = (name: string) => readNifti(bytesOf(name), name);

const sum = (t: Tensor<Float32Array>) => t.data.reduce((a, b) => a + b, 0);
/** [shape, sum, Σ a·(1 + flat index)] of a 2-D/3-D C-order array: the `ws()` helper of the Python one-liners. */
function ws(t: Tensor<Float32Array>) {
  let s = 0;
  let w = 0;
  t.data.forEach((v, i) => {
    s += v;
    w += v * (i + 1);
  });
  return [t.shape.slice(t.shape[0] === 1 && t.shape.length === 3 ? 1 : 0), s, w];
}
// def ws(a): a = np.asarray(a, float); return [list(a.shape), a.sum(), (a * np.arange(1, a.size + 1).reshape(a.shape)).sum()]

/** Voxel (i, j, k[, t]) in nibabel's indexing. */
const voxel = (v: NiftiVolume, i: number, j: number, k: number, t = 0) => {
  const [nx, ny, nz] = v.dims as [number, number, number];
  return v.volume.data[((t * nz + k) * ny + j) * nx + i]!;
};
function assertAffine(actual: Affine, expected: number[][], tol = 1e-9) {
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) assert.ok(Math.abs(actual[r]![c]! - expected[r]![c]!) <= tol, `affine[${r}][${c}] = ${actual[r]![c]} vs ${expected[r]![c]}`);
}

test('reads a big-endian int16 NIfTI-1 volume as [Z, Y, X] (nibabel anatomical.nii)', () => {
  const v = read('anatomical.nii');
  // img = nib.load('anatomical.nii'); d = img.get_fdata(): shape (33, 41, 25), sum 284166082, min -610, max 30393, d[10,20,5] = 8577
  assert.equal(v.version, 1);
  assert.equal(v.littleEndian, false);
  assert.equal(v.datatype.name, 'int16');
  assert.deepEqual(v.volume.shape, [25, 41, 33]);
  assert.deepEqual(v.dims, [33, 41, 25]);
  assert.equal(sum(v.volume), 284166082);
  assert.equal(Math.min(...v.volume.data), -610);
  assert.equal(Math.max(...v.volume.data), 30393);
  assert.equal(voxel(v, 10, 20, 5), 8577);
  assert.deepEqual(v.pixdim, [2, 2, 2]);
  assert.equal(v.qfac, -1);
  assert.equal(v.affineSource, 'sform');
  assert.equal(v.sform.codeName, 'aligned');
  assertAffine(v.affine, [[-2, 0, 0, 32], [0, 2, 0, -40], [0, 0, 2, -16], [0, 0, 0, 1]]);
  assertAffine(v.qform.affine, [[-2, 0, 0, 32], [0, 2, 0, -40], [0, 0, 2, -16], [0, 0, 0, 1]]);
  assert.deepEqual(axisCodes(v.affine), ['L', 'A', 'S']);
  assert.equal(v.scaling.applied, false);
});

test('reads a gzipped 4-D NIfTI-2 volume as [T, Z, Y, X] with its sform and qform (nibabel example_nifti2.nii.gz)', () => {
  const v = read('example_nifti2.nii.gz');
  // d = nib.load('example_nifti2.nii.gz').get_fdata(): shape (32, 20, 12, 2), sum 6926802, d[3,4,5,1] = 436
  assert.equal(v.version, 2);
  assert.deepEqual(v.volume.shape, [2, 12, 20, 32]);
  assert.equal(sum(v.volume), 6926802);
  assert.equal(voxel(v, 3, 4, 5, 1), 436);
  assert.equal(v.pixdim.length, 4);
  assert.equal(v.pixdim[3], 2000);
  assert.deepEqual(v.units, { space: 'mm', time: 's' }); // h.get_xyzt_units() → ('mm', 'sec')
  assertAffine(v.affine, [
    [-2.0, 6.714715653593746e-19, 9.081024511081715e-18, 117.8551025390625],
    [-6.714715653593746e-19, 1.9737114906311035, -0.35552823543548584, -35.72294235229492],
    [8.25548088896093e-18, 0.3232076168060303, 2.171081781387329, -7.248798370361328],
    [0, 0, 0, 1],
  ]);
  // h.get_qform()
  assertAffine(v.qform.affine, [
    [-1.999999995978187, 1.0282396754185892e-5, 0.00013905980362440367, 117.8551025390625],
    [-1.0282396754185892e-5, 1.9737114380364735, -0.3555282247524397, -35.72294235229492],
    [0.00012641805535562603, 0.32320761014906196, 2.1710816833341227, -7.248798370361328],
    [0, 0, 0, 1],
  ], 1e-12);
});

test('reads every numeric datatype: uint8, int8, int16, uint16, int32, uint32, int64, float32, float64', () => {
  // written by nibabel with v[i, j, k] = i + 10 j + 100 k − 50 (+0.25 for floats, +50 for unsigned types)
  for (const [name, offset] of [['uint8', 0], ['int8', -50], ['int16', -50], ['uint16', 0], ['int32', -50], ['uint32', 0], ['int64', -50], ['float32', -49.75], ['float64', -49.75]] as const) {
    const v = read(`dtype_${name}.nii`);
    assert.equal(v.datatype.name, name);
    assert.deepEqual(v.volume.shape, [2, 3, 4]);
    for (let k = 0; k < 2; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 4; i++) assert.equal(voxel(v, i, j, k), i + 10 * j + 100 * k + offset, `${name} (${i}, ${j}, ${k})`);
    assertAffine(v.affine, [[2, 0, 0, -3], [0, 3, 0, -4], [0, 0, 4, -5], [0, 0, 0, 1]]);
  }
});

test('applies scl_slope/scl_inter; a slope of 0 means no scaling', () => {
  // nibabel wrote arange(24) as int16 with slope 0.5, intercept −10: get_fdata() = arange(24)·0.5 − 10, sum −102
  const v = read('scaled_int16.nii.gz');
  assert.deepEqual(v.scaling, { slope: 0.5, intercept: -10, applied: true });
  assert.equal(sum(v.volume), -102);
  assert.equal(voxel(v, 0, 0, 0), -10);
  // arange(24).reshape(4, 3, 2): voxel (i, j, k) holds 6i + 2j + k
  assert.equal(voxel(v, 3, 2, 1), (6 * 3 + 2 * 2 + 1) * 0.5 - 10);
  const raw = readNifti(bytesOf('scaled_int16.nii.gz'), 'x', { scale: false });
  assert.equal(sum(raw.volume), 276);
  // slope 0 (bytes 112..115 of a NIfTI-1 header), intercept 5: ignored, as the standard says
  const b = bytesOf('dtype_int16.nii').slice();
  const dv = new DataView(b.buffer);
  dv.setFloat32(112, 0, true);
  dv.setFloat32(116, 5, true);
  const unscaled = readNifti(b, 'slope0.nii');
  assert.equal(unscaled.scaling.applied, false);
  assert.deepEqual(unscaled.volume.data, read('dtype_int16.nii').volume.data);
});

test('reads multi-member gzip, uint8 .nii.gz, and .hdr/.img pairs', () => {
  assert.deepEqual(read('multimember.nii.gz').volume.data, read('scaled_int16.nii.gz').volume.data);
  // standard.nii.gz: uint8 (4, 5, 7), sum 7650
  const s = read('standard.nii.gz');
  assert.deepEqual(s.volume.shape, [7, 5, 4]);
  assert.equal(sum(s.volume), 7650);
  // pair: big-endian int16, data arange(6).reshape(3, 2, 1)·7 − 3
  const p = readNifti(bytesOf('pair.hdr'), 'pair.hdr', { image: bytesOf('pair.img') });
  assert.deepEqual(p.volume.shape, [1, 2, 3]);
  assert.deepEqual(Array.from(p.volume.data), [-3, 11, 25, 4, 18, 32]);
  assert.equal(p.littleEndian, false);
});

test('a qform-only oblique volume uses the qform, as nibabel computes it', () => {
  const v = read('qform_only.nii');
  assert.equal(v.affineSource, 'qform');
  assert.equal(v.sform.code, 0);
  assertAffine(v.affine, [
    [1.4044400403825614, -0.5792589793042024, 0.49667332237968237, 10.0],
    [0.41264379022924724, 1.9128501647520926, 0.24460848218054132, -20.0],
    [0.32752599187769854, 0.07391401831416085, -2.4379258194788576, 30.0],
    [0, 0, 0, 1],
  ], 1e-6);
  assert.deepEqual(axisCodes(v.affine), ['R', 'A', 'I']);
});

test('niftiToCanonical matches nibabel.as_closest_canonical', () => {
  // c = nib.as_closest_canonical(nib.load('anatomical.nii')): affine [[2,0,0,-32],[0,2,0,-40],[0,0,2,-16]], RAS
  const c = niftiToCanonical(read('anatomical.nii'));
  assertAffine(c.affine, [[2, 0, 0, -32], [0, 2, 0, -40], [0, 0, 2, -16], [0, 0, 0, 1]]);
  assert.deepEqual(axisCodes(c.affine), ['R', 'A', 'S']);
  // q = nib.as_closest_canonical(nib.load('qform_only.nii')); ws(q.get_fdata()) → [[2, 3, 4], 276, 4540]
  const q = niftiToCanonical(read('qform_only.nii'));
  assert.deepEqual(q.dims, [2, 3, 4]);
  assertAffine(q.affine, [
    [1.4044400403825614, -0.5792589793042024, -0.49667332237968237, 11.490019967139046],
    [0.41264379022924724, 1.9128501647520926, -0.24460848218054132, -19.266174553458377],
    [0.32752599187769854, 0.07391401831416085, 2.4379258194788576, 22.686222541563428],
    [0, 0, 0, 1],
  ], 1e-6);
  // Σ v·(1 + flat index) in nibabel's (x, y, z) C order
  let w = 0;
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) w += voxel(q, i, j, k) * (1 + (i * 3 + j) * 4 + k);
  assert.equal(w, 4540);
  const ras = read('dtype_int16.nii');
  assert.equal(niftiToCanonical(ras), ras); // already RAS: unchanged
});

test('niftiSlices: voxel-axis and anatomical slices oriented as imshow(data[:, :, k].T, origin="lower")', () => {
  const v = read('anatomical.nii');
  // ws(np.flipud(d[:, :, 12].T)) → [[41, 33], 11555526, 8140716807]; first row starts 7602 8637 8573
  const k12 = niftiSlices(v, 'k', [12]);
  assert.deepEqual(ws(k12), [[41, 33], 11555526, 8140716807]);
  assert.deepEqual(Array.from(k12.data.subarray(0, 3)), [7602, 8637, 8573]);
  // cd = nib.as_closest_canonical(img).get_fdata():
  //   ws(np.flipud(cd[:, :, 12].T)) → [[41, 33], 11555526, 8143190793]
  //   ws(np.flipud(cd[:, 20, :].T)) → [[25, 33], 7192085, 2899416622]
  //   ws(np.flipud(cd[16, :, :].T)) → [[25, 41], 7144069, 3664243695]
  assert.deepEqual(ws(niftiSlices(v, 'axial', [12])), [[41, 33], 11555526, 8143190793]);
  assert.deepEqual(ws(niftiSlices(v, 'coronal', [20])), [[25, 33], 7192085, 2899416622]);
  assert.deepEqual(ws(niftiSlices(v, 'sagittal', [16])), [[25, 41], 7144069, 3664243695]);
  // all slices by default; several indices stack in order
  assert.deepEqual(niftiSlices(v, 'k').shape, [25, 41, 33]);
  const two = niftiSlices(v, 'i', [3, 16]);
  assert.deepEqual(two.shape, [2, 25, 41]);
  assert.deepEqual(two.data.subarray(25 * 41), niftiSlices(v, 'i', [16]).data);
  // 4-D: pick the volume with t. ws(np.flipud(d2[:, :, 6, 1].T)) → [[20, 32], 286765, 89848273]
  assert.deepEqual(ws(niftiSlices(read('example_nifti2.nii.gz'), 'k', [6], { t: 1 })), [[20, 32], 286765, 89848273]);
  assert.throws(() => niftiSlices(v, 'k', [25]), /anatomical\.nii: slice 25 is out of range for axis 'k' \(0\.\.24\)/);
  assert.throws(() => niftiSlices(v, 'k', [0], { t: 1 }), /volume index t = 1 is out of range/);
});

test('truncated, non-NIfTI and unsupported data are clear errors naming the source', () => {
  const a = bytesOf('anatomical.nii');
  assert.throws(() => readNifti(a.subarray(0, 40000), 'cut.nii'), (e: unknown) => e instanceof NiftiError && /^cut\.nii: truncated NIfTI file: 33×41×25 voxels of int16 need 67650 bytes from offset 352, but it has 39648$/.test(e.message));
  assert.throws(() => readNifti(a.subarray(0, 200), 'short.nii'), /short\.nii: not a NIfTI file/);
  assert.throws(() => readNifti(new TextEncoder().encode('x'.repeat(1000)), 'notes.txt'), /notes\.txt: not a NIfTI file/);
  const gz = bytesOf('example_nifti2.nii.gz');
  assert.throws(() => readNifti(gz.subarray(0, 5000), 'cut.nii.gz'), /cut\.nii\.gz: (corrupt or truncated gzip data|truncated NIfTI file)/);
  const rgb = bytesOf('dtype_uint8.nii').slice();
  new DataView(rgb.buffer).setInt16(70, 128, true); // datatype = RGB24
  assert.throws(() => readNifti(rgb, 'rgb.nii'), /rgb\.nii: datatype RGB24 \(128\) is not supported/);
  // gzip of a non-NIfTI payload
  assert.throws(() => readNifti(gzipSync(new Uint8Array(400)), 'zeros.nii.gz'), /zeros\.nii\.gz: not a NIfTI file/);
});

test('slice counts along an anatomical plane come from the reoriented volume, not the stored dims (a sagittally stored volume)', async () => {
  const { niftiSliceCount } = await import('./nifti.js');
  const v = readNifti(bytesOf('anatomical.nii'), 'anatomical.nii'); // 33×41×25, LAS
  // Re-label the axes as stored sagittally: i → A (y), j → S (z), k → R (x).
  const sag: NiftiVolume = { ...v, affine: [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]] as Affine };
  assert.equal(niftiSliceCount(sag, 'k'), 25);
  assert.equal(niftiSliceCount(sag, 'sagittal'), 25); // R is k
  assert.equal(niftiSliceCount(sag, 'axial'), 41); // S is j
  assert.equal(niftiSliceCount(sag, 'coronal'), 33); // A is i
  assert.equal(niftiSlices(sag, 'axial').shape[0], 41);
});
