/**
 * The discrimination part of the trust report: clinical metrics with intervals at an operating
 * threshold, ROC/PR with AUROC (DeLong CI) and average precision, Youden and fixed-sensitivity
 * thresholds, prevalence-adjusted PPV/NPV, per-subgroup table. K > 2: one-vs-rest per class at the
 * argmax prediction, plus the curves of one chosen class.
 */
import type { CheckItem } from '../report/types.js';
import { argmax, macroAuroc } from '../train/metrics.js';
import { column, oneVsRest } from './binary.js';
import { binaryCounts, clinicalMetrics, metricsFromCounts, prevalenceAdjusted, subgroupMetrics, thresholdForSensitivity, youdenThreshold, type ClinicalMetrics, type ThresholdChoice } from './clinical.js';
import { averagePrecision, precisionRecallCurve, rocCurve } from './curves.js';
import { delongAuc, type DelongAuc } from './delong.js';
import type { Proportion } from './intervals.js';
import { prChart, rocChart } from './charts.js';
import { check, ci, emptyPart, num, pct, type LabelledProbs, type Part } from './report-format.js';

export interface DiscriminationOptions {
  classNames?: string[];
  /** The class treated as "positive" (default 1 for K = 2; for K > 2 the curves are drawn for it, default K − 1). */
  positiveClass?: number;
  /** Operating threshold on p(positive): a number (default 0.5), 'youden', or a target sensitivity. */
  threshold?: number | 'youden' | { sensitivity: number };
  /** Data for choosing a Youden / fixed-sensitivity threshold without peeking at the evaluation cases. */
  thresholdData?: LabelledProbs;
  groups?: readonly string[];
  /** Prevalences at which to restate PPV/NPV (default 1 %, 5 %, 10 %, 30 %). */
  prevalences?: number[];
  confidence?: number;
  /** Minimum acceptable sensitivity and specificity for the checklist (default 0.8 each). */
  minSensitivity?: number;
  minSpecificity?: number;
  sectionId?: string;
}

const metricRow = (name: string, m: Proportion) =>
  [name, m.value === null ? null : +m.value.toFixed(4), `${m.successes}/${m.n}`, ci(m.wilson), ci(m.clopperPearson)];

function chooseThreshold(scores: Float64Array, labels: Uint8Array, opt: DiscriminationOptions['threshold'], held?: { s: Float64Array; y: Uint8Array }): { threshold: number; choice?: ThresholdChoice; note: string } {
  if (opt === undefined || typeof opt === 'number') return { threshold: opt ?? 0.5, note: `fixed threshold ${opt ?? 0.5}` };
  const [s, y, where] = held ? [held.s, held.y, 'the threshold-selection data'] : [scores, labels, 'the evaluation cases themselves (optimistic)'];
  const choice = opt === 'youden' ? youdenThreshold(s, y) : thresholdForSensitivity(s, y, opt.sensitivity);
  return { threshold: choice.threshold, choice, note: `${opt === 'youden' ? "Youden's J" : `sensitivity ≥ ${opt.sensitivity}`} chosen on ${where}` };
}

