/**
 * NIfTI-1 and NIfTI-2 volumes (`.nii`, `.nii.gz`, and `.hdr`/`.img` pairs), browser-safe.
 *
 * The header is parsed by `nifti-reader-js` (version and byte-order detection, NIfTI-1/2 field layouts);
 * gzip (including multi-member files from pigz/bgzip) is inflated with fflate; voxel data are converted
 * here. The transforms are computed here from the raw header fields, as nibabel does, because the
 * library's `affine` means different things for NIfTI-1 and NIfTI-2.
 *
 * Layout: NIfTI stores x fastest, then y, z, t, so the C-order tensor is `[Z, Y, X]` (3-D) or
 * `[T, Z, Y, X]` (4-D) with no copy of the voxel order: `volume[k][j][i]` is voxel (i, j, k) — nibabel's
 * `get_fdata()[i, j, k]`. Values are float32, with scl_slope/scl_inter applied (a slope of 0 or NaN means
 * no scaling, as the standard says).
 */
import { gunzipChecked, isGzip } from './gzip.js';
import { READ_LIMITS } from './limits.js';
import * as niftiReader from 'nifti-reader-js';
import { Tensor } from '../tensor/tensor.js';

/** Error for unreadable or unsupported NIfTI data. `message` starts with the source (file name). */
export class NiftiError extends Error {
  readonly source: string;
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'NiftiError';
    this.source = source;
  }
}

/** A 4×4 row-major matrix mapping voxel (i, j, k, 1) to world (x, y, z, 1) in mm (RAS+ for NIfTI). */
export type Affine = [number[], number[], number[], number[]];

export interface NiftiVolume {
  source: string;
  /** float32, `[Z, Y, X]` or `[T, Z, Y, X]`; `volume[k][j][i]` is voxel (i, j, k). */
  volume: Tensor<Float32Array>;
  /** NIfTI version of the header: 1 or 2. */
  version: 1 | 2;
  /** Image dimensions in file order (x, y, z[, t]). */
  dims: number[];
  /** Voxel sizes in file order (dx, dy, dz[, dt]), from pixdim[1..]. */
  pixdim: number[];
  /** pixdim[0]: −1 flips the k axis of the qform. */
  qfac: number;
  /** Units from xyzt_units. */
  units: { space: 'unknown' | 'm' | 'mm' | 'um'; time: 'unknown' | 's' | 'ms' | 'us' | 'Hz' | 'ppm' | 'rad/s' };
  datatype: { code: number; name: string };
  littleEndian: boolean;
  /** The on-disk scaling and whether it was applied. */
  scaling: { slope: number; intercept: number; applied: boolean };
  qform: { code: number; codeName: string; affine: Affine };
  sform: { code: number; codeName: string; affine: Affine };
  /** The best voxel→world transform: the sform if sform_code > 0, else the qform if qform_code > 0, else diag(pixdim) (NIfTI method 1). */
  affine: Affine;
  /** Which transform {@link NiftiVolume.affine} is. */
  affineSource: 'sform' | 'qform' | 'pixdim';
  intentCode: number;
  /** The header's display range cal_min–cal_max, when it sets one (cal_max > cal_min, both finite). */
  calRange?: [number, number];
}

const DATATYPES: Record<number, { name: string; bytes: number }> = {
  2: { name: 'uint8', bytes: 1 },
  4: { name: 'int16', bytes: 2 },
  8: { name: 'int32', bytes: 4 },
  16: { name: 'float32', bytes: 4 },
  64: { name: 'float64', bytes: 8 },
  256: { name: 'int8', bytes: 1 },
  512: { name: 'uint16', bytes: 2 },
  768: { name: 'uint32', bytes: 4 },
  1024: { name: 'int64', bytes: 8 },
  1280: { name: 'uint64', bytes: 8 },
};
const UNSUPPORTED: Record<number, string> = {
  1: 'binary (1 bit)',
  32: 'complex64',
  128: 'RGB24',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'RGBA32',
};

const XFORM_NAMES: Record<number, string> = { 0: 'unknown', 1: 'scanner', 2: 'aligned', 3: 'talairach', 4: 'mni', 5: 'template' };
const SPACE_UNITS = { 1: 'm', 2: 'mm', 3: 'um' } as const;
const TIME_UNITS = { 8: 's', 16: 'ms', 24: 'us', 32: 'Hz', 40: 'ppm', 48: 'rad/s' } as const;

