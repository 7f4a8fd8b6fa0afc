/** The grid of overlays: one row per model variant, the image then one panel per method. */
import { encodeNpy } from '../io/npy.js';
import { Tensor } from '../tensor/tensor.js';
import { download, el, pixelCanvas } from './dom.js';
import { absolute, displayRanges, imageRgba, overlayRgba, spearman, type DisplayRange } from './render.js';
import { resultKey, resultRows, type WorkbenchState } from './state.js';
import type { MapResult } from './protocol.js';

export const ROW_LABELS = { original: 'Trained model', randomized: 'Randomized weights (sanity check)' } as const;

/** Each shown map with its display range under the current normalisation mode. */
export function rangesFor(state: WorkbenchState): Map<MapResult, DisplayRange> {
  const all = resultRows(state).flatMap((r) => r.maps);
  const ranges = displayRanges(all, state.display.norm);
  return new Map(all.map((m, i) => [m, ranges[i]!]));
}

/** Caption text of a panel: method, target class, time, diagnostics, and ρ against the original. */
export function caption(state: WorkbenchState, r: MapResult): string {
  const cls = state.model?.classNames[r.target] ?? `class ${r.target}`;
  const parts = [`${r.method} → ${cls}`, `${r.ms < 1000 ? r.ms.toFixed(0) + ' ms' : (r.ms / 1000).toFixed(1) + ' s'}`];
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

export function renderGrid(root: HTMLElement, state: WorkbenchState): void {
  const p = state.prepared;
  if (!p) {
    root.replaceChildren();
    return;
  }
  const n = p.height * p.width;
  const ranges = rangesFor(state);
  const { alpha, colormap, diverging } = state.display;
  const rows = resultRows(state).map(({ variant, maps }) => {
    const imageFig = el('figure', {}, pixelCanvas(imageRgba(p.display, p.channels, n), p.width, p.height), el('figcaption', {}, 'input'));
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
    return el('div', { class: 'gridrow', 'data-variant': variant }, el('div', { class: 'rowlabel' }, ROW_LABELS[variant]), imageFig, ...panels);
  });
  if (!rows.length) {
    const alone = el('figure', {}, pixelCanvas(imageRgba(p.display, p.channels, n), p.width, p.height), el('figcaption', {}, `input as the model sees it (${p.width}×${p.height})`));
    return root.replaceChildren(el('div', { class: 'gridrow' }, alone));
  }
  root.replaceChildren(...rows);
}
