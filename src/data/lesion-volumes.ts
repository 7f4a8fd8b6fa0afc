/**
 * A seeded generator of CT-like chest volumes with planted lesions and their ground-truth masks: data for 3-D
 * models where no openly licensed 3-D set can be installed here (none of MedMNIST's 3-D sets is on the npm or
 * Debian registries this machine reaches), and the localisation ground truth of the audit's region tests.
 *
 * Each volume (extent D × H × W, voxels of `spacing` mm, values in Hounsfield units):
 *   - air (−1000) outside an elliptic body cylinder of soft tissue (40 ± 10 HU), with a subcutaneous fat rim
 *     (−100 HU) 1.5 voxels thick;
 *   - two lungs (−850 HU), ellipsoids left and right of the midline, with faint vessel-like streaks;
 *   - a spine (bone, 700 HU) posterior in the midline, a cylinder along z;
 *   - for the positive class, one lesion: a solid nodule (35 HU) of radius `radius` (a uniform draw in
 *     [rmin, rmax] voxels, by default 1/16 to 1/8 of the in-plane size, slightly ellipsoidal, its surface softened over one voxel), centred at a random point
 *     inside a lung at least its radius from the lung's edge; its mask is the voxels the nodule covers by half
 *     or more;
 *   - Gaussian noise (σ = `noise` HU, default 20), then (optionally) a blur of the whole volume.
 * Negatives have no lesion (their mask is empty). Labels: 1 = lesion, 0 = none; balanced, shuffled, seeded.
 * Arrays are [N, D, H, W] with axis 0 = z (inferior → superior), 1 = y (anterior → posterior), 2 = x (patient
 * right → left): the voxel grid of a supine axial CT as DICOM stores it (LPS), whose affine `lesionAffine`
 * gives. Everything is reproducible from the seed (xoshiro, tensor/rng.ts).
 */
import { Rng } from '../tensor/rng.js';
import type { Affine } from '../io/nifti.js';

export interface LesionVolumeOptions {
  count: number;
  /** Extent [D, H, W] (default [32, 32, 32]). */
  size?: readonly [number, number, number];
  /** Voxel size in mm [z, y, x] (default [2.5, 1.5, 1.5]). */
  spacing?: readonly [number, number, number];
  /** Lesion radius range in voxels (default: 1/16 to 1/8 of the shorter in-plane side, at least 1: [2, 4] at 32). */
  radius?: readonly [number, number];
  /** Noise σ in HU (default 20). */
  noise?: number;
  /** Share of volumes with a lesion (default 0.5). */
  positive?: number;
  seed?: number;
}

export interface LesionVolumes {
  /** [N·D·H·W] HU. */
  volumes: Float32Array;
  /** [N·D·H·W] 1 inside the lesion. */
  masks: Uint8Array;
  labels: Int32Array;
  size: [number, number, number];
  spacing: [number, number, number];
  /** Per volume: the lesion's centre [z, y, x] and radius (voxels), or null. */
  lesions: ({ centre: [number, number, number]; radius: number } | null)[];
}

/** The voxel → world (RAS+, mm) affine of the generated grid: x toward the patient's left, y posterior, z superior. */
export function lesionAffine(size: readonly number[], spacing: readonly number[]): Affine {
  const [D, H, W] = size as [number, number, number];
  const [sz, sy, sx] = spacing as [number, number, number];
  // NIfTI voxel (i = x, j = y, k = z): RAS x = −(LPS x), y = −(LPS y)
  return [[-sx, 0, 0, (sx * (W - 1)) / 2], [0, -sy, 0, (sy * (H - 1)) / 2], [0, 0, sz, (-sz * (D - 1)) / 2], [0, 0, 0, 1]];
}

