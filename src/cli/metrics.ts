/**
 * `candor metrics`: clinical metrics of a classifier with intervals — sensitivity, specificity, PPV,
 * NPV, accuracy (Wilson and Clopper–Pearson), balanced accuracy, F1, confusion matrix, ROC and PR
 * curves, AUROC with DeLong's interval, Youden / fixed-sensitivity thresholds, prevalence-adjusted
 * PPV/NPV, per-subgroup tables, and DeLong's paired test against a second model.
 */
import { UsageError, parse } from './args.js';
import { resolvePreprocessing } from './preprocess-args.js';
import { CAL_OPTIONS, INPUT_HELP, INPUT_OPTIONS, loadInputs, modelRunOptions, numberArg, outDir, printChecks, writePart } from '../trust/cli-common.js';
import { discriminationPart } from '../trust/report-discrimination.js';
import { isMultiLabelModel, loadPredictionFile, predictMultiLabel, predictWithModel } from '../trust/inputs.js';
import { multiLabelStats } from '../trust/multilabel.js';
import { multiLabelPart } from '../trust/report-multilabel.js';
import { column, oneVsRest } from '../trust/binary.js';
import { delongPairedTest } from '../trust/delong.js';
import { num } from '../trust/report-format.js';

export const METRICS_USAGE = `usage: candor metrics (--model m.onnx [--data D] [--split test] | --probs FILE [--labels FILE]) --out DIR
       [--threshold 0.5|youden|sens:0.9] [--positive 1] [--group-column COL] [--prevalence 0.01,0.05,0.1]
       [--confidence 0.95] [--compare-model m2.onnx | --compare-probs FILE2 [--compare-labels FILE]]
       [--min-sensitivity 0.8] [--min-specificity 0.8] [--force]

Sensitivity, specificity, PPV, NPV and accuracy with Wilson and Clopper–Pearson intervals; balanced
accuracy, F1, confusion matrix; ROC and precision–recall curves; AUROC with DeLong's interval;
Youden and 90 %-sensitivity thresholds; PPV/NPV restated at other prevalences; a table per subgroup
(--group-column, CSV input); with --compare-*, DeLong's paired test of equal AUROC. Youden or
sensitivity thresholds are chosen on the calibration split when one is given (--cal-split etc.),
otherwise on the evaluated cases (optimistic, and said so).

${INPUT_HELP}
${'Threshold selection split (optional):\n  --cal-split val | --cal-probs FILE [--cal-labels FILE] | --cal-fraction F'}`;

