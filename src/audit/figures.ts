/**
 * Figure helpers shared by the audit's sections: heatmap grids (PNG) from map tensors, and
 * Vega-Lite specs for the charts every section draws (curves with intervals, bars, confusion matrices).
 */
import { Tensor } from '../tensor/tensor.js';
import { displayImage } from '../viz/overlay.js';
import type { GridRow } from '../viz/grid.js';
import { gridSvg } from '../viz/grid-svg.js';
import { rangeOf, type DisplayRange } from '../viz/display-scale.js';
import { volumeViews } from '../viz/volume-views.js';
import type { Affine } from '../io/nifti.js';
import type { VegaLiteSpec } from '../report/types.js';

/** Image i of a batch [N,C,H,W] in the models' [-1, 1] scale, as [C,H,W] in [0, 1]. */
export function imageAt(images: Tensor, i: number): Tensor {
  const [, c, h, w] = images.shape as [number, number, number, number];
  return displayImage(new Tensor(images.data.slice(i * c * h * w, (i + 1) * c * h * w), [c, h, w]), [-1, 1]);
}

/** Map i of a batch [N,H,W] as [H,W]. */
export function mapAt(maps: Tensor, i: number): Tensor {
  const [, h, w] = maps.shape as [number, number, number];
  return new Tensor(maps.data.slice(i * h * w, (i + 1) * h * w), [h, w]);
}

export interface GridCell {
  maps: Tensor;
  signed: boolean;
  title: string[];
  /**
   * Cells of a row with the same group share one colour scale (their maps' values together, clipped as each map's
   * own would be), so that maps compared side by side — a model and its randomized copies — are drawn on one scale:
   * a map that fades is seen to fade. Without a group each map has its own scale. (Images only; volumes' views keep
   * their own.)
   */
  group?: string;
}

/**
 * A grid: one row per image index, the image then one overlay per cell (same image index). Volumes
 * ([N,C,D,H,W]) take four rows per image — the three orthogonal planes through each map's own maximum
 * and the maximum-intensity projection along the first axis (viz/volume-views.ts) —, each panel over
 * the image's plane through that map's maximum, titled with the plane and slice.
 */
export function mapsGrid(images: Tensor, rows: { index: number; title: string[]; cells: GridCell[] }[], minPanel = 96, affines?: readonly (number[][] | null)[]): string {
  if (images.shape.length === 5) return gridSvg(volumeGridRows(images, rows, affines), { minPanel });
  const gridRows: GridRow[] = rows.map((r) => {
    const maps = r.cells.map((c) => mapAt(c.maps, r.index));
    const ranges = groupRanges(r.cells, maps);
    return {
      image: imageAt(images, r.index),
      title: r.title,
      panels: r.cells.map((c, ci) => ({ map: maps[ci]!, signed: c.signed, title: c.title, ...(ranges[ci] ? { range: ranges[ci] } : {}) })),
    };
  });
  return gridSvg(gridRows, { minPanel });
}

/** Per cell, the colour scale it shares with the other cells of its group in the row (undefined: its own). */
export function groupRanges(cells: readonly GridCell[], maps: readonly Tensor[]): (DisplayRange | undefined)[] {
  const shared = new Map<string, DisplayRange>();
  return cells.map((c) => {
    if (c.group === undefined) return undefined;
    let r = shared.get(c.group);
    if (!r) {
      r = rangeOf(cells.flatMap((d, di) => (d.group === c.group ? [maps[di]!.data] : [])), c.signed);
      shared.set(c.group, r);
    }
    return r;
  });
}

/** Channel 0 of volume i of [N,C,D,H,W] in the models' [-1, 1] scale, in [0, 1]. */
function volumeAt(images: Tensor, i: number): Float32Array {
  const [, c, ...sp] = images.shape as number[];
  const vox = sp.reduce((a, b) => a * b, 1);
  const off = i * c! * vox;
  return Float32Array.from(images.data.subarray(off, off + vox), (v) => Math.min(1, Math.max(0, (v + 1) / 2)));
}

/**
 * The grid rows of volumes: with an affine (`affines[index]`), anatomical planes in the radiological
 * convention with their edges labelled and the voxel size's aspect; without one, the array axes.
 */
