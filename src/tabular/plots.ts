/**
 * The SHAP plots: waterfall, beeswarm (summary), bar (mean |SHAP|) and dependence as Vega-Lite specs
 * (rendered to SVG by `report/chart.ts`), and the force plot as hand-written SVG (stacked arrows on one
 * axis, which Vega-Lite cannot draw well). Colours follow shap: red raises the output, blue lowers it.
 */
import type { VegaLiteSpec } from '../report/types.js';

export const RED = '#ff0051';
export const BLUE = '#008bfb';

export interface ShapMatrix {
  values: Float64Array;
  n: number;
  d: number;
  expected: number;
  featureNames: string[];
  /** The explained rows' feature values, `[n, d]`. */
  X: Float64Array;
  /** Axis label for the output ("log-odds of malignant"). */
  outputLabel: string;
}

export function meanAbs(s: Pick<ShapMatrix, 'values' | 'n' | 'd'>): Float64Array {
  const m = new Float64Array(s.d);
  for (let r = 0; r < s.n; r++) for (let j = 0; j < s.d; j++) m[j]! += Math.abs(s.values[r * s.d + j]!);
  for (let j = 0; j < s.d; j++) m[j]! /= Math.max(1, s.n);
  return m;
}

/** Feature indices by decreasing mean |SHAP|. */
export function ranking(s: Pick<ShapMatrix, 'values' | 'n' | 'd'>): number[] {
  const m = meanAbs(s);
  return Array.from({ length: s.d }, (_, j) => j).sort((a, b) => m[b]! - m[a]! || a - b);
}

const fmt = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toPrecision(3) : String(+v.toFixed(3))) : 'missing');

export function barSpec(s: ShapMatrix, top = 15): VegaLiteSpec {
  const m = meanAbs(s);
  const order = ranking(s).slice(0, top);
  return {
    title: `Mean |SHAP value| (${s.n} rows)`,
    width: 420,
    height: { step: 18 },
    data: { values: order.map((j) => ({ feature: s.featureNames[j], value: m[j] })) },
    mark: { type: 'bar', color: BLUE },
    encoding: {
      y: { field: 'feature', type: 'nominal', sort: null, title: null },
      x: { field: 'value', type: 'quantitative', title: `mean |SHAP value| (${s.outputLabel})` },
      tooltip: [{ field: 'feature' }, { field: 'value', format: '.4f' }],
    },
  };
}

/** Per feature, the rank of each row's value in [0, 1] (NaN stays null): the beeswarm's colour. */
function valueRanks(s: ShapMatrix, j: number): (number | null)[] {
  const vals = Array.from({ length: s.n }, (_, r) => s.X[r * s.d + j]!);
  const finite = vals.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  // shap clips the colour range at the 5th and 95th percentiles
  const lo = finite[Math.floor(0.05 * (finite.length - 1))] ?? 0;
  const hi = finite[Math.ceil(0.95 * (finite.length - 1))] ?? 1;
  return vals.map((v) => (Number.isNaN(v) ? null : hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0.5));
}

/** Deterministic vertical spread: points in the same SHAP-value bin are stacked outwards from the centre line. */
function swarm(values: number[], bins = 60): number[] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  const width = (hi - lo) / bins || 1;
  const count = new Map<number, number>();
  const raw = values.map((v) => {
    const b = Math.floor((v - lo) / width);
    const k = count.get(b) ?? 0;
    count.set(b, k + 1);
    return (k % 2 ? -1 : 1) * Math.ceil(k / 2);
  });
  const max = Math.max(1, ...raw.map(Math.abs));
  return raw.map((o) => (0.45 * o) / max);
}