export async function metricsCommand(argv: string[]): Promise<void> {
  const { values: v } = parse(
    argv,
    {
      ...INPUT_OPTIONS,
      ...CAL_OPTIONS,
      threshold: { type: 'string', default: '0.5' },
      positive: { type: 'string' },
      prevalence: { type: 'string' },
      confidence: { type: 'string', default: '0.95' },
      'compare-model': { type: 'string' },
      'compare-probs': { type: 'string' },
      'compare-labels': { type: 'string' },
      'min-sensitivity': { type: 'string' },
      'min-specificity': { type: 'string' },
    },
    METRICS_USAGE,
  );
  if (v.help) {
    console.log(METRICS_USAGE);
    return;
  }
  const dir = outDir(v, METRICS_USAGE);
  const threshold = parseThreshold(v.threshold!);
  const confidence = numberArg(v.confidence, '--confidence', 0.95, (x) => x > 0 && x < 1, 'in (0, 1)');
  const models = (v.model as string[] | undefined) ?? [];
  if (models.length === 1 && isMultiLabelModel(models[0]!)) {
    await multiLabelMetrics(v, dir, models[0]!, threshold, confidence);
    return;
  }
  const prevalences = v.prevalence ? v.prevalence.split(',').map((s) => numberArg(s, '--prevalence', 0, (x) => x >= 0 && x <= 1, 'comma-separated numbers in [0, 1]')) : undefined;
  const { data, cal, record } = await loadInputs(v, METRICS_USAGE, { cal: 'optional' });
  const positive = v.positive === undefined ? undefined : numberArg(v.positive, '--positive', 1, (x) => Number.isInteger(x) && x >= 0 && x < data.k, `a class index in [0, ${data.k})`);
  if (v['group-column'] && !data.groups) throw new UsageError('--group-column needs CSV input');
  const part = discriminationPart(data, data.k, {
    classNames: data.classNames,
    positiveClass: positive,
    threshold,
    thresholdData: cal,
    groups: data.groups,
    prevalences,
    confidence,
    minSensitivity: v['min-sensitivity'] ? numberArg(v['min-sensitivity'], '--min-sensitivity', 0.8, (x) => x >= 0 && x <= 1, 'in [0, 1]') : undefined,
    minSpecificity: v['min-specificity'] ? numberArg(v['min-specificity'], '--min-specificity', 0.8, (x) => x >= 0 && x <= 1, 'in [0, 1]') : undefined,
    sectionId: 'metrics',
  });
  if (v['compare-model'] || v['compare-probs']) {
    const other = v['compare-model']
      ? await predictWithModel(v['compare-model'], { data: v.data!, split: v.split as 'test', seed: Number(v.seed), limit: v.limit ? Number(v.limit) : undefined, pre: resolvePreprocessing(v, v['compare-model']).pre })
      : loadPredictionFile(v['compare-probs']!, { labels: v['compare-labels'], labelColumn: v['label-column'], logits: v.logits });
    if (v['cal-fraction']) throw new UsageError('--compare-* cannot be combined with --cal-fraction (the cases would not line up)');
    if (other.labels.length !== data.labels.length || other.labels.some((y, i) => y !== data.labels[i])) throw new UsageError('the compared predictions must be on the same cases with the same labels, in the same order');
    if (other.k !== data.k) throw new UsageError(`the compared predictions have ${other.k} classes, the input has ${data.k}`);
    const pos = positive ?? (data.k === 2 ? 1 : data.k - 1);
    const y = oneVsRest(data.labels, pos);
    const test = delongPairedTest(column(data.probs, data.k, pos), column(other.probs, data.k, pos), y);
    part.results.comparison = { other: other.source, ...test };
    part.tables.push({ caption: "DeLong's paired test of equal AUROC", columns: ['model', 'AUROC', 'difference', 'SE of difference', 'z', 'p'], rows: [[data.source, +test.auc[0].toFixed(4), +test.difference.toFixed(4), +test.seDifference.toFixed(4), test.z === null ? null : +test.z.toFixed(3), +test.p.toPrecision(3)], [other.source, +test.auc[1].toFixed(4), null, null, null, null]] });
    part.summary.push(`Compared with ${other.source}, the AUROC differs by ${num(test.difference)} (DeLong's paired test p = ${test.p.toPrecision(2)}).`);
  }
  const written = await writePart(dir, part, { command: 'metrics', source: data.source, n: data.labels.length, classes: data.classNames, calibrationSource: cal?.source ?? null, ...record });
  printChecks(part, dir, written);
}

/** `candor metrics` for a multi-label model: per finding, macro and micro (src/trust/multilabel.ts). */
async function multiLabelMetrics(v: Record<string, unknown>, dir: string, model: string, threshold: ReturnType<typeof parseThreshold>, confidence: number): Promise<void> {
  if (typeof threshold !== 'number') throw new UsageError(`--threshold ${v.threshold} is chosen per finding for multi-label models: not supported yet; give a probability (default 0.5)`);
  for (const f of ['compare-model', 'compare-probs', 'group-column', 'positive', 'prevalence', 'cal-split', 'cal-probs', 'cal-fraction']) {
    if (v[f] !== undefined) throw new UsageError(`--${f} is not supported for multi-label models yet (${model} has one sigmoid per finding)`);
  }
  if (!v.data) throw new UsageError(`${model} is multi-label: give --data with a label matrix [N, K] (ChestMNIST's layout)`);
  const { pre, record } = modelRunOptions(v as Record<string, string>, [model]);
  const pred = await predictMultiLabel(model, { data: v.data as string, split: (v.split as 'test' | undefined) ?? 'test', seed: Number(v.seed ?? 0), limit: v.limit ? Number(v.limit) : undefined, pre: pre!.pre });
  const names = v['class-names'] ? String(v['class-names']).split(',').map((s) => s.trim()) : pred.classNames;
  if (names.length !== pred.k) throw new UsageError(`--class-names has ${names.length} names for ${pred.k} findings`);
  const minPositives = 10;
  const stats = multiLabelStats(pred.probs, pred.outcomes, names, { threshold, confidence, minPositives });
  const part = multiLabelPart(stats, { sectionId: 'metrics', source: pred.source, minPositives });
  const written = await writePart(dir, part, { command: 'metrics', task: 'multilabel', source: pred.source, n: pred.outcomes.length / pred.k, labels: names, ...record });
  for (const line of part.summary) console.log(line);
  printChecks(part, dir, written);
}

function parseThreshold(s: string): number | 'youden' | { sensitivity: number } {
  if (s === 'youden') return 'youden';
  const m = /^sens(?:itivity)?:(.+)$/.exec(s);
  if (m) return { sensitivity: numberArg(m[1], '--threshold sens:', 0.9, (x) => x > 0 && x <= 1, 'in (0, 1]') };
  return numberArg(s, '--threshold', 0.5, Number.isFinite, "a number, 'youden' or 'sens:0.9'");
}
