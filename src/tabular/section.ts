/**
 * The report section for tabular SHAP: the figures (bar, beeswarm, waterfall and force plot of one
 * patient, dependence of the top feature), tables of the global ranking and of the patient's
 * contributions, a plain-language reading, and every number for results.json.
 */
import type { CheckItem, Figure, Section, Table } from '../report/types.js';
import { localAccuracyError } from './accuracy.js';
import { barSpec, beeswarmSpec, dependenceSpec, forceSvg, meanAbs, ranking, rowContributions, waterfallSpec, type ShapMatrix } from './plots.js';

export interface ShapSectionInput extends ShapMatrix {
  /** Model output for each explained row, in the space of the values. */
  output: Float64Array;
  /** 'tree-path-dependent', 'tree-interventional', 'kernel (…)'. */
  method: string;
  modelDescription: string;
  /** The row to explain in detail (index into the explained rows). */
  row: number;
  /** Label to show for the row (its line in the table, 0-based data row). */
  rowLabel?: string;
  /** Held-out performance of a model candor trained, when there is one. */
  metrics?: Record<string, number>;
  backgroundRows?: number;
  dataDescription?: string;
  tolerance?: number;
}

const METHOD_TEXT: Record<string, string> = {
  'tree-path-dependent': 'path-dependent TreeSHAP (exact; absent features averaged over the training data along the trees)',
  'tree-interventional': 'interventional TreeSHAP (exact; absent features replaced by background rows)',
};

function methodText(m: string): string {
  return METHOD_TEXT[m] ?? (m.startsWith('kernel') ? `KernelSHAP (sampled, ${m.replace(/^kernel \(|\)$/g, '')})` : m);
}

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

