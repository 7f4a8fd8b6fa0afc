/**
 * `candor explain` on a 3-D model: NIfTI volumes in (voxel order, windowing, resampling), maps out as .npy,
 * four-view figures and NIfTI files on the source grid with the source's affine; bad volumes are clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';
import { readNpyFileSync, writeNpyFileSync, writeNpzFileSync } from '../io/files.js';
import { readNifti, type Affine } from '../io/nifti.js';
import { niftiBytes } from '../io/nifti-write.js';
import { decodePng } from '../io/image.js';
import { Tensor } from '../tensor/tensor.js';
import { resize } from '../data/resize.js';

const MODEL = join(repoRoot, 'src/explain/fixtures/r3d_small.onnx'); // input [N, 2, 16, 32, 32]
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'explain', '--model', MODEL, ...args], { encoding: 'utf8', cwd: repoRoot });
const dir = mkdtempSync(join(tmpdir(), 'candor-vol-'));

/** A CT-like volume (HU) with a bright blob, stored LPS-like (i → left, j → posterior), 2 mm slices. */
const [NX, NY, NZ] = [40, 36, 20];
const AFFINE: Affine = [[-0.8, 0, 0, 20], [0, -0.8, 0, 15], [0, 0, 2, -30], [0, 0, 0, 1]];
function ctVolume(t = 1): Float32Array {
  const d = new Float32Array(NX * NY * NZ * t);
  for (let q = 0; q < t; q++) for (let k = 0; k < NZ; k++) for (let j = 0; j < NY; j++) for (let i = 0; i < NX; i++) {
    const r2 = ((i - 12) / 6) ** 2 + ((j - 20) / 6) ** 2 + ((k - 8) / 3) ** 2;
    d[((q * NZ + k) * NY + j) * NX + i] = -1000 + 1050 * Math.exp(-r2) + 20 * Math.sin(i * 0.7 + j * 0.3) + q;
  }
  return d;
}
const VOL = join(dir, 'ct.nii.gz');
writeFileSync(VOL, niftiBytes(ctVolume(), [NX, NY, NZ], AFFINE, { gzip: true }));

test('explain a NIfTI volume with a 3-D model: maps [1,16,32,32], four-view figures, and each map as NIfTI on the source grid with its affine', () => {
  const out = join(dir, 'out');
  const r = run(['--input', VOL, '--methods', 'gradcam,saliency', '--window', '40,400', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /whole volumes, voxel order ijk/);
  assert.match(r.stderr, /resampled 40×36×20 → 16×32×32 voxels .*voxel size 0\.8 × 0\.8 × 2 → 2 × 0\.9 × 1\.25 mm — the aspect ratio changed/);
  assert.match(r.stderr, /one channel repeated into the model's 2/);
  assert.deepEqual(readdirSync(out).sort(), ['explain.json', 'gradcam.npy', 'gradcam_0.nii.gz', 'gradcam_0.png', 'grid.png', 'grid.svg', 'saliency.npy', 'saliency_0.nii.gz', 'saliency_0.png']);
  for (const m of ['gradcam', 'saliency']) {
    const map = readNpyFileSync(join(out, `${m}.npy`)) as Tensor;
    assert.deepEqual(map.shape, [1, 16, 32, 32]);
    const nii = readNifti(readFileSync(join(out, `${m}_0.nii.gz`)), `${m}_0.nii.gz`);
    assert.deepEqual(nii.dims, [NX, NY, NZ]);
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) assert.ok(Math.abs(nii.affine[a]![b]! - AFFINE[a]![b]!) < 1e-5, `${m}: affine[${a}][${b}]`);
    assert.equal(nii.qform.code, 1, 'qform written (no shear)');
    for (let a = 0; a < 3; a++) for (let b = 0; b < 4; b++) assert.ok(Math.abs(nii.qform.affine[a]![b]! - AFFINE[a]![b]!) < 1e-5, `${m}: qform[${a}][${b}]`);
    // voxel order ijk: the model's axes are (i, j, k); the NIfTI map is the model's map resampled back to 40×36×20
    const back = resize(new Tensor(map.data as Float32Array, [16, 32, 32]), [NX, NY, NZ]).data;
    let worst = 0;
    for (let i = 0; i < NX; i++) for (let j = 0; j < NY; j++) for (let k = 0; k < NZ; k++) {
      worst = Math.max(worst, Math.abs(nii.volume.data[(k * NY + j) * NX + i]! - back[(i * NY + j) * NZ + k]!));
    }
    assert.ok(worst < 1e-6, `${m}: NIfTI vs resampled map ${worst}`);
  }
  // four views (axial, coronal, sagittal, MIP) × (image + map), views of 128 px drawn at the default --panel-size 256, with a colorbar
  const fig = decodePng(readFileSync(join(out, 'gradcam_0.png'))).tensor;
  assert.equal(fig.shape[2], 8 + 2 * (256 + 8));
  const rec = JSON.parse(readFileSync(join(out, 'explain.json'), 'utf8'));
  assert.equal(rec.model.input.depth, 16);
  assert.equal(rec.input.voxelOrder, 'ijk');
  assert.deepEqual(rec.maps[0].nifti, ['gradcam_0.nii.gz']);
});

test('--voxel-order kji feeds the model the transposed volume; raw .npy volumes and ready batches are read; MedMNIST 3-D .npz loads', () => {
  const a = run(['--input', VOL, '--methods', 'saliency', '--out', join(dir, 'ijk')]);
  const b = run(['--input', VOL, '--methods', 'saliency', '--voxel-order', 'kji', '--out', join(dir, 'kji')]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stderr, /resampled 20×36×40 → 16×32×32/);
  const pa = JSON.parse(readFileSync(join(dir, 'ijk/explain.json'), 'utf8')).images[0].logits;
  const pb = JSON.parse(readFileSync(join(dir, 'kji/explain.json'), 'utf8')).images[0].logits;
  assert.notDeepEqual(pa, pb, 'a different voxel order is a different input');

  const raw = new Tensor(Float32Array.from({ length: 2 * 12 * 30 * 30 }, (_, q) => Math.sin(q * 0.01)), [2, 12, 30, 30]);
  writeNpyFileSync(join(dir, 'raw.npy'), raw);
  const c = run(['--input', join(dir, 'raw.npy'), '--methods', 'gradcam', '--out', join(dir, 'raw')]);
  assert.equal(c.status, 0, c.stderr);
  assert.deepEqual(readNpyFileSync(join(dir, 'raw/gradcam.npy')).shape, [2, 16, 32, 32]);
  assert.ok(!readdirSync(join(dir, 'raw')).some((f) => f.endsWith('.nii.gz')), 'no NIfTI without a source affine');

  const ready = new Tensor(Float32Array.from({ length: 2 * 16 * 32 * 32 }, (_, q) => Math.cos(q * 0.003)), [1, 2, 16, 32, 32]);
  writeNpyFileSync(join(dir, 'ready.npy'), ready);
  const d = run(['--input', join(dir, 'ready.npy'), '--methods', 'saliency', '--out', join(dir, 'ready')]);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /used as is/);

  const imgs = new Tensor(Uint8Array.from({ length: 3 * 28 * 28 * 28 }, (_, q) => (q * 7) % 256), [3, 28, 28, 28]);
  writeNpzFileSync(join(dir, 'organ3d.npz'), { test_images: imgs, test_labels: new Tensor(Uint8Array.from([0, 2, 1]), [3, 1]) });
  const e = run(['--input', `${join(dir, 'organ3d.npz')}:test:0-2`, '--methods', 'saliency', '--out', join(dir, 'npz')]);
  assert.equal(e.status, 0, e.stderr);
  assert.deepEqual(readNpyFileSync(join(dir, 'npz/saliency.npy')).shape, [2, 16, 32, 32]);
});

