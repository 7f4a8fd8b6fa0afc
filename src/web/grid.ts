/** The grid of overlays: one row per model variant, the image then one panel per method. */
import { encodeNpy } from '../io/npy.js';
import { Tensor } from '../tensor/tensor.js';
import { download, el, pixelCanvas } from './dom.js';
import { absolute, DEFAULT_CLIP, displayRanges, imageRgba, overlayRgba, spearman, type DisplayRange } from './render.js';
import { applyColormap, getColormap } from '../viz/colormap.js';
import { resultKey, resultRows, type WorkbenchState } from './state.js';
import type { MapResult, Variant } from './protocol.js';

export const ROW_LABELS = { original: 'Trained model', randomized: 'Randomized weights (sanity check)' } as const;

/** Each shown map with its display range under the current normalisation mode. */
export function rangesFor(state: WorkbenchState): Map<MapResult, DisplayRange> {
  const all = resultRows(state).flatMap((r) => r.maps);
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

/** A row's label: the model variant and its prediction with its probability. */
export function rowLabel(state: WorkbenchState, variant: Variant): string {
  const p = state.predictions[variant];
  if (!p) return ROW_LABELS[variant];
  const cls = state.model?.classNames[p.predicted] ?? `class ${p.predicted}`;
  return `${ROW_LABELS[variant]}: predicts ${cls} (p = ${p.probabilities[p.predicted]!.toFixed(2)})`;
}

/** The colorbars of the maps shown: one per colormap, with what its ends mean under the normalisation. */
export function colorbars(state: WorkbenchState): { colormap: string; signed: boolean; labels: [string, number][]; note: string }[] {
  const shown = resultRows(state).flatMap((r) => r.maps);
  const { colormap, diverging, norm } = state.display;
  const scope = norm === 'map' ? 'each map on its own range' : norm === 'method' ? 'one range per method across the models' : 'one range for all maps shown';
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
    return el('div', { class: 'gridrow', 'data-variant': variant }, el('div', { class: 'rowlabel' }, rowLabel(state, variant)), imageFig, ...panels);
  });
  const bars = colorbars(state).map((b) => {
    const strip = pixelCanvas(colorbarRgba(b.colormap, 256), 256, 1);
    strip.classList.add('colorbar');
    const ticks = el('div', { class: 'ticks' }, ...b.labels.map(([t]) => el('span', {}, t)));
    return el('figure', { class: 'colorbar', 'data-colormap': b.colormap }, strip, ticks, el('figcaption', {}, `${b.colormap}: ${b.note}`));
  });
  if (!rows.length) {
    const alone = el('figure', {}, pixelCanvas(imageRgba(p.display, p.channels, n), p.width, p.height), el('figcaption', {}, `input as the model sees it (${p.width}×${p.height})`));
    return root.replaceChildren(el('div', { class: 'gridrow' }, alone));
  }
  root.replaceChildren(...rows, ...(bars.length ? [el('div', { class: 'colorbars' }, ...bars)] : []));
}
