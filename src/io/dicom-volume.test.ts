import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';
import { readNpyFileSync } from './files.js';
import { dicomSeriesVolume } from './dicom-volume.js';

const DIR = join(repoRoot, 'src/io/fixtures/dicom-series');
const files = (sub: string) => readdirSync(join(DIR, sub)).sort().map((f) => ({ path: join(DIR, sub, f), bytes: readFileSync(join(DIR, sub, f)) }));

test("a DICOM series read as a volume puts every voxel on dcm2niix's world point with dcm2niix's value (oblique series, shuffled instance numbers)", () => {
  const { volume: v, sliceSpacing, fileWindow } = dicomSeriesVolume(files('ct'), 'ct/');
  assert.deepEqual(v.dims, [40, 32, 12]);
  assert.ok(Math.abs(sliceSpacing - 2.5) < 1e-4);
  assert.deepEqual(fileWindow, [40, 400]);
  const ref = JSON.parse(readFileSync(join(DIR, 'ct_dcm2niix.json'), 'utf8')) as { dims: number[]; affine: number[][] };
  const refData = readNpyFileSync(join(DIR, 'ct_dcm2niix.npy')).data as Float32Array;
  const [rx, ry] = ref.dims as [number, number, number];
  // world → dcm2niix voxel: solve the 3×3 system (its affine is well conditioned)
  const A = ref.affine;
  const det = (m: number[][]) => m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) - m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) + m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
  const M = [0, 1, 2].map((r) => [0, 1, 2].map((c) => A[r]![c]!));
  const D = det(M);
  const toRef = (w: number[]) => {
    const b = [0, 1, 2].map((r) => w[r]! - A[r]![3]!);
    return [0, 1, 2].map((c) => det(M.map((row, r) => row.map((v, cc) => (cc === c ? b[r]! : v)))) / D);
  };
  let worstPos = 0;
  let worstVal = 0;
  const [nx, ny, nz] = v.dims as [number, number, number];
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const w = [0, 1, 2].map((r) => v.affine[r]![0]! * i + v.affine[r]![1]! * j + v.affine[r]![2]! * k + v.affine[r]![3]!);
    const q = toRef(w);
    const qi = q.map(Math.round) as [number, number, number];
    worstPos = Math.max(worstPos, ...q.map((x, a) => Math.abs(x - qi[a]!)));
    worstVal = Math.max(worstVal, Math.abs(v.volume.data[(k * ny + j) * nx + i]! - refData[(qi[2] * ry + qi[1]) * rx + qi[0]]!));
  }
  assert.ok(worstPos < 1e-3, `voxel positions differ from dcm2niix's by ${worstPos} voxels`);
  assert.ok(worstVal === 0, `values differ by ${worstVal} HU`);
});

test('a series with a missing slice or a single file is a one-line error', () => {
  assert.throws(() => dicomSeriesVolume(files('gap'), 'gap/'), /gap\/: inconsistent slice spacing along the normal — from 2\.500 mm between .* to 5\.000 mm between /);
  assert.throws(() => dicomSeriesVolume(files('ct').slice(0, 1), 'one/'), /one\/: 1 DICOM file\(s\); a series read as a volume needs at least 2 slices/);
});