export function volumeGridRows(images: Tensor, rows: { index: number; title: string[]; cells: GridCell[] }[], affines?: readonly (number[][] | null)[]): GridRow[] {
  const spatial = images.shape.slice(2) as [number, number, number];
  const vox = spatial[0] * spatial[1] * spatial[2];
  const out: GridRow[] = [];
  for (const r of rows) {
    const img = volumeAt(images, r.index);
    const affine = (affines?.[r.index] ?? undefined) as Affine | undefined;
    const spacing = affine ? [0, 1, 2].map((a) => Math.hypot(affine[0]![a]!, affine[1]![a]!, affine[2]![a]!)) : undefined;
    const views = r.cells.map((c) => volumeViews(img, c.maps.data.subarray(r.index * vox, (r.index + 1) * vox), { spatial, spacing, affine }, c.signed, 96));
    for (let v = 0; v < 4; v++) {
      const first = views[0]![v]!;
      out.push({
        image: first.image,
        title: v === 0 ? [...r.title, ...first.title] : first.title,
        panels: r.cells.map((c, ci) => ({ map: views[ci]![v]!.map, signed: c.signed, image: views[ci]![v]!.image, title: v === 0 ? [...c.title, views[ci]![v]!.title[0]!] : [views[ci]![v]!.title[0]!] })),
      });
    }
  }
  return out;
}


/** Mean with an interval per x and series: points, error bars, lines. */
export function intervalChart(opts: {
  title: string;
  values: { x: string | number; series: string; mean: number; lo: number; hi: number; facet?: string }[];
  xTitle: string;
  yTitle: string;
  xOrder?: string[];
  yDomain?: [number, number];
  facetTitle?: string;
  width?: number;
}): VegaLiteSpec {
  const nominalX = typeof opts.values[0]?.x === 'string';
  const x = { field: 'x', type: nominalX ? 'ordinal' : 'quantitative', title: opts.xTitle, ...(opts.xOrder ? { sort: opts.xOrder } : {}), axis: nominalX ? { labelAngle: -40 } : {} };
  const y = { field: 'mean', type: 'quantitative', title: opts.yTitle, ...(opts.yDomain ? { scale: { domain: opts.yDomain } } : {}) };
  const color = { field: 'series', type: 'nominal', title: 'method' };
  const layer = {
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x, y, color } },
      { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: opts.yTitle }, y2: { field: 'hi' }, color } },
    ],
  };
  const width = opts.width ?? 260;
  const hasFacet = opts.values.some((v) => v.facet !== undefined);
  if (hasFacet) {
    const facets = new Set(opts.values.map((v) => v.facet)).size;
    const columns = facets === 3 ? 3 : 2;
    return { title: opts.title, data: { values: opts.values }, facet: { field: 'facet', type: 'nominal', title: opts.facetTitle ?? null }, columns, spec: { width: columns === 3 ? 200 : width, height: 180, ...layer }, resolve: { scale: { y: 'independent' } } };
  }
  return { title: opts.title, data: { values: opts.values }, width: width * 1.6, height: 220, ...layer };
}

/** Grouped bars with optional error bars. */
export function barChart(opts: { title: string; values: { group: string; bar: string; value: number; lo?: number; hi?: number }[]; yTitle: string; groupTitle: string; barTitle: string; rule?: { y: number; label: string } }): VegaLiteSpec {
  const layers: Record<string, unknown>[] = [
    { mark: 'bar', encoding: { x: { field: 'group', type: 'nominal', title: opts.groupTitle, axis: { labelAngle: -30 } }, xOffset: { field: 'bar' }, y: { field: 'value', type: 'quantitative', title: opts.yTitle }, color: { field: 'bar', type: 'nominal', title: opts.barTitle } } },
  ];
  if (opts.values.some((v) => v.lo !== undefined)) {
    layers.push({ mark: { type: 'errorbar', ticks: true }, encoding: { x: { field: 'group', type: 'nominal' }, xOffset: { field: 'bar' }, y: { field: 'lo', type: 'quantitative', title: opts.yTitle }, y2: { field: 'hi' } } });
  }
  const spec: VegaLiteSpec = { title: opts.title, width: 420, height: 220, data: { values: opts.values }, layer: layers };
  if (opts.rule) {
    return { title: opts.title, width: 420, height: 220, layer: [{ data: { values: opts.values }, layer: layers }, { data: { values: [opts.rule] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#555' }, encoding: { y: { field: 'y', type: 'quantitative' } } }] };
  }
  return spec;
}

/** A confusion matrix as a heatmap with counts. Rows: true class; columns: predicted. */
export function confusionChart(title: string, classes: readonly string[], m: readonly (readonly number[])[]): VegaLiteSpec {
  const values = m.flatMap((row, i) => row.map((count, j) => ({ truth: classes[i], predicted: classes[j], count })));
  return {
    title,
    data: { values },
    width: 60 * classes.length,
    height: 60 * classes.length,
    encoding: { x: { field: 'predicted', type: 'nominal', sort: classes, title: 'predicted' }, y: { field: 'truth', type: 'nominal', sort: classes, title: 'true class' } },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, legend: null } } },
      { mark: { type: 'text', fontSize: 14 }, encoding: { text: { field: 'count', type: 'quantitative' }, color: { condition: { test: `datum.count > ${Math.max(...m.flat()) / 2}`, value: 'white' }, value: 'black' } } },
    ],
  };
}