export function lesionVolumes(opts: LesionVolumeOptions): LesionVolumes {
  const [D, H, W] = (opts.size ?? [32, 32, 32]) as [number, number, number];
  const spacing = [...(opts.spacing ?? [2.5, 1.5, 1.5])] as [number, number, number];
  const side = Math.min(H, W);
  const [rmin, rmax] = opts.radius ?? [Math.max(1, side / 16), Math.max(1, side / 8)];
  const noise = opts.noise ?? 20;
  const n = opts.count;
  if (!Number.isInteger(n) || n < 1) throw new Error(`lesionVolumes: count must be a positive integer, got ${n}`);
  if (Math.min(D, H, W) < 12) throw new Error(`lesionVolumes: each axis needs at least 12 voxels, got ${D}×${H}×${W}`);
  if (!(rmin >= 1 && rmax >= rmin && rmax <= Math.min(H, W) / 6)) throw new Error(`lesionVolumes: radius range [${rmin}, ${rmax}] must lie within [1, ${Math.min(H, W) / 6}] voxels`);
  const rng = new Rng(opts.seed ?? 0).fork('lesion-volumes');
  const vox = D * H * W;
  const volumes = new Float32Array(n * vox);
  const masks = new Uint8Array(n * vox);
  const positives = Math.round(n * (opts.positive ?? 0.5));
  const labels = Int32Array.from({ length: n }, (_, i) => (i < positives ? 1 : 0));
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [labels[i], labels[j]] = [labels[j]!, labels[i]!];
  }
  const lesions: LesionVolumes['lesions'] = [];
  for (let v = 0; v < n; v++) {
    const r = rng.fork(v);
    const body = { cy: H / 2 + r.uniform(-1, 1), cx: W / 2 + r.uniform(-1, 1), ry: H * r.uniform(0.36, 0.42), rx: W * r.uniform(0.42, 0.47) };
    const lungs = [-1, 1].map((side) => ({ cz: D / 2 + r.uniform(-1, 1), cy: body.cy - H * 0.03, cx: body.cx + side * W * r.uniform(0.17, 0.2), rz: D * r.uniform(0.38, 0.45), ry: H * r.uniform(0.24, 0.28), rx: W * r.uniform(0.13, 0.16) }));
    const spine = { cy: body.cy + body.ry * 0.72, cx: body.cx, r: Math.min(H, W) * 0.07 };
    const streak = r.uniform(0, Math.PI);
    const out = volumes.subarray(v * vox, (v + 1) * vox);
    for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const q = (z * H + y) * W + x;
      const e = ((y - body.cy) / body.ry) ** 2 + ((x - body.cx) / body.rx) ** 2;
      let hu = -1000;
      if (e <= 1) {
        const rim = (1 - Math.sqrt(e)) * Math.min(body.ry, body.rx);
        hu = rim < 1.5 ? -100 : 40;
        for (const L of lungs) {
          const l = ((z - L.cz) / L.rz) ** 2 + ((y - L.cy) / L.ry) ** 2 + ((x - L.cx) / L.rx) ** 2;
          if (l <= 1) hu = -850 + 60 * Math.max(0, Math.sin(0.9 * (x * Math.cos(streak) + y * Math.sin(streak)) + z * 0.3)) ** 8;
        }
        if ((y - spine.cy) ** 2 + (x - spine.cx) ** 2 <= spine.r ** 2) hu = 700;
      }
      out[q] = hu;
    }
    let lesion: LesionVolumes['lesions'][number] = null;
    if (labels[v] === 1) {
      const rad = r.uniform(rmin, rmax);
      const stretch = [r.uniform(0.85, 1.15), r.uniform(0.85, 1.15), r.uniform(0.85, 1.15)];
      const L = lungs[r.int(2)]!;
      // a centre inside the lung, at least `rad` voxels from its surface (rejection sampling on the shrunk ellipsoid)
      let c: [number, number, number] = [L.cz, L.cy, L.cx];
      for (let t = 0; t < 200; t++) {
        const p: [number, number, number] = [L.cz + r.uniform(-1, 1) * (L.rz - rad), L.cy + r.uniform(-1, 1) * (L.ry - rad), L.cx + r.uniform(-1, 1) * (L.rx - rad)];
        if (((p[0] - L.cz) / Math.max(1, L.rz - rad)) ** 2 + ((p[1] - L.cy) / Math.max(1, L.ry - rad)) ** 2 + ((p[2] - L.cx) / Math.max(1, L.rx - rad)) ** 2 <= 1) {
          c = p;
          break;
        }
      }
      const m = masks.subarray(v * vox, (v + 1) * vox);
      for (let z = Math.max(0, Math.floor(c[0] - 2 * rad)); z <= Math.min(D - 1, Math.ceil(c[0] + 2 * rad)); z++) {
        for (let y = Math.max(0, Math.floor(c[1] - 2 * rad)); y <= Math.min(H - 1, Math.ceil(c[1] + 2 * rad)); y++) {
          for (let x = Math.max(0, Math.floor(c[2] - 2 * rad)); x <= Math.min(W - 1, Math.ceil(c[2] + 2 * rad)); x++) {
            const d = Math.sqrt(((z - c[0]) / stretch[0]!) ** 2 + ((y - c[1]) / stretch[1]!) ** 2 + ((x - c[2]) / stretch[2]!) ** 2);
            const cover = Math.min(1, Math.max(0, rad + 0.5 - d)); // 1 inside, 0 outside, linear over one voxel
            if (cover <= 0) continue;
            const q = (z * H + y) * W + x;
            out[q] = out[q]! * (1 - cover) + 35 * cover;
            if (cover >= 0.5) m[q] = 1;
          }
        }
      }
      lesion = { centre: c, radius: rad };
    }
    lesions.push(lesion);
    for (let q = 0; q < vox; q++) out[q]! += noise * r.normal();
  }
  return { volumes, masks, labels, size: [D, H, W], spacing, lesions };
}

/** HU → uint8 with a window (default lung window, centre −600, width 1500), as MedMNIST stores its volumes. */
export function windowToUint8(hu: Float32Array, centre = -600, width = 1500): Uint8Array {
  const lo = centre - width / 2;
  const out = new Uint8Array(hu.length);
  for (let q = 0; q < hu.length; q++) out[q] = Math.round(Math.min(1, Math.max(0, (hu[q]! - lo) / width)) * 255);
  return out;
}
