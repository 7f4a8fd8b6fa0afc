/**
 * Numeric CSV tables for the tabular tools: a header row of column names, one patient per row,
 * comma-separated; empty cells and NA/NaN/null are missing (NaN). The target column, when named,
 * is split off as `y`.
 */
import { readUtf8File } from '../io/text.js';
import { readFileSync } from 'node:fs';
import { splitCsvLine } from '../io/csv.js';
import { decimal } from '../data/label-text.js';

export interface Table {
  /** Row-major `[n, d]` features. */
  X: Float64Array;
  n: number;
  d: number;
  featureNames: string[];
  /** The target column, when one was named. */
  y?: Float64Array;
  /** Feature cells read as missing (NaN): trees send them their default way, and commands say how many. */
  missing?: number;
  targetName?: string;
  source: string;
}

const MISSING = new Set(['', 'na', 'nan', 'null', 'none', '?']);

export function parseCsvTable(text: string, opts: { target?: string; source?: string } = {}): Table {
  const source = opts.source ?? 'CSV';
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new Error(`${source}: needs a header row and at least one data row`);
  const header = splitCsvLine(lines[0]!.replace(/^\uFEFF/, ''));
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new Error(`${source}: column '${dup}' appears twice in the header`);
  const ti = opts.target === undefined ? -1 : header.indexOf(opts.target);
  if (opts.target !== undefined && ti < 0) throw new Error(`${source}: no column named '${opts.target}' (columns: ${header.join(', ')})`);
  const n = lines.length - 1;
  const d = header.length - (ti >= 0 ? 1 : 0);
  const X = new Float64Array(n * d);
  let missing = 0;
  const y = ti >= 0 ? new Float64Array(n) : undefined;
  for (let r = 0; r < n; r++) {
    const cells = splitCsvLine(lines[r + 1]!);
    if (cells.length !== header.length) throw new Error(`${source}: line ${r + 2} has ${cells.length} fields, the header ${header.length}`);
    let j = 0;
    for (let c = 0; c < cells.length; c++) {
      const s = cells[c]!;
      let v: number;
      if (MISSING.has(s.trim().toLowerCase())) {
        v = NaN;
        if (c !== ti) missing++;
      } else {
        const x = decimal(s);
        if (x === undefined) throw new Error(`${source}: line ${r + 2}, column '${header[c]}': '${s}' is not a finite decimal number (missing values are empty, NA, NaN, null, none or ?)`);
        v = x;
      }
      if (c === ti) y![r] = v;
      else X[r * d + j++] = v;
    }
  }
  if (y && y.some((v) => Number.isNaN(v))) throw new Error(`${source}: the target column '${opts.target}' has missing values`);
  return { X, n, d, featureNames: header.filter((_, i) => i !== ti), y, targetName: ti >= 0 ? opts.target : undefined, source, missing };
}

export function readCsvTable(path: string, opts: { target?: string } = {}): Table {
  return parseCsvTable(readUtf8File(path), { ...opts, source: path });
}

/** The table's columns in the order a model expects, by name; an error names the missing ones. */
export function selectColumns(t: Table, names: string[]): Float64Array {
  const idx = names.map((nm) => t.featureNames.indexOf(nm));
  const missing = names.filter((_, i) => idx[i]! < 0);
  if (missing.length) throw new Error(`${t.source}: the model needs columns the table lacks: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? '…' : ''}`);
  const out = new Float64Array(t.n * names.length);
  for (let r = 0; r < t.n; r++) for (let j = 0; j < names.length; j++) out[r * names.length + j] = t.X[r * t.d + idx[j]!]!;
  return out;
}
