/** The figure export: the grid drawn onto one canvas with titles, as a PNG. */
import { imageRgba, overlayRgba } from './render.js';
import { caption, colorbarRgba, colorbars, rangesFor, rowLabel } from './grid.js';
import { resultRows, type WorkbenchState } from './state.js';
import type { MapResult, PreparedImage } from './protocol.js';

/** A row of the figure: its label, its input image, its maps and their captions. */
interface FigureRow {
  label: string;
  prepared: PreparedImage;
  inputCaption: string;
  maps: MapResult[];
  captions: string[];
}

/** The rows of the figure: the kept rows, then the current image's (labelled with model and image when rows are kept). */
export function figureRows(state: WorkbenchState, current: { prefix: string; inputCaption: string }): FigureRow[] {
  const kept: FigureRow[] = state.pinned.map((p) => ({ label: p.label, prepared: p.prepared, inputCaption: p.inputCaption, maps: p.maps, captions: p.captions }));
  const p = state.prepared;
  if (!p) return kept;
  return [
    ...kept,
    ...resultRows(state).map((row) => ({
      label: `${state.pinned.length ? current.prefix : ''}${rowLabel(state, row.variant)}`,
      prepared: p,
      inputCaption: current.inputCaption,
      maps: row.maps,
      captions: row.maps.map((r) => caption(state, r, { timing: false })),
    })),
  ];
}

const PANEL = 192;
const GAP = 12;
const TITLE = 20;
const CAPTION = 30;
const BAR = 12;
const BAR_BLOCK = BAR + 48;

function drawPixels(ctx: CanvasRenderingContext2D, rgba: Uint8ClampedArray, w: number, h: number, x: number, y: number): void {
  const tile = document.createElement('canvas');
  tile.width = w;
  tile.height = h;
  tile.getContext('2d')!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, w, h), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, x, y, PANEL, PANEL);
}

/** `text` broken into lines no wider than `width` at the context's font (a word longer than the width keeps its own line). */
function lines(ctx: CanvasRenderingContext2D, text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(' ')) {
    const next = line ? `${line} ${w}` : w;
    if (ctx.measureText(next).width > width && line) {
      out.push(line);
      line = w;
    } else line = next;
  }
  if (line) out.push(line);
  return out;
}

function wrap(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, width: number, step = 13): void {
  lines(ctx, text, width).forEach((l, k) => ctx.fillText(l, x, y + k * step));
}

const TITLE_FONT = 'bold 14px sans-serif';
const ROW_FONT = 'bold 12px sans-serif';
const CAPTION_FONT = '11px sans-serif';

/** The figure as a canvas (null when nothing has been computed). Titles wrap to the figure's width, never cut. */
export function figureCanvas(state: WorkbenchState, title: string, current: { prefix: string; inputCaption: string } = { prefix: '', inputCaption: 'input' }): HTMLCanvasElement | null {
  const rows = figureRows(state, current);
  if (!rows.length || !rows.some((r) => r.maps.length)) return null;
  const cols = 1 + Math.max(...rows.map((r) => r.maps.length));
  const bars = colorbars(state);
  const c = document.createElement('canvas');
  c.width = GAP + cols * (PANEL + GAP);
  const inner = c.width - 2 * GAP;
  // Layout first (line counts at each font), then draw: one line keeps the fixed heights.
  const measure = c.getContext('2d')!;
  measure.font = TITLE_FONT;
  const titleLines = lines(measure, title, inner);
  measure.font = ROW_FONT;
  const rowLines = rows.map((r) => lines(measure, r.label, inner));
  measure.font = CAPTION_FONT;
  const captionH = rows.map((r) => Math.max(CAPTION, 4 + 13 * Math.max(...[r.inputCaption, ...r.captions].map((t) => lines(measure, t, PANEL).length))));
  const titleH = TITLE + 17 * (titleLines.length - 1);
  const rowH = rows.map((_, i) => TITLE + 14 * (rowLines[i]!.length - 1) + PANEL + captionH[i]! + GAP);
  const rowY = rowH.map((_, i) => titleH + GAP + rowH.slice(0, i).reduce((a, b) => a + b, 0));
  const barsY = titleH + GAP + rowH.reduce((a, b) => a + b, 0);
  c.height = barsY + bars.length * BAR_BLOCK;
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.fillStyle = '#1d2430';
  ctx.font = TITLE_FONT;
  titleLines.forEach((l, k) => ctx.fillText(l, GAP, 16 + 17 * k));
  const ranges = rangesFor(state);
  const { alpha, colormap, diverging } = state.display;
  rows.forEach((row, i) => {
    const p = row.prepared;
    ctx.font = ROW_FONT;
    rowLines[i]!.forEach((l, k) => ctx.fillText(l, GAP, rowY[i]! + 13 + 14 * k));
    const top = rowY[i]! + TITLE + 14 * (rowLines[i]!.length - 1);
    drawPixels(ctx, imageRgba(p.display, p.channels, p.width * p.height), p.width, p.height, GAP, top);
    ctx.font = CAPTION_FONT;
    wrap(ctx, row.inputCaption, GAP, top + PANEL + 13, PANEL);
    row.maps.forEach((r, j) => {
      const x = GAP + (j + 1) * (PANEL + GAP);
      drawPixels(ctx, overlayRgba(p.display, p.channels, r.map, ranges.get(r)!, r.signed ? diverging : colormap, alpha), r.width, r.height, x, top);
      wrap(ctx, row.captions[j]!, x, top + PANEL + 13, PANEL);
    });
  });
  if (typeof window !== 'undefined' && window.candor) window.candor.lastFigure = { rows: rows.length, width: c.width, height: c.height, labels: rows.map((r) => r.label) };
  // Colorbars: the colormap, tick labels at its ends (and centre), what the ends mean.
  const x0 = GAP + PANEL + GAP;
  const bw = c.width - x0 - GAP;
  bars.forEach((b, k) => {
    const y = barsY + k * BAR_BLOCK;
    const strip = document.createElement('canvas');
    strip.width = 256;
    strip.height = 1;
    strip.getContext('2d')!.putImageData(new ImageData(colorbarRgba(b.colormap, 256) as Uint8ClampedArray<ArrayBuffer>, 256, 1), 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(strip, x0, y, bw, BAR);
    ctx.font = '11px sans-serif';
    ctx.fillStyle = '#1d2430';
    ctx.fillText(b.colormap, GAP, y + BAR - 2);
    for (const [t, f] of b.labels) {
      const w = ctx.measureText(t).width;
      ctx.fillText(t, x0 + f * bw - f * w, y + BAR + 13);
    }
    wrap(ctx, b.note, GAP, y + BAR + 28, c.width - 2 * GAP);
  });
  return c;
}

export function canvasPng(c: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error('could not encode the figure'))), 'image/png'));
}