/**
 * The bytes a NIfTI-1/2 single-file header says the file holds (vox_offset + voxels × bytes per voxel),
 * read from the first bytes of the (inflated) file; undefined until 540 bytes are there, or when the header
 * is not one candor could read anyway (the full read then says why).
 */
export function declaredNiftiBytes(head: Uint8Array): number | undefined {
  if (head.length < 540) return undefined;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  for (const le of [true, false]) {
    const size = dv.getInt32(0, le);
    if (size === 348) {
      const n = Array.from({ length: Math.max(0, Math.min(7, dv.getInt16(40, le))) }, (_, i) => Math.max(1, dv.getInt16(42 + 2 * i, le))).reduce((a, b) => a * b, 1);
      const bytes = DATATYPES[dv.getInt16(70, le)]?.bytes;
      const off = Math.max(352, Math.round(dv.getFloat32(108, le)));
      return bytes && Number.isFinite(off) ? off + n * bytes : READ_LIMITS.maxInflatedBytes;
    }
    if (size === 540) {
      const nd = Number(dv.getBigInt64(16, le));
      let n = 1;
      for (let i = 0; i < Math.max(0, Math.min(7, nd)); i++) n *= Math.max(1, Number(dv.getBigInt64(24 + 8 * i, le)));
      const bytes = DATATYPES[dv.getInt16(12, le)]?.bytes;
      const off = Math.max(544, Number(dv.getBigInt64(168, le)));
      return bytes && Number.isFinite(off) ? off + n * bytes : READ_LIMITS.maxInflatedBytes;
    }
  }
  return READ_LIMITS.maxInflatedBytes;
}

/** Gunzips a .nii.gz (every member, CRC-checked), stopping at the size its header declares. */
function gunzipAll(u8: Uint8Array, source: string, pairImage = false): Uint8Array {
  return gunzipChecked(u8, source, { limit: pairImage ? undefined : declaredNiftiBytes, what: 'the NIfTI volume' });
}

function ownBuffer(u8: Uint8Array): ArrayBuffer {
  if (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength && u8.buffer instanceof ArrayBuffer) return u8.buffer;
  return u8.slice().buffer;
}

function identity(): Affine {
  return [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
}

/** qform (NIfTI method 2): R(quaternion) · diag(dx, dy, qfac·dz) + offset, as nibabel computes it. */
function qformAffine(b: number, c: number, d: number, offset: number[], pixdim: number[], qfac: number): Affine {
  // nibabel's rule (quaternions.fillpositive): a = sqrt(1 − |bcd|²), 0 when that is (slightly) negative.
  // nifti1_io instead sets a = 0 below 1e-7 and renormalises; the two differ by ~1e-5 on near-180° rotations.
  const a2 = 1 - (b * b + c * c + d * d);
  const a = a2 > 0 ? Math.sqrt(a2) : 0;
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - b * b - c * c],
  ];
  const z = [pixdim[0] ?? 1, pixdim[1] ?? 1, (pixdim[2] ?? 1) * qfac];
  const m = identity();
  for (let r = 0; r < 3; r++) {
    for (let k = 0; k < 3; k++) m[r]![k] = R[r]![k]! * z[k]!;
    m[r]![3] = offset[r]!;
  }
  return m;
}

export interface ReadNiftiOptions {
  /** The image bytes of a `.hdr`/`.img` pair (the header goes in `bytes`). */
  image?: Uint8Array;
  /** Apply scl_slope/scl_inter (default true). */
  scale?: boolean;
}

/**
 * Reads a NIfTI-1 or NIfTI-2 volume (`.nii` or `.nii.gz` bytes; a `.hdr` with `opts.image` for pairs).
 * @param source names the data in error messages (usually the file path).
 */