export function discriminationPart(data: LabelledProbs, k: number, opts: DiscriminationOptions = {}): Part {
  check(k, data.probs, data.labels, 'discriminationPart');
  const part = emptyPart();
  const names = opts.classNames ?? Array.from({ length: k }, (_, i) => `class ${i}`);
  const pos = opts.positiveClass ?? (k === 2 ? 1 : k - 1);
  if (!(Number.isInteger(pos) && pos >= 0 && pos < k)) throw new Error(`discriminationPart: positiveClass ${pos} is not in [0, ${k})`);
  const conf = opts.confidence ?? 0.95;
  const minSens = opts.minSensitivity ?? 0.8;
  const minSpec = opts.minSpecificity ?? 0.8;
  const sid = opts.sectionId ?? 'trust';
  const scores = column(data.probs, k, pos);
  const y = oneVsRest(data.labels, pos);
  const nPos = y.reduce((a, b) => a + b, 0);
  const nNeg = y.length - nPos;
  const P = names[pos]!;
  const held = opts.thresholdData ? { s: column(opts.thresholdData.probs, k, pos), y: oneVsRest(opts.thresholdData.labels, pos) } : undefined;
  const both = nPos > 0 && nNeg > 0;
  const th = both || typeof opts.threshold !== 'object' && opts.threshold !== 'youden' ? chooseThreshold(scores, y, opts.threshold, held) : { threshold: 0.5, note: 'fixed threshold 0.5 (one class only: no ROC)' };

  let m: ClinicalMetrics;
  if (k === 2) m = clinicalMetrics(scores, y, { threshold: th.threshold, confidence: conf });
  else {
    const pred = argmax(data.probs, k);
    m = metricsFromCounts(binaryCounts(Float64Array.from(pred, (p) => (p === pos ? 1 : 0)), y, 0.5), NaN, conf);
  }
  const results: Record<string, unknown> = { positiveClass: pos, classNames: names, threshold: th.threshold, thresholdRule: th.note, thresholdChoice: th.choice, metrics: m };
  part.tables.push({
    caption: `Confusion matrix (${k === 2 ? `predicted ${P} when p(${P}) ≥ ${num(th.threshold)}` : 'predicted class = most probable'}), rows = true class`,
    columns: ['true \\ predicted', ...(k === 2 ? names : names)],
    rows: k === 2 ? [[names[0]!, m.counts.tn, m.counts.fp], [names[1]!, m.counts.fn, m.counts.tp]] : confusionRows(data, k, names),
  });
  part.tables.push({
    caption: `Clinical metrics for ${P} (${th.note}; ${Math.round(conf * 100)} % intervals)`,
    columns: ['metric', 'value', 'count', 'Wilson interval', 'Clopper–Pearson interval'],
    rows: [
      metricRow('sensitivity (recall)', m.sensitivity),
      metricRow('specificity', m.specificity),
      metricRow('PPV (precision)', m.ppv),
      metricRow('NPV', m.npv),
      metricRow('accuracy', m.accuracy),
      ['balanced accuracy', +m.balancedAccuracy.toFixed(4), '', '', ''],
      ['F1', m.f1 === null ? null : +m.f1.toFixed(4), '', '', ''],
    ],
  });

  let auc: DelongAuc | null = null;
  if (!both) {
    results.auroc = null;
    results.aurocNote = `only ${nPos === 0 ? 'negatives' : 'positives'} for ${P}: AUROC, ROC and PR curves are undefined`;
  } else {
    const roc = rocCurve(scores, y);
    const pr = precisionRecallCurve(scores, y);
    const ap = averagePrecision(scores, y);
    if (nPos >= 2 && nNeg >= 2) auc = delongAuc(scores, y, conf);
    const youden = youdenThreshold(scores, y);
    const sens90 = thresholdForSensitivity(scores, y, 0.9);
    Object.assign(results, { auroc: auc, roc, pr, averagePrecision: ap, youden, sensitivity90: sens90 });
    if (k > 2) results.macroAuroc = macroAuroc(data.probs, data.labels, k) ?? null;
    const points = [{ label: `threshold ${num(th.threshold, 2)}`, fpr: 1 - (m.specificity.value ?? 0), tpr: m.sensitivity.value ?? 0 }, { label: `Youden ${num(youden.threshold, 2)}`, fpr: 1 - youden.specificity, tpr: youden.sensitivity }];
    part.figures.push({ id: `${sid}-roc`, title: `ROC curve for ${P}`, caption: `Each point of the curve is one threshold: how many ${P} cases are caught (up) against how many others are falsely flagged (right). The marked points are the operating threshold and Youden's best trade-off; the dashed diagonal is a coin toss.`, spec: rocChart(roc, { auc: auc?.auc, points: k === 2 ? points : points.slice(1) }) });
    part.figures.push({ id: `${sid}-pr`, title: `Precision–recall curve for ${P}`, caption: `Of the cases flagged as ${P}, the fraction truly ${P} (precision), as more of them are caught (recall). The dashed line is the prevalence, what flagging at random would give.`, spec: prChart(pr, { ap, prevalence: nPos / y.length }) });
    part.tables.push({
      caption: 'Alternative operating thresholds (chosen on these cases; optimistic)',
      columns: ['rule', 'threshold', 'sensitivity', 'specificity'],
      rows: [["Youden's J (max sensitivity + specificity − 1)", +youden.threshold.toFixed(4), +youden.sensitivity.toFixed(4), +youden.specificity.toFixed(4)], ['sensitivity ≥ 90 %', +sens90.threshold.toFixed(4), +sens90.sensitivity.toFixed(4), +sens90.specificity.toFixed(4)]],
    });
  }

  const prevs = opts.prevalences ?? [0.01, 0.05, 0.1, 0.3];
  if (m.sensitivity.value !== null && m.specificity.value !== null) {
    const adj = prevs.map((p) => prevalenceAdjusted(m.sensitivity.value!, m.specificity.value!, p));
    results.prevalenceAdjusted = adj;
    part.tables.push({ caption: `PPV and NPV if ${P} were more or less common than in these data (Bayes' rule, same sensitivity and specificity)`, columns: ['prevalence', 'PPV', 'NPV'], rows: adj.map((a) => [pct(a.prevalence), pct(a.ppv), pct(a.npv)]) });
  }

  if (opts.groups) {
    const rows = subgroupMetrics(scores, y, opts.groups, { threshold: k === 2 ? th.threshold : 0.5, confidence: conf });
    results.subgroups = rows;
    part.tables.push({
      caption: `Per subgroup (same threshold ${num(th.threshold)})`,
      columns: ['group', 'n', `${P} cases`, 'sensitivity', 'sensitivity interval (Wilson)', 'specificity', 'specificity interval (Wilson)', 'AUROC', 'AUROC interval (DeLong)'],
      rows: rows.map((r) => [r.group, r.metrics.n, r.metrics.counts.tp + r.metrics.counts.fn, r.metrics.sensitivity.value, ci(r.metrics.sensitivity.wilson), r.metrics.specificity.value, ci(r.metrics.specificity.wilson), r.auroc ? +r.auroc.auc.toFixed(4) : null, r.auroc ? ci(r.auroc.ci) : r.note ?? '']),
    });
    const sens = rows.map((r) => r.metrics.sensitivity.value).filter((v): v is number => v !== null);
    const gap = sens.length >= 2 ? Math.max(...sens) - Math.min(...sens) : null;
    part.checks.push({ id: 'trust.subgroup-gap', question: 'Is sensitivity similar across subgroups?', verdict: gap === null ? 'not run' : gap <= 0.1 ? 'pass' : 'warn', value: gap === null ? undefined : `largest gap ${pct(gap)}`, threshold: '≤ 10 percentage points', why: 'A gap of more than 10 points means some patients are missed much more often than others; check the subgroup sizes and intervals before concluding.', section: sid });
  }

  // Summary and checks.
  const s = m.sensitivity;
  const sp = m.specificity;
  part.summary.push(
    `Of ${nPos} ${P} cases the model flagged ${m.counts.tp} (sensitivity ${pct(s.value)}, ${Math.round(conf * 100)} % CI ${ci(s.wilson)}); of ${nNeg} other cases it correctly cleared ${m.counts.tn} (specificity ${pct(sp.value)}, ${ci(sp.wilson)}). ` +
      `When it calls ${P}, it is right ${pct(m.ppv.value)} of the time; when it rules ${P} out, ${pct(m.npv.value)}, at this data's prevalence of ${pct(m.prevalence)}.` +
      (results.prevalenceAdjusted ? ` At a prevalence of ${pct(prevs[0]!, 0)} a positive call would be right only ${pct((results.prevalenceAdjusted as { ppv: number | null }[])[0]!.ppv)} of the time.` : ''),
  );
  if (auc) part.summary.push(`The area under the ROC curve is ${num(auc.auc)} (${ci(auc.ci)} by DeLong's method): a randomly chosen ${P} case is scored above a randomly chosen other case ${pct(auc.auc)} of the time.`);
  const sensCheck: CheckItem = s.wilson && sp.wilson
    ? {
        id: 'trust.sensitivity-specificity',
        question: 'Are sensitivity and specificity high enough, with their uncertainty?',
        verdict: s.wilson.lower >= minSens && sp.wilson.lower >= minSpec ? 'pass' : (s.value! >= minSens && sp.value! >= minSpec ? 'warn' : 'fail'),
        value: `sensitivity ${pct(s.value)} [${ci(s.wilson)}], specificity ${pct(sp.value)} [${ci(sp.wilson)}]`,
        threshold: `lower ${Math.round(conf * 100)} % bound ≥ ${pct(minSens, 0)} and ≥ ${pct(minSpec, 0)}`,
        why: `A default bar for a triage aid: pass needs the whole interval above it, warn means the estimate clears it but the data cannot rule out less. The right bar depends on the intended use (screening needs sensitivity; confirmation needs specificity) and should be set with clinicians.`,
        section: sid,
      }
    : { id: 'trust.sensitivity-specificity', question: 'Are sensitivity and specificity high enough, with their uncertainty?', verdict: 'not run', why: `The labels contain only ${nPos === 0 ? 'negative' : 'positive'} cases, so one of the two cannot be measured.`, section: sid };
  part.checks.push(sensCheck);
  if (auc) part.checks.push({ id: 'trust.auroc', question: 'Does the model rank cases well (AUROC)?', verdict: auc.ci.lower >= 0.8 ? 'pass' : auc.auc >= 0.8 ? 'warn' : 'fail', value: `${num(auc.auc)} [${num(auc.ci.lower)}, ${num(auc.ci.upper)}]`, threshold: 'lower DeLong bound ≥ 0.80', why: 'AUROC 0.8 is the conventional floor for "good" discrimination; the interval must clear it for a pass.', section: sid });
  part.results.discrimination = results;
  return part;
}

function confusionRows(data: LabelledProbs, k: number, names: string[]): (string | number)[][] {
  const pred = argmax(data.probs, k);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < data.labels.length; i++) m[data.labels[i]!]![pred[i]!]!++;
  return m.map((row, c) => [names[c]!, ...row]);
}