test('a DICOM series folder is one volume: windowed by its own window, its map written as NIfTI with the series geometry', () => {
  const series = join(repoRoot, 'src/io/fixtures/dicom-series/ct');
  const out = join(dir, 'series');
  const r = run(['--input', series, '--methods', 'gradcam', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /DICOM series .* \(12 slices\), voxel order ijk/);
  const rec = JSON.parse(readFileSync(join(out, 'explain.json'), 'utf8'));
  assert.match(rec.images[0].source.window, /window centre 40, width 400 \(the series' own window\)/);
  const nii = readNifti(readFileSync(join(out, 'gradcam_0.nii.gz')), 'gradcam_0.nii.gz');
  assert.deepEqual(nii.dims, [40, 32, 12]);
  assert.ok(!r.stdout.includes('Synthetic') && !r.stderr.includes('SYN-0001') && !readFileSync(join(out, 'explain.json'), 'utf8').includes('Synthetic'), 'no patient identifiers');
  const gap = run(['--input', join(repoRoot, 'src/io/fixtures/dicom-series/gap'), '--methods', 'gradcam', '--out', join(dir, 'gap')]);
  assert.equal(gap.status, 2);
  assert.match(gap.stderr, /inconsistent slice spacing/);
});

test('bad volumes are one-line errors: a 4-D NIfTI without a time point, a volume too thin for the model, the 2-D slice syntax', () => {
  const four = join(dir, 'fmri.nii.gz');
  writeFileSync(four, niftiBytes(ctVolume(3), [NX, NY, NZ, 3], AFFINE, { gzip: true }));
  const a = run(['--input', four, '--methods', 'saliency', '--out', join(dir, 'e1')]);
  assert.equal(a.status, 2);
  assert.match(a.stderr, /a 4-D NIfTI with 3 volumes .*choose one with fmri\.nii\.gz:t=N \(0\.\.2\)/);
  const ok = run(['--input', `${four}:t=2`, '--methods', 'saliency', '--out', join(dir, 'e1ok')]);
  assert.equal(ok.status, 0, ok.stderr);

  writeNpyFileSync(join(dir, 'thin.npy'), new Tensor(new Float32Array(1 * 30 * 30), [1, 30, 30]));
  const b = run(['--input', join(dir, 'thin.npy'), '--methods', 'saliency', '--out', join(dir, 'e2')]);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /a volume of 1×30×30 voxels is too small for a 3-D model/);

  const c = run(['--input', `${VOL}:axial:3`, '--methods', 'saliency', '--out', join(dir, 'e3')]);
  assert.equal(c.status, 2);
  assert.match(c.stderr, /expected vol\.nii\[\.gz\] or vol\.nii\[\.gz\]:t=N/);
  for (const r of [a, b, c]) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