export function readNifti(bytes: Uint8Array, source = 'NIfTI data', opts: ReadNiftiOptions = {}): NiftiVolume {
  let u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isGzip(u8)) u8 = gunzipAll(u8, source);
  const pair = opts.image !== undefined;
  const buf = ownBuffer(u8);
  if (u8.length < 348 || !niftiReader.isNIFTI(buf, pair)) {
    throw new NiftiError(source, `not a NIfTI file (no NIfTI-1 or NIfTI-2 header; ${u8.length} bytes)`);
  }
  let h: niftiReader.NIFTI1 | niftiReader.NIFTI2;
  try {
    h = niftiReader.readHeader(buf, pair);
  } catch (err) {
    throw new NiftiError(source, `unreadable NIfTI header (${(err as Error).message})`);
  }
  const version: 1 | 2 = h instanceof niftiReader.NIFTI2 ? 2 : 1;
  const le = h.littleEndian;
  const hv = new DataView(buf);

  // dimensions
  const ndim = h.dims[0]!;
  if (!(ndim >= 1 && ndim <= 7)) throw new NiftiError(source, `invalid dim[0] = ${ndim}`);
  const dims = Array.from({ length: ndim }, (_, i) => h.dims[i + 1]!);
  dims.forEach((d, i) => {
    if (!(Number.isSafeInteger(d) && d >= 1)) throw new NiftiError(source, `invalid dim[${i + 1}] = ${d} (dim[0] = ${ndim} dimensions are used; each must be ≥ 1)`);
  });
  // fold trailing singleton dimensions beyond 4; anything non-singleton beyond t is not supported
  while (dims.length > 3 && dims[dims.length - 1] === 1) dims.pop();
  if (dims.length > 4) throw new NiftiError(source, `${ndim}-D NIfTI with dim = [${dims.join(', ')}] is not supported (at most 4-D: x, y, z, t)`);
  while (dims.length < 3) dims.push(1);
  const [nx, ny, nz] = dims as [number, number, number];
  const nt = dims[3] ?? 1;

  // datatype
  const code = h.datatypeCode;
  const dt = DATATYPES[code];
  if (!dt) {
    const what = UNSUPPORTED[code];
    throw new NiftiError(source, `${what ? `datatype ${what}` : `unknown datatype code`} (${code}) is not supported (uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32, float64)`);
  }

  // voxel data
  const n = nx * ny * nz * nt;
  if (n > READ_LIMITS.maxVoxels) throw new NiftiError(source, `the header declares ${dims.join('×')} = ${n.toLocaleString('en')} voxels, more than the limit of ${READ_LIMITS.maxVoxels.toLocaleString('en')} (CANDOR_MAX_VOXELS raises it)`);
  const need = n * dt.bytes;
  let data: Uint8Array;
  let offset: number;
  if (!(Number.isFinite(h.vox_offset) && h.vox_offset >= 0 && h.vox_offset <= 2 ** 40)) {
    throw new NiftiError(source, `vox_offset ${h.vox_offset} is not a valid byte offset (a damaged header)`);
  }
  if (pair) {
    data = opts.image!;
    if (isGzip(data)) data = gunzipAll(data, source, true);
    offset = Math.max(0, Math.round(h.vox_offset));
  } else {
    data = u8;
    offset = Math.round(h.vox_offset);
    if (offset < (version === 1 ? 348 : 540)) offset = version === 1 ? 352 : 544;
  }
  if (!pair && data.length > offset + need) {
    throw new NiftiError(source, `${data.length - offset - need} bytes after the ${dims.join('×')} voxels of ${dt.name} its header declares (from offset ${offset}): a damaged header, or data the header does not describe`);
  }
  if (offset + need > data.length) {
    throw new NiftiError(source, `truncated NIfTI ${pair ? 'image file' : 'file'}: ${dims.join('×')} voxels of ${dt.name} need ${need} bytes from offset ${offset}, but it has ${Math.max(0, data.length - offset)}`);
  }
  const dv = new DataView(data.buffer, data.byteOffset + offset, need);
  const out = new Float32Array(n);
  switch (code) {
    case 2: for (let i = 0; i < n; i++) out[i] = dv.getUint8(i); break;
    case 256: for (let i = 0; i < n; i++) out[i] = dv.getInt8(i); break;
    case 4: for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, le); break;
    case 512: for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, le); break;
    case 8: for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, le); break;
    case 768: for (let i = 0; i < n; i++) out[i] = dv.getUint32(4 * i, le); break;
    case 16: for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, le); break;
    case 64: for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, le); break;
    case 1024: for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, le)); break;
    case 1280: for (let i = 0; i < n; i++) out[i] = Number(dv.getBigUint64(8 * i, le)); break;
  }

  // scaling
  const slope = h.scl_slope;
  const intercept = Number.isFinite(h.scl_inter) ? h.scl_inter : 0;
  const applied = (opts.scale ?? true) && Number.isFinite(slope) && slope !== 0 && (slope !== 1 || intercept !== 0);
  if (applied) for (let i = 0; i < n; i++) out[i] = out[i]! * slope + intercept;

  // transforms, from the raw header fields
  const pixdimAll = h.pixDims;
  const pixdim = dims.map((_, i) => pixdimAll[i + 1] ?? 1).slice(0, nt > 1 ? 4 : 3);
  const qfac = pixdimAll[0] === -1 ? -1 : 1;
  const qformCode = h.qform_code;
  const sformCode = h.sform_code;
  const qform = qformAffine(h.quatern_b, h.quatern_c, h.quatern_d, [h.qoffset_x, h.qoffset_y, h.qoffset_z], pixdim.map(Math.abs), qfac);
  const sform = identity();
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      sform[r]![c] = version === 1 ? hv.getFloat32(280 + 4 * (4 * r + c), le) : hv.getFloat64(400 + 8 * (4 * r + c), le);
    }
  }
  const base = identity();
  for (let i = 0; i < 3; i++) base[i]![i] = pixdim[i] ?? 1;
  const affineSource = sformCode > 0 ? 'sform' : qformCode > 0 ? 'qform' : 'pixdim';
  const affine = affineSource === 'sform' ? sform : affineSource === 'qform' ? qform : base;
  // A transform with NaN or ±Inf cannot orient anything: refuse it rather than guess the anatomical axes.
  if (!affine.every((row) => row.every(Number.isFinite))) {
    throw new NiftiError(source, `the ${affineSource === 'pixdim' ? 'voxel sizes (pixdim)' : affineSource} transform holds non-finite values (${affineSource}_code ${affineSource === 'sform' ? sformCode : qformCode}): a damaged header`);
  }

  const units = h.xyzt_units;
  return {
    source,
    volume: new Tensor(out, nt > 1 ? [nt, nz, ny, nx] : [nz, ny, nx]),
    version,
    dims: nt > 1 ? [nx, ny, nz, nt] : [nx, ny, nz],
    pixdim,
    qfac,
    units: {
      space: SPACE_UNITS[(units & 0x07) as keyof typeof SPACE_UNITS] ?? 'unknown',
      time: TIME_UNITS[(units & 0x38) as keyof typeof TIME_UNITS] ?? 'unknown',
    },
    datatype: { code, name: dt.name },
    littleEndian: le,
    scaling: { slope, intercept: h.scl_inter, applied },
    qform: { code: qformCode, codeName: XFORM_NAMES[qformCode] ?? 'unknown', affine: qform },
    sform: { code: sformCode, codeName: XFORM_NAMES[sformCode] ?? 'unknown', affine: sform },
    affine,
    affineSource,
    intentCode: h.intent_code,
    ...(Number.isFinite(h.cal_min) && Number.isFinite(h.cal_max) && h.cal_max > h.cal_min ? { calRange: [h.cal_min, h.cal_max] as [number, number] } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Orientation and slices

/**
 * Axis codes of a voxel→world affine, nibabel's `aff2axcodes` for RAS+ world space: for each voxel axis
 * (i, j, k), the world direction it points to most ('R'/'L', 'A'/'P', 'S'/'I').
 */
export function axisCodes(affine: Affine): [string, string, string] {
  const perm = closestAxes(affine);
  const labels = [['L', 'R'], ['P', 'A'], ['I', 'S']] as const;
  return perm.map(({ world, sign }) => labels[world]![sign > 0 ? 1 : 0]!) as [string, string, string];
}

/** For each voxel axis, the world axis it is closest to and the sign, solving conflicts greedily by size. */
function closestAxes(affine: Affine): { world: number; sign: number }[] {
  // Normalised direction cosines of the voxel axes (columns of the 3×3 part).
  const cols = [0, 1, 2].map((c) => {
    const v = [affine[0]![c]!, affine[1]![c]!, affine[2]![c]!];
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  });
  const result: { world: number; sign: number }[] = [
    { world: -1, sign: 1 },
    { world: -1, sign: 1 },
    { world: -1, sign: 1 },
  ];
  const usedVoxel = new Set<number>();
  const usedWorld = new Set<number>();
  // assign the largest |cosine| first (nibabel's io_orientation does the same, on an SVD-orthogonalised matrix)
  const pairs: { c: number; w: number; v: number }[] = [];
  for (let c = 0; c < 3; c++) for (let w = 0; w < 3; w++) pairs.push({ c, w, v: cols[c]![w]! });
  pairs.sort((x, y) => Math.abs(y.v) - Math.abs(x.v));
  for (const p of pairs) {
    if (usedVoxel.has(p.c) || usedWorld.has(p.w)) continue;
    result[p.c] = { world: p.w, sign: p.v >= 0 ? 1 : -1 };
    usedVoxel.add(p.c);
    usedWorld.add(p.w);
  }
  return result;
}

/**
 * Reorders (permutes and flips) the voxel axes so that i → Right, j → Anterior, k → Superior, like
 * nibabel's `as_closest_canonical`; the affine is updated to match. Already-RAS volumes are returned as is.
 */
export function niftiToCanonical(vol: NiftiVolume): NiftiVolume {
  const axes = closestAxes(vol.affine);
  if (axes.every((a, i) => a.world === i && a.sign > 0)) return vol;
  const [nx, ny, nz] = vol.dims as [number, number, number];
  const nt = vol.dims[3] ?? 1;
  const srcDims = [nx, ny, nz];
  // for world axis w: which source voxel axis maps to it, and whether it is flipped
  const from = [0, 1, 2].map((w) => {
    const c = axes.findIndex((a) => a.world === w);
    return { axis: c, flip: axes[c]!.sign < 0 };
  });
  const newDims = from.map((f) => srcDims[f.axis]!);
  const [mx, my, mz] = newDims as [number, number, number];
  const src = vol.volume.data;
  const out = new Float32Array(src.length);
  const strides = [1, nx, nx * ny];
  const vox = nx * ny * nz;
  for (let t = 0; t < nt; t++) {
    for (let k = 0; k < mz; k++) {
      for (let j = 0; j < my; j++) {
        for (let i = 0; i < mx; i++) {
          const idx = [i, j, k];
          let s = t * vox;
          for (let w = 0; w < 3; w++) {
            const f = from[w]!;
            const n = srcDims[f.axis]!;
            s += (f.flip ? n - 1 - idx[w]! : idx[w]!) * strides[f.axis]!;
          }
          out[t * vox + (k * my + j) * mx + i] = src[s]!;
        }
      }
    }
  }
  // new affine: column w = ±old column from[w].axis; offset moves to the old index of the new origin
  const A = vol.affine;
  const affine: Affine = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]];
  for (let r = 0; r < 3; r++) {
    let off = A[r]![3]!;
    for (let w = 0; w < 3; w++) {
      const f = from[w]!;
      const col = A[r]![f.axis]!;
      affine[r]![w] = f.flip ? -col : col;
      if (f.flip) off += col * (srcDims[f.axis]! - 1);
    }
    affine[r]![3] = off;
  }
  const pixdim = [...vol.pixdim];
  for (let w = 0; w < 3; w++) pixdim[w] = vol.pixdim[from[w]!.axis]!;
  return {
    ...vol,
    volume: new Tensor(out, nt > 1 ? [nt, mz, my, mx] : [mz, my, mx]),
    dims: nt > 1 ? [mx, my, mz, nt] : [mx, my, mz],
    pixdim,
    affine,
    affineSource: vol.affineSource,
  };
}

