/**
 * `candor synth-volumes`: write the seeded CT-like volumes with planted lesions (data/lesion-volumes.ts) as a
 * MedMNIST-3D-style `.npz` (`<split>_images` [N, D, H, W] uint8 in a lung window, `<split>_labels` [N, 1],
 * `<split>_masks` [N, D, H, W] 0/1; a stratified 70/15/15 split), and with `--nifti DIR` also as NIfTI files
 * (HU, float32, with the grid's affine), their lesion masks, a labels.csv (file,label) and a masks.csv (file,mask).
 * With `--slices`, the 2-D counterpart: one axial slice per volume — through the nodule's centre, and for a volume
 * without one at a depth drawn from the positives' (so the slice position tells nothing about the class) — as a
 * MedMNIST-2D-style `.npz` (`<split>_images` [N, H, W], `<split>_masks` [N, H, W]): ground truth for 2-D models and
 * the localisation benchmark (`candor audit --masks masks`).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic, writeNpzFileSync } from '../io/files.js';
import { niftiBytes } from '../io/nifti-write.js';
import { lesionAffine, lesionVolumes, windowToUint8 } from '../data/lesion-volumes.js';
import { parse, parseIntArg, required, UsageError } from './args.js';
import { Rng } from '../tensor/rng.js';

/**
 * The axial slice (array axis 0) of each volume for --slices: through the nodule's centre, or for a volume without
 * one a depth drawn (seeded) from the nodules' depths, so the position of the slice says nothing about the class.
 */
export function slicePlanes(g: { lesions: readonly ({ centre: readonly number[] } | null)[]; size: readonly number[] }, seed: number): number[] {
  const depths = g.lesions.filter((l) => l !== null).map((l) => Math.round(l!.centre[0]!));
  const rng = new Rng(seed).fork('slices');
  const mid = Math.floor(g.size[0]! / 2);
  return g.lesions.map((l) => Math.min(g.size[0]! - 1, Math.max(0, l ? Math.round(l.centre[0]!) : depths.length ? depths[rng.int(depths.length)]! : mid)));
}

export const SYNTH_USAGE = `usage: candor synth-volumes --out data.npz [--count 300] [--size 32] [--seed 0] [--nifti DIR | --slices] [--force]

Seeded CT-like chest volumes (air, body, fat rim, lungs, spine; Hounsfield units) of size³ voxels (2.5 × 1.5 × 1.5 mm),
half of them with a planted lung nodule (radius size/16 to size/8 voxels, at least 1); label 1 = nodule. Written as a MedMNIST-3D-style
.npz (train/val/test 70/15/15, stratified; images uint8 in a lung window, centre −600, width 1500; masks 0/1) that
candor explain and train read; --nifti DIR also writes DIR/vol_<i>.nii.gz (HU), DIR/mask_<i>.nii.gz, DIR/labels.csv (file,label: candor train/audit --data DIR/labels.csv reads
them as volumes for a 3-D model; the split is then candor's own seeded 70/15/15) and DIR/masks.csv (file,mask: --region masks).
--slices writes 2-D images instead: each volume's axial slice through its nodule's centre (volumes without one: a slice at a
depth drawn from the nodules' depths), [N, size, size] with masks — a MedMNIST-2D-style .npz for a 2-D model, with ground
truth for candor audit --masks masks.`;

