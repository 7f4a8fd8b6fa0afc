/** The grid of overlays: one row per model variant, the image then one panel per method. */
import { encodeNpy } from '../io/npy.js';
import { Tensor } from '../tensor/tensor.js';
import { download, el, pixelCanvas } from './dom.js';
import { absolute, DEFAULT_CLIP, displayRanges, imageRgba, overlayRgba, spearman, type DisplayRange } from './render.js';
import { applyColormap, getColormap } from '../viz/colormap.js';
import { resultKey, resultRows, shownMaps, type PinnedRow, type WorkbenchState } from './state.js';
import type { MapResult, Variant } from './protocol.js';

export const ROW_LABELS = { original: 'Trained model', randomized: 'Randomized weights (sanity check)' } as const;

/** Each shown map (kept rows included) with its display range under the current normalisation mode. */
export function rangesFor(state: WorkbenchState): Map<MapResult, DisplayRange> {
  const all = shownMaps(state);
  const ranges = displayRanges(all, state.display.norm);
  return new Map(all.map((m, i) => [m, ranges[i]!]));
}

/** Caption text of a panel: method, target class, time (on screen; not in the exported figure), diagnostics, and ρ against the original. */
export function caption(state: WorkbenchState, r: MapResult, opts: { timing?: boolean } = {}): string {
  const cls = state.model?.classNames[r.target] ?? `class ${r.target}`;
  const parts = [`${r.method} → ${cls}`];
  if (opts.timing !== false) parts.push(`${r.ms < 1000 ? r.ms.toFixed(0) + ' ms' : (r.ms / 1000).toFixed(1) + ' s'}`);
  if (r.extra.delta !== undefined) parts.push(`δ ${r.extra.delta.toExponential(1)}`);
  if (r.variant === 'randomized') {
    const o = state.results.get(resultKey('original', r.method));
    if (o) {
      const rho = spearman(absolute(o.map), absolute(r.map));
      parts.push(Number.isNaN(rho) ? 'ρ undefined (a constant map)' : `ρ(|orig|,|rand|) ${rho.toFixed(2)}`);
    }
  }
  return parts.join(' · ');
}

/** What names the current image's rows beside kept ones: the model and the image (with its true label). */
export function currentNames(state: WorkbenchState): { prefix: string; inputCaption: string } {
  const img = state.images.find((i) => i.id === state.current);
  const truth = state.current !== undefined ? state.trueLabels.get(state.current) : undefined;
  const image = `${img?.name ?? 'image'}${truth !== undefined ? ` (true: ${truth})` : ''}`;
  return { prefix: `${state.model?.name ?? 'model'} · ${image} — `, inputCaption: image };
}

/** A row's label: the model variant and its prediction with its probability. */
export function rowLabel(state: WorkbenchState, variant: Variant): string {
  const p = state.predictions[variant];
  if (!p) return ROW_LABELS[variant];
  const cls = state.model?.classNames[p.predicted] ?? `class ${p.predicted}`;
  return `${ROW_LABELS[variant]}: predicts ${cls} (p = ${p.probabilities[p.predicted]!.toFixed(2)})`;
}

/** The colorbars of the maps shown: one per colormap, with what its ends mean under the normalisation. */
export function colorbars(state: WorkbenchState): { colormap: string; signed: boolean; labels: [string, number][]; note: string }[] {
  const shown = shownMaps(state);
  const { colormap, diverging, norm } = state.display;
  const scope = norm === 'map' ? 'each map on its own range' : norm === 'method' ? `one range per method across the ${state.pinned.length ? 'rows' : 'models'}` : 'one range for all maps shown';
  const note = `${scope}; values holding the top ${100 - DEFAULT_CLIP} % of the attribution mass saturate (P${DEFAULT_CLIP})`;
  const out: ReturnType<typeof colorbars> = [];
  for (const signed of [false, true]) {
    if (!shown.some((m) => m.signed === signed)) continue;
    out.push({ colormap: signed ? diverging : colormap, signed, labels: signed ? [[`−P${DEFAULT_CLIP}`, 0], ['0', 0.5], [`+P${DEFAULT_CLIP}`, 1]] : [['min', 0], [`P${DEFAULT_CLIP}`, 1]], note });
  }
  return out;
}

/** RGBA of a colormap as a width×1 strip. */
export function colorbarRgba(colormap: string, width: number): Uint8ClampedArray {
  const rgb = applyColormap(Float32Array.from({ length: width }, (_, i) => i / Math.max(1, width - 1)), getColormap(colormap));
  const out = new Uint8ClampedArray(4 * width);
  for (let i = 0; i < width; i++) {
    for (let k = 0; k < 3; k++) out[4 * i + k] = Math.round(rgb[k * width + i]! * 255);
    out[4 * i + 3] = 255;
  }
  return out;
}

