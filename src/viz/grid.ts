/**
 * A side-by-side figure, as in the seeds' notebooks: one row per image — the image, then one overlay
 * panel per method — each panel titled (the image with its true class, prediction and probability,
 * the others with the method name), and a colorbar strip per colormap used at the bottom.
 *
 * Text uses a built-in 5×7 bitmap font (upper case, digits and common punctuation; lower case is
 * drawn upper case, other characters as '?'). Panels are upscaled by an integer factor (nearest
 * neighbour) so that titles fit: each panel is at least `minPanel` pixels wide.
 */
import { Tensor } from '../tensor/tensor.js';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from '../data/font.js';
import { encodePng } from '../io/image.js';
import type { Colormap } from './colormap.js';
import { DEFAULT_CLIP, type DisplayNormalize, type DisplayRange } from './display-scale.js';
import { imageToRgb, overlay, overlayColormap, type OverlayOptions } from './overlay.js';

const GW = GLYPH_WIDTH;
const GH = GLYPH_HEIGHT;

/** Width in pixels of `text` drawn at `scale` (glyphs separated by one blank cell). */
export function textWidth(text: string, scale = 1): number {
  const n = [...text].length;
  return n === 0 ? 0 : (n * (GW + 1) - 1) * scale;
}

/**
 * `text` broken into lines no wider than `maxWidth` at `scale`: at spaces, a word longer than a line split
 * across lines — never cut short (titles used to be: 'TRUE PNEUM').
 */
export function wrapText(text: string, maxWidth: number, scale = 1): string[] {
  const perLine = Math.max(1, Math.floor((maxWidth / scale + 1) / (GW + 1)));
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while ([...word].length > perLine) {
      if (line) (lines.push(line), (line = ''));
      lines.push([...word].slice(0, perLine).join(''));
      word = [...word].slice(perLine).join('');
    }
    if (!word) continue;
    const next = line ? `${line} ${word}` : word;
    if ([...next].length > perLine) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

/** An RGB canvas [3,H,W], white by default, with blitting and text. */
export class Canvas {
  readonly data: Float32Array;
  constructor(
    readonly width: number,
    readonly height: number,
    background: readonly [number, number, number] = [1, 1, 1],
  ) {
    this.data = new Float32Array(3 * width * height);
    const n = width * height;
    for (let c = 0; c < 3; c++) this.data.fill(background[c]!, c * n, (c + 1) * n);
  }

  set(x: number, y: number, rgb: readonly [number, number, number]): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const n = this.width * this.height;
    const p = y * this.width + x;
    this.data[p] = rgb[0];
    this.data[n + p] = rgb[1];
    this.data[2 * n + p] = rgb[2];
  }

  /** Draw planar RGB [3,h,w] at (x, y), each pixel as a `scale`×`scale` block. */
  blit(rgb: ArrayLike<number>, h: number, w: number, x: number, y: number, scale = 1): void {
    const n = h * w;
    for (let r = 0; r < h * scale; r++) {
      for (let c = 0; c < w * scale; c++) {
        const p = Math.floor(r / scale) * w + Math.floor(c / scale);
        this.set(x + c, y + r, [rgb[p]!, rgb[n + p]!, rgb[2 * n + p]!]);
      }
    }
  }

  /** Draw `text` (upper-cased) with its top-left at (x, y); clipped to `maxWidth` (whole glyphs). */
  text(text: string, x: number, y: number, scale = 1, maxWidth = Infinity, color: readonly [number, number, number] = [0, 0, 0]): void {
    let chars = [...text.toUpperCase()];
    while (chars.length > 0 && textWidth(chars.join(''), scale) > maxWidth) chars = chars.slice(0, -1);
    chars.forEach((ch, k) => {
      const rows = glyphRows(ch) ?? glyphRows('?')!;
      for (let r = 0; r < GH; r++) {
        for (let c = 0; c < GW; c++) {
          if (rows[r]![c] !== '#') continue;
          for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) this.set(x + (k * (GW + 1) + c) * scale + dx, y + r * scale + dy, color);
        }
      }
    });
  }

  tensor(): Tensor {
    return new Tensor(this.data, [3, this.height, this.width]);
  }
}

export interface GridPanel {
  /** Map [H,W] (or [1,H,W]) at the image's resolution. */
  map: Tensor;
  signed: boolean;
  /** Title lines (e.g. the method name). */
  title?: readonly string[];
  /** Underlay of this panel when it is not the row's image (a volume's plane through this map's maximum); same size. */
  image?: Tensor;
  /** A display range shared with other panels (--normalize shared|none); default the grid's, else the map's own. */
  range?: DisplayRange;
}

export interface GridRow {
  /** Image [C,H,W] in [0,1], C = 1 or 3. */
  image: Tensor;
  /** Title lines over the image (e.g. 'TRUE NORMAL', 'PRED PNEUMONIA 0.93'). */
  title?: readonly string[];
  panels: readonly GridPanel[];
}

export interface GridOptions extends Omit<OverlayOptions, 'signed'> {
  /** Minimum panel width in pixels (panels are upscaled by an integer factor; default 128). */
  minPanel?: number;
  /** Text scale (default 1: 7-pixel-high glyphs). */
  textScale?: number;
  /** Gap between panels (default 6). */
  gap?: number;
  /** How the panels' ranges were chosen (for the colorbar's labels; the ranges themselves are on the panels). */
  normalize?: DisplayNormalize;
}

