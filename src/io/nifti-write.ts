/**
 * A NIfTI-1 writer for maps: one float32 volume (`.nii`, or `.nii.gz` gzipped by fflate), written with a
 * given voxel→world affine so that it overlays its source scan in ITK-SNAP, 3D Slicer or NiiVue.
 *
 * Why here: nifti-reader-js (the reader candor uses) does not write, and no maintained npm package writes
 * NIfTI-1 without pulling in a viewer; the format is a fixed 348-byte header (NIfTI-1 standard, nifti1.h).
 *
 * The affine goes into the sform (srow_x/y/z, sform_code as given: 1 scanner, 2 aligned, …) and, when its
 * 3×3 part is a rotation times voxel sizes (no shear), into the qform too (quaternion as nifti1_io's
 * `nifti_mat44_to_quatern`; qfac −1 for a left-handed grid), as nibabel writes both.
 * Data layout: `data[(k·ny + j)·nx + i]` is voxel (i, j, k) (x fastest), as stored on disk.
 */
import { gzipSync } from 'fflate';
import type { Affine } from './nifti.js';

export interface NiftiWriteOptions {
  /** sform_code (and qform_code when written): 1 scanner (default), 2 aligned, 3 Talairach, 4 MNI. */
  code?: number;
  /** Up to 79 ASCII characters. */
  description?: string;
  /** gzip the file (default: when the path ends in .gz; the caller decides here). */
  gzip?: boolean;
}

/** The bytes of a NIfTI-1 file holding `data` (float32, x fastest) of extent `dims` = [nx, ny, nz] (or [nx, ny, nz, nt]). */
export function niftiBytes(data: Float32Array, dims: readonly number[], affine: Affine, opts: NiftiWriteOptions = {}): Uint8Array {
  const [nx, ny, nz, nt = 1] = dims as [number, number, number, number?];
  if (dims.length !== 3 && dims.length !== 4) throw new Error(`niftiBytes: dims must be [nx, ny, nz] or [nx, ny, nz, nt], got [${dims.join(', ')}]`);
  if (data.length !== nx * ny * nz * nt) throw new Error(`niftiBytes: ${data.length} values for dims ${dims.join('×')}`);
  const buf = new ArrayBuffer(352 + data.length * 4);
  const v = new DataView(buf);
  const le = true;
  v.setInt32(0, 348, le);
  v.setUint8(38, 'r'.charCodeAt(0));
  [dims.length, nx, ny, nz, nt, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, le));
  v.setInt16(70, 16, le); // float32
  v.setInt16(72, 32, le);
  const cols = [0, 1, 2].map((c) => [affine[0]![c]!, affine[1]![c]!, affine[2]![c]!]);
  const sizes = cols.map((c) => Math.hypot(...c));
  const q = quaternion(cols, sizes);
  [q?.qfac ?? 1, sizes[0]!, sizes[1]!, sizes[2]!, 0, 0, 0, 0].forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
  v.setFloat32(108, 352, le);
  v.setFloat32(112, 1, le); // scl_slope 1, inter 0: values as stored
  v.setUint8(123, 2); // mm
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of data) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (Number.isFinite(lo) && hi > lo) {
    v.setFloat32(124, hi, le);
    v.setFloat32(128, lo, le);
  }
  const desc = (opts.description ?? 'candor map').replace(/[^\x20-\x7e]/g, '?').slice(0, 79);
  for (let i = 0; i < desc.length; i++) v.setUint8(148 + i, desc.charCodeAt(i));
  const code = opts.code ?? 1;
  v.setInt16(254, code, le);
  if (q) {
    v.setInt16(252, code, le);
    v.setFloat32(256, q.b, le);
    v.setFloat32(260, q.c, le);
    v.setFloat32(264, q.d, le);
  }
  for (let r = 0; r < 3; r++) {
    v.setFloat32(268 + 4 * r, affine[r]![3]!, le); // qoffset
    for (let c = 0; c < 4; c++) v.setFloat32(280 + 16 * r + 4 * c, affine[r]![c]!, le);
  }
  'n+1\0'.split('').forEach((ch, i) => v.setUint8(344 + i, ch.charCodeAt(0)));
  const out = new Uint8Array(buf);
  new Float32Array(buf, 352).set(data);
  return opts.gzip ? gzipSync(out, { level: 6 }) : out;
}

/** The qform quaternion of voxel-axis directions `cols` (lengths `sizes`), or undefined when they are not orthogonal. */
function quaternion(cols: number[][], sizes: number[]): { b: number; c: number; d: number; qfac: number } | undefined {
  if (sizes.some((s) => !(s > 0))) return undefined;
  const R = [0, 1, 2].map((r) => [0, 1, 2].map((c) => cols[c]![r]! / sizes[c]!));
  for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) if (Math.abs(R[0]![a]! * R[0]![b]! + R[1]![a]! * R[1]![b]! + R[2]![a]! * R[2]![b]!) > 1e-4) return undefined;
  const det = R[0]![0]! * (R[1]![1]! * R[2]![2]! - R[1]![2]! * R[2]![1]!) - R[0]![1]! * (R[1]![0]! * R[2]![2]! - R[1]![2]! * R[2]![0]!) + R[0]![2]! * (R[1]![0]! * R[2]![1]! - R[1]![1]! * R[2]![0]!);
  const qfac = det < 0 ? -1 : 1;
  if (qfac < 0) for (let r = 0; r < 3; r++) R[r]![2] = -R[r]![2]!;
  const [r11, r12, r13] = R[0]! as [number, number, number];
  const [r21, r22, r23] = R[1]! as [number, number, number];
  const [r31, r32, r33] = R[2]! as [number, number, number];
  let a = r11 + r22 + r33 + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) (b = -b), (c = -c), (d = -d);
  }
  return { b, c, d, qfac };
}
