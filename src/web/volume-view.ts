/**
 * The workbench's view of a volume (3-D models): three linked orthogonal planes through one voxel (the
 * cursor) — axial, coronal, sagittal in the radiological convention when the source has an affine (NIfTI,
 * DICOM series; viz/volume-views.ts layouts), the array axes otherwise — each with its slice slider and a
 * crosshair at the cursor; clicking a plane moves the cursor there, so the other two follow. The chosen map
 * is overlaid on every plane, normalised over the whole volume (the page's normalisation mode), so the three
 * planes share one colour scale. Each map exports as .npy [1,D,H,W] and as NIfTI on the source grid.
 */
import { encodeNpy } from '../io/npy.js';
import { Tensor } from '../tensor/tensor.js';
import { argmaxVoxel, cut, layouts, type Layout } from '../viz/volume-views.js';
import type { Affine } from '../io/nifti.js';
import { download, el, pixelCanvas } from './dom.js';
import { imageRgba, overlayRgba } from './render.js';
import { caption, rangesFor, ROW_LABELS } from './grid.js';
import { resultKey, type WorkbenchState } from './state.js';
import type { MapResult } from './protocol.js';

const CROSS: [number, number, number] = [255, 230, 0];

export interface VolumeViewHooks {
  /** Redraw after the cursor or the shown map changed. */
  redraw: () => void;
  /** The map back on the source grid as .nii.gz (the worker writes it). */
  exportNifti: (r: MapResult) => void;
}

/** The map shown: the one chosen, else the first of the trained model. */
export function shownMap(state: WorkbenchState): MapResult | undefined {
  const all = [...state.results.values()];
  return (state.volumeMap ? state.results.get(state.volumeMap) : undefined) ?? all.find((r) => r.variant === 'original') ?? all[0];
}

/** Draw a crosshair (one row and one column) into RGBA pixels. */
function crosshair(rgba: Uint8ClampedArray, w: number, h: number, row: number, col: number): void {
  const put = (p: number) => rgba.set([...CROSS, 255], 4 * p);
  for (let c = 0; c < w; c++) if (Math.abs(c - col) > 1) put(row * w + c);
  for (let r = 0; r < h; r++) if (Math.abs(r - row) > 1) put(r * w + col);
}

/** Row and column of voxel `at` in a view. */
function rowCol(L: Layout, spatial: readonly number[], at: readonly number[]): [number, number] {
  const R = spatial[L.row]!;
  const C = spatial[L.col]!;
  return [L.flipRow ? R - 1 - at[L.row]! : at[L.row]!, L.flipCol ? C - 1 - at[L.col]! : at[L.col]!];
}

/** 'LEFT R TOP A' → 'left edge R, top A'; 'ROWS 1 COLS 2' → 'rows along axis 1, columns along axis 2'. */
function edgesText(edges: string): string {
  const a = /^LEFT (\w) TOP (\w)$/.exec(edges);
  if (a) return `left edge ${a[1]}, top ${a[2]}`;
  const b = /^ROWS (\d) COLS (\d)$/.exec(edges);
  return b ? `rows along axis ${b[1]}, columns along axis ${b[2]}` : edges;
}