/** Title lines wrapped to the panel width. */
function wrapped(lines: readonly string[] | undefined, width: number, scale: number): string[] {
  return (lines ?? []).flatMap((t) => wrapText(t, width, scale));
}

/** Lines of title drawn over every panel, wrapped to the panel width (the maximum over the grid). */
function titleLines(rows: readonly GridRow[], width: number, scale: number): number {
  let m = 0;
  for (const r of rows) {
    m = Math.max(m, wrapped(r.title, width, scale).length);
    for (const p of r.panels) m = Math.max(m, wrapped(p.title, width, scale).length);
  }
  return m;
}

/** Render the grid as RGB [3,H,W] in [0,1]. */
export function renderGrid(rows: readonly GridRow[], opts: GridOptions = {}): Tensor {
  if (rows.length === 0) throw new Error('grid: no rows');
  const gap = opts.gap ?? 6;
  const ts = opts.textScale ?? 1;
  const lineH = (GH + 3) * ts;
  const first = imageToRgb(rows[0]!.image);
  const { h, w } = first;
  const cols = 1 + Math.max(...rows.map((r) => r.panels.length));
  const scale = Math.max(1, Math.ceil((opts.minPanel ?? 128) / w));
  const pw = w * scale;
  const ph = h * scale;
  const nTitle = titleLines(rows, pw, ts);
  const rowH = nTitle * lineH + ph;

  // Colormaps used, in order of first use (one colorbar each).
  const used: { cmap: Colormap; signed: boolean }[] = [];
  for (const r of rows) {
    for (const p of r.panels) {
      const cmap = overlayColormap({ ...opts, signed: p.signed });
      if (!used.some((u) => u.cmap.name === cmap.name)) used.push({ cmap, signed: p.signed });
    }
  }
  const barH = 10 * ts;
  const barBlock = barH + lineH + gap; // bar, labels under it
  const width = gap + cols * (pw + gap);
  const height = gap + rows.length * (rowH + gap) + used.length * barBlock;
  const cv = new Canvas(width, height);

  rows.forEach((row, ri) => {
    const img = imageToRgb(row.image);
    if (img.h !== h || img.w !== w) throw new Error(`grid: image ${ri} is ${img.h}×${img.w}, the first is ${h}×${w}`);
    const y0 = gap + ri * (rowH + gap);
    const drawTitle = (lines: readonly string[] | undefined, x: number) => wrapped(lines, pw, ts).forEach((t, k) => cv.text(t, x, y0 + k * lineH, ts, pw));
    drawTitle(row.title, gap);
    cv.blit(img.rgb, h, w, gap, y0 + nTitle * lineH, scale);
    row.panels.forEach((p, pi) => {
      const x = gap + (pi + 1) * (pw + gap);
      drawTitle(p.title, x);
      const under = p.image ?? row.image;
      if (p.image) {
        const u = imageToRgb(p.image);
        if (u.h !== h || u.w !== w) throw new Error(`grid: panel ${pi} of row ${ri} has a ${u.h}×${u.w} underlay, the images are ${h}×${w}`);
      }
      const o = overlay(under, p.map, { ...opts, signed: p.signed, range: p.range ?? opts.range });
      cv.blit(o.data, h, w, x, y0 + nTitle * lineH, scale);
    });
  });

  // Colorbars: '<name>' label, the bar over the panel columns, tick labels under its ends and centre.
  let y = gap + rows.length * (rowH + gap);
  for (const u of used) {
    const x0 = gap + pw + gap;
    const bw = width - x0 - gap;
    cv.text(u.cmap.name, gap, y + Math.max(0, (barH - GH * ts) >> 1), ts, pw);
    for (let c = 0; c < bw; c++) {
      const i = Math.min(255, Math.floor(((c + 0.5) / bw) * 256)) * 3;
      const col: [number, number, number] = [u.cmap.lut[i]!, u.cmap.lut[i + 1]!, u.cmap.lut[i + 2]!];
      for (let r = 0; r < barH; r++) cv.set(x0 + c, y + r, col);
    }
    // The ends: raw values (--normalize none), else the saturation threshold (display-scale.ts): P99 is the
    // value below which 99 % of the attribution mass lies, MAX when nothing is clipped.
    const clip = opts.clip ?? DEFAULT_CLIP;
    const top = opts.normalize === 'none' ? '1' : clip >= 100 ? 'MAX' : `P${clip}`;
    const labels: [string, number][] = u.signed
      ? [[`-${top}`, 0], ['0', 0.5], [`+${top}`, 1]]
      : [[opts.normalize === 'none' ? '0' : 'MIN', 0], [top, 1]];
    for (const [t, f] of labels) {
      const tw = textWidth(t, ts);
      const x = Math.round(x0 + f * bw - f * tw);
      cv.text(t, x, y + barH + 2 * ts, ts);
    }
    y += barBlock;
  }
  return cv.tensor();
}

/** `renderGrid` as an 8-bit RGB PNG. */
export function gridPng(rows: readonly GridRow[], opts: GridOptions = {}): Uint8Array {
  return encodePng(renderGrid(rows, opts));
}

/** The colormap names a grid would use for unsigned / signed panels (for legends elsewhere). */
export function gridColormaps(opts: GridOptions = {}): { unsigned: string; signed: string } {
  return { unsigned: overlayColormap({ ...opts, signed: false }).name, signed: overlayColormap({ ...opts, signed: true }).name };
}