export function beeswarmSpec(s: ShapMatrix, top = 12): VegaLiteSpec {
  const order = ranking(s).slice(0, top);
  const rows: Record<string, unknown>[] = [];
  for (const j of order) {
    const shap = Array.from({ length: s.n }, (_, r) => s.values[r * s.d + j]!);
    const off = swarm(shap);
    const col = valueRanks(s, j);
    shap.forEach((v, r) => rows.push({ feature: s.featureNames[j], shap: v, jitter: off[r], level: col[r], value: s.X[r * s.d + j] }));
  }
  return {
    title: `SHAP values of the ${order.length} most important features (${s.n} rows)`,
    width: 460,
    height: { step: 30 },
    data: { values: rows },
    encoding: {
      y: { field: 'feature', type: 'nominal', sort: order.map((j) => s.featureNames[j]), title: null },
      yOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-0.5, 0.5] } },
      x: { field: 'shap', type: 'quantitative', title: `SHAP value (${s.outputLabel})` },
      tooltip: [{ field: 'feature' }, { field: 'value', title: 'feature value' }, { field: 'shap', format: '.4f' }],
    },
    layer: [
      {
        // missing feature values in grey, as shap draws them
        transform: [{ filter: 'datum.level === null' }],
        mark: { type: 'circle', size: 14, opacity: 0.85, color: '#999999' },
      },
      {
        transform: [{ filter: 'datum.level !== null' }],
        mark: { type: 'circle', size: 14, opacity: 0.85 },
        encoding: {
          color: {
            field: 'level',
            type: 'quantitative',
            scale: { range: [BLUE, '#8a3ba7', RED], domain: [0, 1] },
            legend: { title: 'feature value', orient: 'right', labelExpr: "datum.value === 0 ? 'low' : datum.value === 1 ? 'high' : ''", values: [0, 1] },
          },
        },
      },
    ],
  };
}

export function dependenceSpec(s: ShapMatrix, j: number, colorBy?: number): VegaLiteSpec {
  const rows = Array.from({ length: s.n }, (_, r) => {
    const c = colorBy === undefined ? NaN : s.X[r * s.d + colorBy]!;
    return { x: s.X[r * s.d + j]!, shap: s.values[r * s.d + j]!, c: Number.isNaN(c) ? null : c };
  }).filter((p) => !Number.isNaN(p.x));
  const point = { type: 'circle', size: 20, opacity: 0.8 };
  return {
    title: `Dependence of the SHAP value on ${s.featureNames[j]}`,
    width: 420,
    height: 280,
    data: { values: rows },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: s.featureNames[j], scale: { zero: false } },
      y: { field: 'shap', type: 'quantitative', title: `SHAP value for ${s.featureNames[j]} (${s.outputLabel})` },
    },
    layer:
      colorBy === undefined
        ? [{ mark: { ...point, color: BLUE } }]
        : [
            { transform: [{ filter: 'datum.c === null' }], mark: { ...point, color: '#999999' } },
            { transform: [{ filter: 'datum.c !== null' }], mark: point, encoding: { color: { field: 'c', type: 'quantitative', title: s.featureNames[colorBy], scale: { range: [BLUE, RED] } } } },
          ],
  };
}

/** One row's contributions, largest |φ| first, the rest folded into "N other features". */
export function rowContributions(s: ShapMatrix, row: number, top = 10): { label: string; value: number; feature: number | null }[] {
  const idx = Array.from({ length: s.d }, (_, j) => j).sort((a, b) => Math.abs(s.values[row * s.d + b]!) - Math.abs(s.values[row * s.d + a]!) || a - b);
  const shown = idx.slice(0, top).map((j) => ({ label: `${s.featureNames[j]} = ${fmt(s.X[row * s.d + j]!)}`, value: s.values[row * s.d + j]!, feature: j as number | null }));
  const rest = idx.slice(top);
  if (rest.length) shown.push({ label: `${rest.length} other features`, value: rest.reduce((a, j) => a + s.values[row * s.d + j]!, 0), feature: null });
  return shown;
}

