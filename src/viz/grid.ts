/**
 * The side-by-side figure's content, as in the seeds' notebooks: one row per image — the image, then one overlay
 * panel per method — each panel titled (the image with its true class, prediction and probability, the others with
 * the method name). grid-svg.ts draws it (SVG with real text; rasterised by rasterize.ts). The 5×7 bitmap-font
 * renderer that drew it before (its titles read 'SMOOTH3RAD') is gone.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { DisplayNormalize, DisplayRange } from './display-scale.js';
import type { OverlayOptions } from './overlay.js';

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
  /** Text scale (default 1: 12-pixel text). */
  textScale?: number;
  /** Gap between panels (default 8). */
  gap?: number;
  /** How the panels' ranges were chosen (for the colorbar's labels; the ranges themselves are on the panels). */
  normalize?: DisplayNormalize;
}