/** A kept row: its own input and maps, its label, a button that removes it. */
function pinnedRow(state: WorkbenchState, row: PinnedRow, ranges: Map<MapResult, DisplayRange>, onRemove: (id: number) => void): HTMLElement {
  const p = row.prepared;
  const { alpha, colormap, diverging } = state.display;
  const imageFig = el('figure', {}, pixelCanvas(imageRgba(p.display, p.channels, p.height * p.width), p.width, p.height), el('figcaption', {}, row.inputCaption));
  const panels = row.maps.map((r, j) => {
    const canvas = pixelCanvas(overlayRgba(p.display, p.channels, r.map, ranges.get(r)!, r.signed ? diverging : colormap, alpha), r.width, r.height);
    canvas.dataset.method = r.method;
    canvas.dataset.pinned = String(row.id);
    return el('figure', { 'data-method': r.method, 'data-pinned': String(row.id) }, canvas, el('figcaption', {}, row.captions[j]!));
  });
  const remove = el('button', { type: 'button', class: 'unpin', title: 'Remove this row from the comparison' }, '✕');
  remove.addEventListener('click', () => onRemove(row.id));
  return el('div', { class: 'gridrow pinned', 'data-pinned': String(row.id) }, el('div', { class: 'rowlabel' }, row.label, ' ', remove), imageFig, ...panels);
}

export function renderGrid(root: HTMLElement, state: WorkbenchState, onRemove: (id: number) => void = () => {}): void {
  const p = state.prepared;
  if (!p) {
    const ranges = rangesFor(state);
    root.replaceChildren(...state.pinned.map((row) => pinnedRow(state, row, ranges, onRemove)));
    return;
  }
  const n = p.height * p.width;
  const ranges = rangesFor(state);
  const { alpha, colormap, diverging } = state.display;
  const rows = resultRows(state).map(({ variant, maps }) => {
    const truth = state.current !== undefined ? state.trueLabels.get(state.current) : undefined;
    const imageFig = el('figure', {}, pixelCanvas(imageRgba(p.display, p.channels, n), p.width, p.height), el('figcaption', {}, truth !== undefined ? `input (true: ${truth})` : 'input'));
    const panels = maps.map((r) => {
      const rgba = overlayRgba(p.display, p.channels, r.map, ranges.get(r)!, r.signed ? diverging : colormap, alpha);
      const canvas = pixelCanvas(rgba, r.width, r.height);
      canvas.dataset.method = r.method;
      canvas.dataset.variant = r.variant;
      const npy = el('a', { href: '#', class: 'npy' }, '.npy');
      npy.addEventListener('click', (e) => {
        e.preventDefault();
        download(encodeNpy(new Tensor(Float32Array.from(r.map), [1, r.height, r.width])), `${r.variant}_${r.method}.npy`);
      });
      return el('figure', { 'data-method': r.method, 'data-variant': r.variant }, canvas, el('figcaption', {}, caption(state, r), ' ', npy));
    });
    const prefix = state.pinned.length ? currentNames(state).prefix : '';
    return el('div', { class: 'gridrow', 'data-variant': variant }, el('div', { class: 'rowlabel' }, prefix + rowLabel(state, variant)), imageFig, ...panels);
  });
  const bars = colorbars(state).map((b) => {
    const strip = pixelCanvas(colorbarRgba(b.colormap, 256), 256, 1);
    strip.classList.add('colorbar');
    const ticks = el('div', { class: 'ticks' }, ...b.labels.map(([t]) => el('span', {}, t)));
    return el('figure', { class: 'colorbar', 'data-colormap': b.colormap }, strip, ticks, el('figcaption', {}, `${b.colormap}: ${b.note}`));
  });
  const kept = state.pinned.map((row) => pinnedRow(state, row, ranges, onRemove));
  if (!rows.length) {
    const alone = el('figure', {}, pixelCanvas(imageRgba(p.display, p.channels, n), p.width, p.height), el('figcaption', {}, `input as the model sees it (${p.width}×${p.height})`));
    return root.replaceChildren(...kept, el('div', { class: 'gridrow' }, alone), ...(kept.length && bars.length ? [el('div', { class: 'colorbars' }, ...bars)] : []));
  }
  root.replaceChildren(...kept, ...rows, ...(bars.length ? [el('div', { class: 'colorbars' }, ...bars)] : []));
}
