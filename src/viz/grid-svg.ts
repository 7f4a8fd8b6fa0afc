/**
 * The side-by-side figure (grid.ts's layout: one row per image — the image, then one overlay panel per method —,
 * titles over the panels, a colorbar per colormap) as an SVG document with real text (issue 18, item 1): the image
 * tiles are PNGs at the maps' own resolution, embedded and scaled by an integer factor with nearest-neighbour
 * rendering (`image-rendering: pixelated`); titles and colorbar labels are <text> in DejaVu Sans, wrapped to the
 * panel width with the font's own advance widths (font-metrics.ts, from scripts/make-font-metrics.py) — never cut
 * short. The report inlines the SVG (text stays text: searchable, sharp at any zoom); `candor explain` writes it
 * as grid.svg and rasterises it to grid.png with resvg (./rasterize.ts), which uses the bundled font.
 */
import { encodePng } from '../io/image.js';
import { Tensor } from '../tensor/tensor.js';
import { DEFAULT_CLIP } from './display-scale.js';
import { imageToRgb, overlay, overlayColormap } from './overlay.js';
import type { GridOptions, GridRow } from './grid.js';
import { FONT_METRICS as metrics } from './font-metrics.js';

export const FONT_FAMILY = 'DejaVu Sans';
const FONT_STACK = `'DejaVu Sans', Verdana, Arial, sans-serif`;
const WIDTHS = metrics.widths;

/** Width of `text` at `size` px in DejaVu Sans (characters the table lacks count as an 'M'). */
export function svgTextWidth(text: string, size: number): number {
  let w = 0;
  for (const ch of text) w += WIDTHS[ch] ?? metrics.default;
  return w * size;
}

/** `text` broken at spaces into lines no wider than `width` at `size`; a longer word is split, never cut short. */
export function wrapSvgText(text: string, width: number, size: number): string[] {
  const lines: string[] = [];
  let line = '';
  const fits = (s: string) => svgTextWidth(s, size) <= width;
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (!fits(word)) {
      if (line) (lines.push(line), (line = ''));
      const chars = [...word];
      let k = 1;
      while (k < chars.length && fits(chars.slice(0, k + 1).join(''))) k++;
      lines.push(chars.slice(0, k).join(''));
      word = chars.slice(k).join('');
    }
    if (!word) continue;
    const next = line ? `${line} ${word}` : word;
    if (!fits(next)) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function pngHref(rgb: Tensor): string {
  return `data:image/png;base64,${Buffer.from(encodePng(rgb)).toString('base64')}`;
}

/** The grid as an SVG document (see the module comment); `GridOptions.textScale` scales the 12-px text. */
export function gridSvg(rows: readonly GridRow[], opts: GridOptions = {}): string {
  if (rows.length === 0) throw new Error('grid: no rows');
  const gap = opts.gap ?? 8;
  const size = 12 * (opts.textScale ?? 1);
  const lineH = Math.round(size * 1.3);
  const { h, w } = imageToRgb(rows[0]!.image);
  const cols = 1 + Math.max(...rows.map((r) => r.panels.length));
  const scale = Math.max(1, Math.ceil((opts.minPanel ?? 128) / w));
  const pw = w * scale;
  const ph = h * scale;
  const wrap = (lines?: readonly string[]) => (lines ?? []).flatMap((t) => wrapSvgText(t, pw, size));
  let nTitle = 0;
  for (const r of rows) {
    nTitle = Math.max(nTitle, wrap(r.title).length);
    for (const p of r.panels) nTitle = Math.max(nTitle, wrap(p.title).length);
  }
  const rowH = nTitle * lineH + ph;
  const used: { name: string; lut: Float32Array; signed: boolean }[] = [];
  for (const r of rows) {
    for (const p of r.panels) {
      const c = overlayColormap({ ...opts, signed: p.signed });
      if (!used.some((u) => u.name === c.name)) used.push({ name: c.name, lut: c.lut, signed: p.signed });
    }
  }
  const barH = Math.round(size);
  const barBlock = barH + lineH + gap;
  const width = gap + cols * (pw + gap);
  const height = gap + rows.length * (rowH + gap) + used.length * barBlock;
  const parts: string[] = [];
  const text = (t: string, x: number, y: number, anchor = 'start') => parts.push(`<text x="${x}" y="${y}" text-anchor="${anchor}">${escapeXml(t)}</text>`);
  const image = (rgb: Tensor, x: number, y: number, iw: number, ih: number, label: string) => parts.push(`<image x="${x}" y="${y}" width="${iw}" height="${ih}" preserveAspectRatio="none" style="image-rendering:pixelated;image-rendering:optimizeSpeed" href="${pngHref(rgb)}"><title>${escapeXml(label)}</title></image>`);
  rows.forEach((row, ri) => {
    const rgb = imageToRgb(row.image);
    if (rgb.h !== h || rgb.w !== w) throw new Error(`grid: image ${ri} is ${rgb.h}×${rgb.w}, the first is ${h}×${w}`);
    const y0 = gap + ri * (rowH + gap);
    const titled = (lines: readonly string[] | undefined, x: number) => wrap(lines).forEach((t, k) => text(t, x, y0 + (k + 1) * lineH - Math.round(lineH * 0.25)));
    titled(row.title, gap);
    image(new Tensor(rgb.rgb, [3, h, w]), gap, y0 + nTitle * lineH, pw, ph, (row.title ?? []).join(' ') || 'input');
    row.panels.forEach((p, pi) => {
      const x = gap + (pi + 1) * (pw + gap);
      titled(p.title, x);
      const under = p.image ?? row.image;
      const o = overlay(under, p.map, { ...opts, signed: p.signed, range: p.range ?? opts.range });
      image(o, x, y0 + nTitle * lineH, pw, ph, (p.title ?? []).join(' '));
    });
  });
  let y = gap + rows.length * (rowH + gap);
  for (const u of used) {
    const x0 = gap + pw + gap;
    const bw = width - x0 - gap;
    text(u.name, gap, y + barH - 2);
    const strip = new Float32Array(3 * 256);
    for (let i = 0; i < 256; i++) for (let c = 0; c < 3; c++) strip[c * 256 + i] = u.lut[i * 3 + c]!;
    parts.push(`<image x="${x0}" y="${y}" width="${bw}" height="${barH}" preserveAspectRatio="none" href="${pngHref(new Tensor(strip, [3, 1, 256]))}"/>`);
    const clip = opts.clip ?? DEFAULT_CLIP;
    const top = opts.normalize === 'none' ? '1' : clip >= 100 ? 'max' : `P${clip}`;
    const labels: [string, number, string][] = u.signed
      ? [[`−${top}`, 0, 'start'], ['0', 0.5, 'middle'], [`+${top}`, 1, 'end']]
      : [[opts.normalize === 'none' ? '0' : 'min', 0, 'start'], [top, 1, 'end']];
    for (const [t, f, anchor] of labels) text(t, Math.round(x0 + f * bw), y + barH + lineH - 2, anchor);
    y += barBlock;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_STACK}" font-size="${size}" fill="#111">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
  ].join('\n');
}