export async function synthCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { out: { type: 'string' }, count: { type: 'string' }, size: { type: 'string' }, seed: { type: 'string' }, nifti: { type: 'string' }, slices: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, SYNTH_USAGE);
  if (values.help) return void console.log(SYNTH_USAGE);
  const out = required(values.out, '--out', SYNTH_USAGE);
  if (!/\.npz$/i.test(out)) throw new UsageError(`--out must name a .npz file, got '${out}'`);
  if (existsSync(out) && !values.force) throw new UsageError(`${out} exists; use --force to replace it`);
  const count = parseIntArg(values.count, '--count', 300);
  const size = parseIntArg(values.size, '--size', 32);
  if (count < 10) throw new UsageError(`--count must be at least 10 (three splits of both classes), got ${count}`);
  if (size < 12 || size > 128) throw new UsageError(`--size must be 12..128 voxels, got ${size}`);
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got '${values.seed}'`);
  if (values.slices && values.nifti) throw new UsageError('--slices writes 2-D images into the .npz; --nifti writes volumes: choose one');
  const g = lesionVolumes({ count, size: [size, size, size], seed });
  const bytes = windowToUint8(g.volumes);
  const planes = values.slices ? slicePlanes(g, seed) : undefined;
  const vox = planes ? size * size : size ** 3;
  const item = planes ? [size, size] : [size, size, size];
  // volume i's data (its slice, with --slices) in the .npz
  const part = <T extends Uint8Array>(a: T, i: number): T => (planes ? (a.subarray((i * size + planes[i]!) * vox, (i * size + planes[i]! + 1) * vox) as T) : (a.subarray(i * vox, (i + 1) * vox) as T));
  // stratified split: per class, the first 70 % train, next 15 % val, rest test (labels are already shuffled)
  const split = new Array<'train' | 'val' | 'test'>(count);
  for (const cls of [0, 1]) {
    const idx = [...g.labels.keys()].filter((i) => g.labels[i] === cls);
    idx.forEach((i, k) => (split[i] = k < Math.round(idx.length * 0.7) ? 'train' : k < Math.round(idx.length * 0.85) ? 'val' : 'test'));
  }
  const entries: Record<string, Tensor<Uint8Array>> = {};
  for (const s of ['train', 'val', 'test'] as const) {
    const rows = [...g.labels.keys()].filter((i) => split[i] === s);
    const img = new Uint8Array(rows.length * vox);
    const msk = new Uint8Array(rows.length * vox);
    rows.forEach((i, r) => {
      img.set(part(bytes, i), r * vox);
      msk.set(part(g.masks, i), r * vox);
    });
    entries[`${s}_images`] = new Tensor(img, [rows.length, ...item]);
    entries[`${s}_labels`] = new Tensor(Uint8Array.from(rows.map((i) => g.labels[i]!)), [rows.length, 1]);
    entries[`${s}_masks`] = new Tensor(msk, [rows.length, ...item]);
  }
  // the grid's orientation, for the array axes (0, 1, 2) = (z, y, x): lesionAffine's NIfTI columns (i = x, j = y, k = z) reversed
  const nif = lesionAffine(g.size, g.spacing);
  const arrayAffine = nif.map((row) => [row[2]!, row[1]!, row[0]!, row[3]!]);
  writeNpzFileSync(out, planes ? entries : { ...entries, affine: new Tensor(Float64Array.from(arrayAffine.flat()), [4, 4]) as unknown as Tensor<Uint8Array> });
  const pos = g.labels.reduce((a, b) => a + b, 0);
  const what = planes ? `axial slices of ${size}×${size} pixels, one per volume` : `volumes of ${size}³ voxels`;
  console.log(`${out}: ${count} ${what} (${pos} with a nodule), seed ${seed}; splits ${['train', 'val', 'test'].map((s) => `${s} ${entries[`${s}_labels`]!.shape[0]}`).join(', ')}`);
  if (values.nifti) {
    const dir = values.nifti;
    mkdirSync(dir, { recursive: true });
    const affine = lesionAffine(g.size, g.spacing);
    // labels.csv in candor's file,label form (train, audit and explain read it); masks.csv pairs each volume with its lesion mask (--region masks)
    const labels = ['file,label'];
    const masks = ['file,mask'];
    for (let i = 0; i < count; i++) {
      await writeFileAtomic(join(dir, `vol_${i}.nii.gz`), niftiBytes(g.volumes.slice(i * vox, (i + 1) * vox), [size, size, size], affine, { gzip: true, description: 'candor synthetic CT (HU)' }));
      await writeFileAtomic(join(dir, `mask_${i}.nii.gz`), niftiBytes(Float32Array.from(g.masks.subarray(i * vox, (i + 1) * vox)), [size, size, size], affine, { gzip: true, description: 'candor lesion mask' }));
      labels.push(`vol_${i}.nii.gz,${g.labels[i]}`);
      masks.push(`vol_${i}.nii.gz,mask_${i}.nii.gz`);
    }
    await writeFileAtomic(join(dir, 'labels.csv'), new TextEncoder().encode(labels.join('\n') + '\n'));
    await writeFileAtomic(join(dir, 'masks.csv'), new TextEncoder().encode(masks.join('\n') + '\n'));
    console.log(`${dir}: ${count} volumes and their masks (NIfTI, HU, RAS+ affine), labels.csv (file,label) and masks.csv (file,mask)`);
  }
}
