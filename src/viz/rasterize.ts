/**
 * SVG → PNG with resvg (the maintained Rust renderer, `@resvg/resvg-js`), using only the font candor ships
 * (assets/fonts/DejaVuSans.ttf) so that figures look the same on every machine, fonts installed or not.
 * Node only (the workbench draws with the browser's canvas).
 */
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import { FONT_FAMILY } from './grid-svg.js';

export const BUNDLED_FONT = fileURLToPath(new URL('../../assets/fonts/DejaVuSans.ttf', import.meta.url));

export function svgToPng(svg: string): Uint8Array {
  const r = new Resvg(svg, { font: { fontFiles: [BUNDLED_FONT], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY } });
  return new Uint8Array(r.render().asPng());
}