export function renderVolume(root: HTMLElement, state: WorkbenchState, hooks: VolumeViewHooks): void {
  const p = state.prepared!;
  const spatial = [p.depth!, p.height, p.width];
  const vox = spatial[0]! * spatial[1]! * spatial[2]!;
  if (!state.cursor || state.cursor.length !== 3 || state.cursor.some((v, a) => v >= spatial[a]!)) state.cursor = spatial.map((n) => Math.floor(n / 2));
  const at = state.cursor;
  const g = { spatial: spatial as [number, number, number], spacing: p.spacing, affine: p.affine as Affine | undefined };
  const views = layouts(g);
  const image = p.display.subarray(0, vox); // channel 0
  const r = shownMap(state);
  const range = r ? rangesFor(state).get(r) : undefined;
  const { alpha, colormap, diverging } = state.display;
  const sp = p.spacing ?? [1, 1, 1];

  const figures = views.map((L) => {
    const R = spatial[L.row]!;
    const C = spatial[L.col]!;
    const F = spatial[L.fixed]!;
    const plane = cut(image, spatial, L, at[L.fixed]!);
    const rgba = r && range ? overlayRgba(plane, 1, cut(r.map, spatial, L, at[L.fixed]!), range, r.signed ? diverging : colormap, alpha) : imageRgba(plane, 1, R * C);
    const [row, col] = rowCol(L, spatial, at);
    crosshair(rgba, C, R, row, col);
    const canvas = pixelCanvas(rgba, C, R);
    canvas.dataset.plane = L.plane;
    // physical aspect: rows × spacing along the row axis, columns × spacing along the column axis
    const hMm = R * sp[L.row]!;
    const wMm = C * sp[L.col]!;
    const k = 240 / Math.max(hMm, wMm);
    canvas.style.width = `${Math.round(wMm * k)}px`;
    canvas.style.height = `${Math.round(hMm * k)}px`;
    canvas.addEventListener('click', (e) => {
      const rc = Math.min(R - 1, Math.max(0, Math.floor((e.offsetY / canvas.clientHeight) * R)));
      const cc = Math.min(C - 1, Math.max(0, Math.floor((e.offsetX / canvas.clientWidth) * C)));
      at[L.row] = L.flipRow ? R - 1 - rc : rc;
      at[L.col] = L.flipCol ? C - 1 - cc : cc;
      hooks.redraw();
    });
    const slider = el('input', { type: 'range', min: 0, max: F - 1, step: 1, value: at[L.fixed]!, 'data-plane': L.plane, 'aria-label': `${L.plane} slice` });
    slider.addEventListener('input', () => {
      at[L.fixed] = Number(slider.value);
      hooks.redraw();
    });
    const what = g.affine ? `${L.plane} ${at[L.fixed]} of 0–${F - 1}` : `${L.plane} = ${at[L.fixed]} of 0–${F - 1}`;
    return el('figure', { class: 'plane', 'data-plane': L.plane }, canvas, slider, el('figcaption', {}, `${what} · ${edgesText(L.edges)}`));
  });

  const select = el('select', { id: 'volume-map', 'aria-label': 'map shown' });
  select.append(el('option', { value: '' }, r ? 'choose the map shown' : 'no map yet (Explain)'));
  for (const m of state.results.values()) {
    const key = resultKey(m.variant, m.method);
    select.append(el('option', { value: key, selected: m === r }, `${m.method} — ${ROW_LABELS[m.variant]}`));
  }
  select.addEventListener('change', () => {
    state.volumeMap = select.value || undefined;
    hooks.redraw();
  });
  const toMax = el('button', { type: 'button', id: 'volume-max', disabled: !r }, "to the map's maximum");
  toMax.addEventListener('click', () => {
    if (!r) return;
    state.cursor = argmaxVoxel(r.map, spatial, r.signed);
    hooks.redraw();
  });
  const links: (Node | string)[] = [];
  if (r) {
    const npy = el('a', { href: '#', class: 'npy' }, '.npy');
    npy.addEventListener('click', (e) => {
      e.preventDefault();
      download(encodeNpy(new Tensor(Float32Array.from(r.map), [1, ...spatial])), `${r.variant}_${r.method}.npy`);
    });
    const nii = el('a', { href: '#', class: 'nifti', id: 'volume-nifti' }, '.nii.gz');
    nii.addEventListener('click', (e) => {
      e.preventDefault();
      hooks.exportNifti(r);
    });
    links.push(caption(state, r), ' · ', npy, ' · ', nii, ' (on the source grid, with its affine)');
  }
  const info = `volume as the model sees it: ${spatial.join('×')} voxels of ${sp.map((v) => +v.toFixed(2)).join(' × ')} mm; cursor at voxel (${at.join(', ')})${g.affine ? '; radiological convention (patient right on the left)' : '; no affine: planes are array axes'}`;
  root.replaceChildren(
    el('div', { class: 'volume-controls' }, select, ' ', toMax, ' ', ...links),
    el('div', { class: 'gridrow volume', 'data-variant': r?.variant ?? 'none' }, ...figures),
    el('div', { class: 'info', id: 'volume-info' }, info),
  );
}