export function waterfallSpec(s: ShapMatrix, row: number, top = 10): VegaLiteSpec {
  const parts = rowContributions(s, row, top);
  // drawn bottom-up from E[f(X)] like shap: the smallest contributions first
  let at = s.expected;
  const bars = [...parts].reverse().map((p) => {
    const start = at;
    at += p.value;
    return { label: p.label, start, end: at, right: Math.max(start, at), value: p.value, text: `${p.value >= 0 ? '+' : '−'}${fmt(Math.abs(p.value))}`, sign: p.value >= 0 ? 'raises' : 'lowers' };
  });
  const fx = at;
  return {
    title: { text: `Why row ${row}: f(x) = ${fmt(fx)} from E[f(X)] = ${fmt(s.expected)}`, subtitle: s.outputLabel },
    width: 460,
    height: { step: 24 },
    data: { values: bars.reverse() },
    layer: [
      {
        mark: { type: 'bar', height: 16 },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 260 } },
          x: { field: 'start', type: 'quantitative', title: `model output (${s.outputLabel})`, scale: { zero: false } },
          x2: { field: 'end' },
          color: { field: 'sign', type: 'nominal', scale: { domain: ['raises', 'lowers'], range: [RED, BLUE] }, legend: null },
          tooltip: [{ field: 'label' }, { field: 'value', format: '.4f' }],
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10 },
        encoding: { y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 260 } }, x: { field: 'right', type: 'quantitative' }, text: { field: 'text' } },
      },
      { data: { values: [{ v: s.expected }, { v: fx }] }, mark: { type: 'rule', strokeDash: [3, 3], color: '#777' }, encoding: { x: { field: 'v', type: 'quantitative' } } },
    ],
  };
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** shap's force plot as an SVG document: red arrows push the output up to f(x), blue ones down. */
export function forceSvg(s: ShapMatrix, row: number, top = 8, width = 760): string {
  const vals = Array.from({ length: s.d }, (_, j) => ({ j, v: s.values[row * s.d + j]! })).filter((p) => p.v !== 0);
  const pos = vals.filter((p) => p.v > 0).sort((a, b) => a.v - b.v); // smallest first, ending at f(x)
  const neg = vals.filter((p) => p.v < 0).sort((a, b) => b.v - a.v);
  const sumPos = pos.reduce((a, p) => a + p.v, 0), sumNeg = neg.reduce((a, p) => a + p.v, 0);
  const fx = s.expected + sumPos + sumNeg;
  const lo = Math.min(s.expected, fx - sumPos, fx), hi = Math.max(s.expected, fx - sumNeg, fx);
  const pad = 40, W = width, H = 150, y0 = 60, h = 22;
  const X = (v: number) => pad + ((v - lo) / (hi - lo || 1)) * (W - 2 * pad);
  const parts: string[] = [];
  const labelled = new Set([...vals].sort((a, b) => Math.abs(b.v) - Math.abs(a.v)).slice(0, top).map((p) => p.j));
  const arrow = (a: number, b: number, color: string, dir: 1 | -1) => {
    const xa = X(a), xb = X(b), tip = Math.min(6, Math.abs(xb - xa) / 2);
    const p = dir > 0
      ? `${xa},${y0} ${xb - tip},${y0} ${xb},${y0 + h / 2} ${xb - tip},${y0 + h} ${xa},${y0 + h} ${xa + tip},${y0 + h / 2}`
      : `${xa},${y0} ${xb + tip},${y0} ${xb},${y0 + h / 2} ${xb + tip},${y0 + h} ${xa},${y0 + h} ${xa - tip},${y0 + h / 2}`;
    parts.push(`<polygon points="${p}" fill="${color}" stroke="white" stroke-width="1"/>`);
  };
  let at = fx - sumPos;
  const labels: { x: number; text: string; color: string }[] = [];
  for (const p of pos) {
    arrow(at, at + p.v, RED, 1);
    if (labelled.has(p.j)) labels.push({ x: X(at + p.v / 2), text: `${s.featureNames[p.j]} = ${fmt(s.X[row * s.d + p.j]!)}`, color: RED });
    at += p.v;
  }
  at = fx - sumNeg;
  for (const p of neg) {
    arrow(at, at + p.v, BLUE, -1);
    if (labelled.has(p.j)) labels.push({ x: X(at + p.v / 2), text: `${s.featureNames[p.j]} = ${fmt(s.X[row * s.d + p.j]!)}`, color: BLUE });
    at += p.v;
  }
  labels.sort((a, b) => a.x - b.x).forEach((l, i) => {
    const ly = y0 + h + 16 + (i % 3) * 13;
    parts.push(`<line x1="${l.x.toFixed(1)}" y1="${y0 + h}" x2="${l.x.toFixed(1)}" y2="${ly - 9}" stroke="${l.color}" stroke-width="0.6"/>`);
    parts.push(`<text x="${l.x.toFixed(1)}" y="${ly}" fill="${l.color}" font-size="10" text-anchor="middle">${esc(l.text)}</text>`);
  });
  const tick = (v: number, text: string, yText: number) =>
    `<line x1="${X(v).toFixed(1)}" y1="${y0 - 8}" x2="${X(v).toFixed(1)}" y2="${y0 + h + 2}" stroke="#333" stroke-width="1"/><text x="${X(v).toFixed(1)}" y="${yText}" font-size="11" text-anchor="middle" fill="#333">${esc(text)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${pad}" y="16" font-size="13">Force plot, row ${row} (${esc(s.outputLabel)})</text>`,
    `<text x="${pad}" y="32" font-size="10" fill="${RED}">higher ⟶</text><text x="${W - pad}" y="32" font-size="10" fill="${BLUE}" text-anchor="end">⟵ lower</text>`,
    ...parts,
    tick(s.expected, `base value ${fmt(s.expected)}`, y0 - 12),
    tick(fx, `f(x) = ${fmt(fx)}`, y0 - 26),
    `</svg>`,
  ].join('\n');
}