/** Voxel axes ('i', 'j', 'k' = x, y, z of the file) or anatomical planes (after {@link niftiToCanonical}). */
export type SliceAxis = 'i' | 'j' | 'k' | 'sagittal' | 'coronal' | 'axial';

export interface SliceOptions {
  /** Volume index for 4-D data (default 0). */
  t?: number;
}

/**
 * The min and max of volume t (3-D), candor's default NIfTI scaling (min–max of the volume onto [0, 1],
 * the same for every slice); non-finite values are an error naming `source`.
 */
export function niftiRange(vol: NiftiVolume, t = 0, source = vol.source): [number, number] {
  const vox = vol.dims[0]! * vol.dims[1]! * vol.dims[2]!;
  const data = vol.volume.data.subarray(t * vox, (t + 1) * vox);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`${source}: the volume holds non-finite values (NaN or ±Inf)`);
  return [lo, hi];
}

/**
 * 2-D slices `[N, H, W]` of a volume, for 2-D models.
 *
 * Convention (the usual `imshow(data[:, :, k].T, origin='lower')` view of nibabel's `(x, y, z)` array,
 * i.e. `np.flipud(data[:, :, k].T)`):
 * - `'k'` fixes k: rows run along j with j increasing *upwards*, columns along i increasing to the right;
 * - `'j'` fixes j: rows along k (upwards), columns along i;
 * - `'i'` fixes i: rows along k (upwards), columns along j.
 * `'axial'`, `'coronal'` and `'sagittal'` first reorient to the closest RAS+ (so they are true anatomical
 * planes) and then take `'k'`, `'j'` and `'i'` slices: axial and coronal slices have the patient's right on
 * the image's right and anterior/superior up (neurological convention); sagittal slices have anterior on
 * the right and superior up. Flip columns for the radiological convention.
 * @param indices slice indices along the axis (default: all).
 */
