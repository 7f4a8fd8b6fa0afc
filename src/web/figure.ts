/** The figure export: the grid drawn onto one canvas with titles, as a PNG. */
import { imageRgba, overlayRgba } from './render.js';
import { caption, colorbarRgba, colorbars, rangesFor, rowLabel } from './grid.js';
import { resultRows, type WorkbenchState } from './state.js';

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

function wrap(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, width: number): void {
  const words = text.split(' ');
  let line = '';
  let yy = y;
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (ctx.measureText(next).width > width && line) {
      ctx.fillText(line, x, yy);
      line = w;
      yy += 13;
    } else line = next;
  }
  if (line) ctx.fillText(line, x, yy);
}

/** The figure as a canvas (null when nothing has been computed). */
export function figureCanvas(state: WorkbenchState, title: string): HTMLCanvasElement | null {
  const p = state.prepared;
  const rows = resultRows(state);
  if (!p || !rows.length) return null;
  const cols = 1 + Math.max(...rows.map((r) => r.maps.length));
  const bars = colorbars(state);
  const c = document.createElement('canvas');
  c.width = GAP + cols * (PANEL + GAP);
  c.height = TITLE + GAP + rows.length * (TITLE + PANEL + CAPTION + GAP) + bars.length * BAR_BLOCK;
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.fillStyle = '#1d2430';
  ctx.font = 'bold 14px sans-serif';
  ctx.fillText(title, GAP, 16);
  const n = p.width * p.height;
  const ranges = rangesFor(state);
  const { alpha, colormap, diverging } = state.display;
  rows.forEach((row, i) => {
    const y0 = TITLE + GAP + i * (TITLE + PANEL + CAPTION + GAP);
    ctx.font = 'bold 12px sans-serif';
    ctx.fillText(rowLabel(state, row.variant), GAP, y0 + 13);
    drawPixels(ctx, imageRgba(p.display, p.channels, n), p.width, p.height, GAP, y0 + TITLE);
    ctx.font = '11px sans-serif';
    ctx.fillText('input', GAP, y0 + TITLE + PANEL + 13);
    row.maps.forEach((r, j) => {
      const x = GAP + (j + 1) * (PANEL + GAP);
      drawPixels(ctx, overlayRgba(p.display, p.channels, r.map, ranges.get(r)!, r.signed ? diverging : colormap, alpha), r.width, r.height, x, y0 + TITLE);
      wrap(ctx, caption(state, r, { timing: false }), x, y0 + TITLE + PANEL + 13, PANEL);
    });
  });
  // Colorbars: the colormap, tick labels at its ends (and centre), what the ends mean.
  const x0 = GAP + PANEL + GAP;
  const bw = c.width - x0 - GAP;
  bars.forEach((b, k) => {
    const y = TITLE + GAP + rows.length * (TITLE + PANEL + CAPTION + GAP) + k * BAR_BLOCK;
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
