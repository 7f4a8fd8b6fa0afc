/**
 * What `candor explain` writes for a volume (3-D model) besides `<method>.npy` [N,D,H,W]:
 *  - `<method>_<i>.png`: the volume's three orthogonal planes through the map's maximum and the MIP
 *    (viz/volume-views.ts; radiological convention and edge labels when the source has an affine);
 *  - `<method>_<i>.nii.gz`: for NIfTI sources, the map resampled back onto the source's voxel grid and
 *    written with the source's affine (io/nifti-write.ts), so it overlays the scan in ITK-SNAP, 3D Slicer
 *    or NiiVue; with --voxel-order ras, on the RAS+ reorientation of that grid, with its affine.
 * The grid figure shows each volume's MIP with every method's MIP beside it.
 */
import type { DisplayRange } from '../viz/display-scale.js';
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from '../io/files.js';
import { affineOnGrid, mapNifti } from '../data/volume.js';
import type { GridOptions, GridPanel, GridRow } from '../viz/grid.js';
import { gridSvg } from '../viz/grid-svg.js';
import { svgToPng } from '../viz/rasterize.js';
import { volumeViews, type VolumeGeometry } from '../viz/volume-views.js';
import type { VolumeBatch } from './volume-input.js';


/** Geometry of volume i as the model saw it: its grid, resampled spacing and (NIfTI) orientation. */
export function geometryOf(batch: VolumeBatch, i: number): VolumeGeometry {
  const spatial = batch.x.shape.slice(2) as [number, number, number];
  const s = batch.volumes[i];
  if (!s) return { spatial, spacing: batch.spacing[i] };
  const aff = affineOnGrid(s, spatial);
  return { spatial, spacing: batch.spacing[i], affine: aff };
}

/** Channel 0 of display volume i, [D·H·W]. */
function firstChannel(batch: VolumeBatch, i: number): Float32Array {
  const [, c, ...sp] = batch.display.shape as number[];
  const vox = sp.reduce((a, b) => a * b, 1);
  return batch.display.data.subarray(i * c! * vox, i * c! * vox + vox) as Float32Array;
}

/** The four-view figure of one method's map of volume i. */
export function volumeFigure(batch: VolumeBatch, i: number, map: Float32Array, signed: boolean, title: string[], viz: GridOptions): Uint8Array {
  const views = volumeViews(firstChannel(batch, i), map, geometryOf(batch, i), signed);
  const rows: GridRow[] = views.map((v, k) => ({ image: v.image, title: k === 0 ? [...title, ...v.title] : v.title, panels: [{ map: v.map, signed, title: [v.plane] }] }));
  return svgToPng(gridSvg(rows, viz));
}

/** One grid row per volume: its MIP, and each method's MIP (panels: method, map, signed, titles). */
export function volumeGridRow(batch: VolumeBatch, i: number, title: string[], panels: { map: Float32Array; signed: boolean; title: string[]; range?: DisplayRange }[]): GridRow {
  const g = geometryOf(batch, i);
  const img = firstChannel(batch, i);
  const out: GridPanel[] = panels.map((p) => {
    const mip = volumeViews(img, p.map, g, p.signed)[3]!;
    return { map: mip.map, signed: p.signed, title: p.title, range: p.range };
  });
  const base = volumeViews(img, panels[0]?.map ?? new Float32Array(img.length), g, false)[3]!;
  return { image: base.image, title: [...title, base.title[0]!], panels: out };
}

/** Write `<key>_<i>.nii.gz` for every NIfTI-sourced volume; returns the files written. */
export async function writeVolumeNifti(out: string, key: string, batch: VolumeBatch, map: Tensor, method: string): Promise<string[]> {
  const grid = map.shape.slice(1);
  const vox = grid.reduce((a, b) => a * b, 1);
  const files: string[] = [];
  for (let i = 0; i < batch.volumes.length; i++) {
    const s = batch.volumes[i];
    if (!s) continue;
    const name = `${key}_${i}.nii.gz`;
    await writeFileAtomic(join(out, name), mapNifti(map.data.slice(i * vox, (i + 1) * vox) as Float32Array, grid, s, `candor ${method} map`));
    files.push(name);
  }
  return files;
}