/** The volume slices along `axis` are cut from: the file's voxel grid, or for planes its RAS+ reorientation (kept per volume). */
function sliceGrid(vol: NiftiVolume, axis: SliceAxis): NiftiVolume {
  if (axis !== 'axial' && axis !== 'coronal' && axis !== 'sagittal') return vol;
  let c = canonical.get(vol);
  if (!c) canonical.set(vol, (c = niftiToCanonical(vol)));
  return c;
}
const canonical = new WeakMap<NiftiVolume, NiftiVolume>();

/** How many slices the volume has along `axis` (after reorienting for anatomical planes). */
export function niftiSliceCount(vol: NiftiVolume, axis: SliceAxis): number {
  const a = axis === 'axial' || axis === 'k' ? 2 : axis === 'coronal' || axis === 'j' ? 1 : 0;
  return sliceGrid(vol, axis).dims[a]!;
}

export function niftiSlices(vol: NiftiVolume, axis: SliceAxis, indices?: readonly number[], opts: SliceOptions = {}): Tensor<Float32Array> {
  const v = sliceGrid(vol, axis);
  const a = axis === 'axial' || axis === 'k' ? 2 : axis === 'coronal' || axis === 'j' ? 1 : 0;
  const [nx, ny, nz] = v.dims as [number, number, number];
  const nt = v.dims[3] ?? 1;
  const t = opts.t ?? 0;
  if (!Number.isInteger(t) || t < 0 || t >= nt) throw new NiftiError(v.source, `volume index t = ${t} is out of range (0..${nt - 1})`);
  const count = [nx, ny, nz][a]!;
  const idx = indices ?? Array.from({ length: count }, (_, i) => i);
  for (const s of idx) {
    if (!Number.isInteger(s) || s < 0 || s >= count) throw new NiftiError(v.source, `slice ${s} is out of range for axis '${axis}' (0..${count - 1})`);
  }
  // (rows, cols) axes: rows run along `ra` (reversed), columns along `ca`
  const [ra, ca] = a === 2 ? [1, 0] : a === 1 ? [2, 0] : [2, 1];
  const size = [nx, ny, nz];
  const H = size[ra]!;
  const W = size[ca]!;
  const strides = [1, nx, nx * ny];
  const src = v.volume.data;
  const base = t * nx * ny * nz;
  const out = new Float32Array(idx.length * H * W);
  idx.forEach((s, n) => {
    for (let r = 0; r < H; r++) {
      const rv = H - 1 - r;
      for (let c = 0; c < W; c++) {
        out[(n * H + r) * W + c] = src[base + s * strides[a]! + rv * strides[ra]! + c * strides[ca]!]!;
      }
    }
  });
  return new Tensor(out, [idx.length, H, W]);
}
