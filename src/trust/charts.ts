/**
 * Vega-Lite specifications for the trust charts (rendered to SVG by src/report/chart.ts): reliability
 * diagram with its count histogram, before/after recalibration side by side, ROC with the chosen
 * operating point, precision–recall, risk–coverage, conformal set sizes. Pure functions of the
 * statistics' results; no rendering here.
 */
import type { VegaLiteSpec } from '../report/types.js';
import type { Reliability } from './calibration.js';
import type { PrCurve, RocCurve } from './curves.js';
import type { RiskCoverage } from './uncertainty.js';
import type { SetEvaluation } from './conformal.js';

const W = 260;
const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Reliability panel: observed frequency against mean confidence per bin, the diagonal, and a count histogram below. */
function reliabilityPanel(rel: Reliability, title: string, what: string): VegaLiteSpec {
  const bins = rel.bins.map((b) => ({ lower: b.lower, upper: b.upper, count: b.count, confidence: b.confidence, accuracy: b.accuracy, mid: (b.lower + b.upper) / 2 }));
  const filled = bins.filter((b) => b.count > 0);
  const scale = { domain: [0, 1] };
  return {
    title: { text: title, subtitle: `ECE of this curve ${rel.ece.toFixed(3)}, MCE ${rel.mce.toFixed(3)}, ${rel.strategy === 'uniform' ? 'equal-width' : 'equal-mass'} bins, n = ${rel.n}` },
    vconcat: [
      {
        width: W,
        height: W,
        layer: [
          { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#888' }, encoding: { x: { field: 'x', type: 'quantitative', scale }, y: { field: 'y', type: 'quantitative', scale } } },
          {
            data: { values: filled },
            mark: { type: 'rule', color: '#d62728', strokeWidth: 2 },
            encoding: { x: { field: 'confidence', type: 'quantitative', scale }, y: { field: 'confidence', type: 'quantitative', scale }, y2: { field: 'accuracy' } },
          },
          {
            data: { values: filled },
            mark: { type: 'line', point: { filled: true, size: 50 }, color: '#1f77b4' },
            encoding: {
              x: { field: 'confidence', type: 'quantitative', title: `mean predicted ${what}`, scale },
              y: { field: 'accuracy', type: 'quantitative', title: 'observed frequency', scale },
              tooltip: [{ field: 'count', type: 'quantitative' }],
            },
          },
        ],
      },
      {
        width: W,
        height: 70,
        data: { values: bins },
        mark: { type: 'rect', color: '#7f7f7f', stroke: 'white', strokeWidth: 1 },
        encoding: {
          x: { field: 'lower', type: 'quantitative', title: `${what} (bin)`, scale },
          x2: { field: 'upper' },
          y: { field: 'count', type: 'quantitative', title: 'cases' },
          y2: { datum: 0 },
        },
      },
    ],
  };
}

/** Reliability diagram with count histogram. `what` names the score ('confidence', 'probability of pneumonia'). */
export function reliabilityChart(rel: Reliability, opts: { title?: string; what?: string } = {}): VegaLiteSpec {
  return reliabilityPanel(rel, opts.title ?? 'Reliability diagram', opts.what ?? 'confidence');
}

/** Before and after recalibration, side by side (same bins, same axes). */
export function recalibrationChart(panels: { label: string; reliability: Reliability }[], what = 'confidence'): VegaLiteSpec {
  return { title: 'Calibration before and after recalibration (held-out data)', hconcat: panels.map((p) => reliabilityPanel(p.reliability, p.label, what)) };
}

/** ROC curve with the chance diagonal and the operating point(s). */
export function rocChart(roc: RocCurve, opts: { auc?: number; points?: { label: string; fpr: number; tpr: number }[]; title?: string } = {}): VegaLiteSpec {
  const values = roc.fpr.map((f, i) => ({ fpr: r4(f), tpr: r4(roc.tpr[i]!) }));
  const scale = { domain: [0, 1] };
  const layer: VegaLiteSpec[] = [
    { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#888' }, encoding: { x: { field: 'x', type: 'quantitative', scale }, y: { field: 'y', type: 'quantitative', scale } } },
    { data: { values }, mark: { type: 'line', color: '#1f77b4' }, encoding: { x: { field: 'fpr', type: 'quantitative', title: '1 − specificity (false-positive rate)', scale }, y: { field: 'tpr', type: 'quantitative', title: 'sensitivity (true-positive rate)', scale } } },
  ];
  if (opts.points?.length) {
    const pts = opts.points.map((p) => ({ ...p, fpr: r4(p.fpr), tpr: r4(p.tpr) }));
    layer.push({ data: { values: pts }, mark: { type: 'point', filled: true, size: 90, color: '#d62728' }, encoding: { x: { field: 'fpr', type: 'quantitative' }, y: { field: 'tpr', type: 'quantitative' }, shape: { field: 'label', type: 'nominal', title: 'operating point' } } });
    layer.push({ data: { values: pts }, mark: { type: 'text', align: 'left', dx: 8, dy: 10, fontSize: 10 }, encoding: { x: { field: 'fpr', type: 'quantitative' }, y: { field: 'tpr', type: 'quantitative' }, text: { field: 'label' } } });
  }
  return { title: opts.title ?? `ROC curve${opts.auc !== undefined ? ` (AUROC ${opts.auc.toFixed(3)})` : ''}`, width: W, height: W, layer };
}

/** Precision–recall curve with the prevalence (a random classifier's precision) as a dashed line. */
export function prChart(pr: PrCurve, opts: { ap?: number; prevalence?: number; title?: string } = {}): VegaLiteSpec {
  const values = pr.recall.map((r, i) => ({ recall: r4(r), precision: r4(pr.precision[i]!) }));
  const scale = { domain: [0, 1] };
  const layer: VegaLiteSpec[] = [
    { data: { values }, mark: { type: 'line', interpolate: 'step-before', color: '#1f77b4' }, encoding: { x: { field: 'recall', type: 'quantitative', title: 'recall (sensitivity)', scale }, y: { field: 'precision', type: 'quantitative', title: 'precision (PPV)', scale } } },
  ];
  if (opts.prevalence !== undefined) layer.push({ data: { values: [{ y: opts.prevalence }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { field: 'y', type: 'quantitative' } } });
  return { title: opts.title ?? `Precision–recall curve${opts.ap !== undefined ? ` (average precision ${opts.ap.toFixed(3)})` : ''}`, width: W, height: W, layer };
}

/** Risk (error rate among kept cases) against coverage, with the chosen coverage marked. At most ~400 points are drawn. */
export function riskCoverageChart(rc: RiskCoverage, opts: { coverage?: number; title?: string; label?: string } = {}): VegaLiteSpec {
  const n = rc.risk.length;
  const step = Math.max(1, Math.floor(n / 400));
  const values = rc.risk.map((r, i) => ({ coverage: r4(rc.coverage[i]!), risk: r4(r) })).filter((_, i) => i % step === 0 || i === n - 1);
  const layer: VegaLiteSpec[] = [
    { data: { values }, mark: { type: 'line', color: '#1f77b4' }, encoding: { x: { field: 'coverage', type: 'quantitative', title: 'coverage (fraction of cases the model decides)', scale: { domain: [0, 1] } }, y: { field: 'risk', type: 'quantitative', title: 'error rate among those cases' } } },
  ];
  if (opts.coverage !== undefined) layer.push({ data: { values: [{ x: opts.coverage }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#d62728' }, encoding: { x: { field: 'x', type: 'quantitative' } } });
  return { title: opts.title ?? `Risk–coverage (AURC ${rc.aurc.toFixed(4)}${opts.label ? `, ${opts.label}` : ''})`, width: W, height: 200, layer };
}

/** Conformal prediction-set sizes: how many cases get each size, and the coverage within each size. */
export function setSizeChart(ev: SetEvaluation, title = 'Conformal prediction sets by size'): VegaLiteSpec {
  const values = ev.bySize.map((b) => ({ size: String(b.size), count: b.count, coverage: b.coverage === null ? 'n/a' : b.coverage.toFixed(2) }));
  return {
    title: { text: title, subtitle: `coverage ${ev.coverage.toFixed(3)}, mean size ${ev.meanSize.toFixed(2)}` },
    width: 200,
    height: 180,
    data: { values },
    layer: [
      { mark: { type: 'bar', color: '#1f77b4' }, encoding: { x: { field: 'size', type: 'ordinal', title: 'set size (classes)', axis: { labelAngle: 0 } }, y: { field: 'count', type: 'quantitative', title: 'cases' } } },
      { mark: { type: 'text', dy: -6 }, encoding: { x: { field: 'size', type: 'ordinal' }, y: { field: 'count', type: 'quantitative' }, text: { field: 'coverage' } } },
    ],
  };
}