export function shapSection(s: ShapSectionInput): Section {
  const { n, d, row } = s;
  if (!(row >= 0 && row < n)) throw new Error(`row ${row} is outside the ${n} explained rows`);
  const order = ranking(s);
  const mabs = meanAbs(s);
  const top = order[0]!;
  // the feature the top feature's SHAP values vary most with, for the dependence plot's colour
  const partner = order.find((j) => j !== top);
  const acc = localAccuracyError(s);
  const rowLabel = s.rowLabel ?? `row ${row}`;
  const contrib = rowContributions(s, row, 10);
  const fx = s.output[row]!;
  const up = contrib.filter((c) => c.feature !== null && c.value > 0).slice(0, 3);
  const down = contrib.filter((c) => c.feature !== null && c.value < 0).slice(0, 3);
  const share = mabs.reduce((a, b) => a + b, 0);
  const top3Share = share > 0 ? order.slice(0, 3).reduce((a, j) => a + mabs[j]!, 0) / share : 0;

  const figures: Figure[] = [
    { id: 'shap-bar', title: 'Global feature importance', caption: `Mean absolute SHAP value of each feature over the ${n} explained rows: how far, on average, the feature moves the model's output (${s.outputLabel}) away from the baseline.`, spec: barSpec(s) },
    { id: 'shap-beeswarm', title: 'SHAP summary (beeswarm)', caption: 'One dot per row and feature: its position is the SHAP value, its colour the feature value (red high, blue low). Red dots on the right mean high values push the output up.', spec: beeswarmSpec(s) },
    { id: 'shap-waterfall', title: `Explanation of ${rowLabel} (waterfall)`, caption: `Starting from the average output E[f(X)] = ${r4(s.expected)}, each bar adds one feature's contribution until the model's output for this row, f(x) = ${r4(fx)}.`, spec: waterfallSpec(s, row) },
    { id: 'shap-force', title: `Explanation of ${rowLabel} (force plot)`, caption: 'The same contributions on one axis: red features push the output higher, blue ones lower; they meet at f(x).', svg: forceSvg(s, row) },
    { id: 'shap-dependence', title: `Dependence on ${s.featureNames[top]}`, caption: `SHAP value of ${s.featureNames[top]} against its value, coloured by ${partner !== undefined ? s.featureNames[partner] : 'nothing'}; vertical spread at one value shows interactions with other features.`, spec: dependenceSpec(s, top, partner) },
  ];
  const tables: Table[] = [
    { caption: 'Features ranked by mean |SHAP value|', columns: ['rank', 'feature', `mean |SHAP| (${s.outputLabel})`], rows: order.slice(0, 15).map((j, i) => [i + 1, s.featureNames[j]!, r4(mabs[j]!)]) },
    { caption: `Contributions for ${rowLabel}`, columns: ['feature = value', 'SHAP value'], rows: [['E[f(X)] (baseline)', r4(s.expected)], ...contrib.map((c) => [c.label, r4(c.value)] as [string, number]), ['f(x) (model output)', r4(fx)]] },
  ];
  const names = (cs: typeof up) => cs.map((c) => c.label).join(', ');
  const summary = [
    `${s.modelDescription} was explained with ${methodText(s.method)} on ${n} rows${s.dataDescription ? ` of ${s.dataDescription}` : ''}${s.backgroundRows ? `, against ${s.backgroundRows} background rows` : ''}. Values are in ${s.outputLabel}.`,
    `Across these rows the model leans most on ${order.slice(0, 3).map((j) => s.featureNames[j]).join(', ')}; together they carry ${(100 * top3Share).toFixed(0)}% of the total mean |SHAP|. This describes the model, not the disease: a feature can rank high because it is correlated with the true cause.`,
    `For ${rowLabel} the model outputs ${r4(fx)} against an average of ${r4(s.expected)}.${up.length ? ` Pushing it up: ${names(up)}.` : ''}${down.length ? ` Pushing it down: ${names(down)}.` : ''}`,
    `Local accuracy holds: for every row the SHAP values add up to the output minus the baseline (largest relative error ${acc.worst.toExponential(1)}).`,
  ];
  if (s.metrics) summary.push(`The model's held-out performance: ${Object.entries(s.metrics).map(([k, v]) => `${k} ${r4(v)}`).join(', ')}.`);
  const checks: CheckItem[] = [
    {
      id: 'shap-local-accuracy',
      question: "Do the SHAP values add up to the model's output?",
      verdict: acc.worst <= (s.tolerance ?? 1e-6) ? 'pass' : 'fail',
      value: `largest relative error ${acc.worst.toExponential(1)}`,
      threshold: `≤ ${(s.tolerance ?? 1e-6).toExponential(0)}`,
      why: 'Shapley values are exact decompositions of the output; a gap means the explainer and the model disagree.',
      section: 'tabular-shap',
    },
    {
      id: 'shap-top-features',
      question: 'Are the features the model relies on clinically plausible?',
      verdict: 'question',
      value: order.slice(0, 5).map((j) => s.featureNames[j]).join(', '),
      why: 'Only a clinician can judge whether these features should drive the prediction, or whether the model has picked up a proxy (site, device, a measurement artefact).',
      section: 'tabular-shap',
    },
  ];
  const results: Record<string, unknown> = {
    method: s.method,
    model: s.modelDescription,
    outputSpace: s.outputLabel,
    rows: n,
    features: s.featureNames,
    expectedValue: s.expected,
    meanAbsShap: Object.fromEntries(order.map((j) => [s.featureNames[j]!, mabs[j]!])),
    ranking: order.map((j) => s.featureNames[j]!),
    row: { index: row, label: rowLabel, output: fx, values: Object.fromEntries(Array.from({ length: d }, (_, j) => [s.featureNames[j]!, s.values[row * d + j]!])) },
    localAccuracy: { maxRelativeError: acc.worst, worstRow: acc.row },
    ...(s.backgroundRows ? { backgroundRows: s.backgroundRows } : {}),
    ...(s.metrics ? { metrics: s.metrics } : {}),
  };
  return { id: 'tabular-shap', title: 'Tabular model explanations (SHAP)', summary, figures, tables, results, checks };
}
