/**
 * Class-balance report: images per class (or positives per finding for multi-label sets) and their
 * fractions, per split, as data and as a plain-text table.
 */
import { classCounts, datasetSize, type ImageDataset } from './dataset.js';

export interface ClassBalance {
  /** Split or dataset label shown in the report. */
  readonly split: string;
  readonly task: 'single' | 'multi';
  readonly total: number;
  /** Per class: count and fraction of the split's images (multi-label: prevalence of the finding). */
  readonly classes: readonly { name: string; count: number; fraction: number }[];
  /** Largest count over smallest non-zero count (1 for a balanced single-label split). */
  readonly imbalance: number;
}

export function classBalance(ds: ImageDataset, split = ds.source): ClassBalance {
  const total = datasetSize(ds);
  const counts = classCounts(ds);
  const classes = counts.map((count, k) => ({ name: ds.classNames[k]!, count, fraction: total ? count / total : 0 }));
  const nz = counts.filter((c) => c > 0);
  const imbalance = nz.length ? Math.max(...nz) / Math.min(...nz) : 1;
  return { split, task: ds.task, total, classes, imbalance };
}

/** Reports for several named splits, e.g. `classBalanceReport({ train, val, test })`. */
export function classBalanceReport(splits: Readonly<Record<string, ImageDataset>>): ClassBalance[] {
  return Object.entries(splits).map(([name, ds]) => classBalance(ds, name));
}

/** A plain-text table: one row per class, one `count (pct)` column per split. */
export function formatClassBalance(reports: readonly ClassBalance[]): string {
  if (reports.length === 0) return '';
  const names = reports[0]!.classes.map((c) => c.name);
  const header = ['class', ...reports.map((r) => `${r.split} (n=${r.total})`)];
  const rows = names.map((name, k) => [
    name,
    ...reports.map((r) => {
      const c = r.classes[k];
      return c ? `${c.count} (${(100 * c.fraction).toFixed(1)}%)` : '-';
    }),
  ]);
  if (reports.some((r) => r.task === 'multi')) rows.push(['(multi-label: % = prevalence)', ...reports.map(() => '')]);
  const all = [header, ...rows];
  const widths = header.map((_, j) => Math.max(...all.map((r) => r[j]!.length)));
  return all.map((r) => r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  ').trimEnd()).join('\n');
}
