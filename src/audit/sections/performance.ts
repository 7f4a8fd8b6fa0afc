/**
 * Clinical performance of every model the audit uses, on the whole test split: the audited model,
 * the random-label model (should be at chance) and the shortcut model on clean and on marked images.
 * Binary tasks: sensitivity, specificity, PPV, NPV with Wilson intervals, AUROC with DeLong's
 * interval, balanced accuracy; more classes: accuracy, balanced accuracy, macro AUROC.
 */
import { clinicalMetrics, type ClinicalMetrics } from '../../trust/clinical.js';
import { delongAuc } from '../../trust/delong.js';
import { balancedAccuracy, confusionMatrix, macroAuroc, argmax } from '../../train/metrics.js';
import type { Model } from '../../runtime/model.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { CheckItem, Figure, Section, Table } from '../../report/types.js';
import { keyOf } from '../cache.js';
import type { AuditContext } from '../context.js';
import { confusionChart } from '../figures.js';
import { probabilities } from '../predictions.js';
import { getSanityModel } from '../sanity-models.js';
import { markedTest } from '../marked.js';
import { CHANCE_MARGIN, randomLabelsPrecondition, SHORTCUT_DROP, SHORTCUT_MARKED } from '../preconditions.js';
import { MEMORISED } from '../sanity-models.js';

export interface ModelPerformance {
  label: string;
  n: number;
  accuracy: number;
  balancedAccuracy: number;
  auroc: number | null;
  aurocCi?: [number, number];
  binary?: ClinicalMetrics;
  confusion: number[][];
}

/** Performance of a model on images with labels (probabilities cached). */
export async function performanceOf(ctx: AuditContext, label: string, modelId: string, model: Model, images: Tensor, imagesId: string, labels: ArrayLike<number>): Promise<ModelPerformance> {
  const k = model.numClasses;
  const probs = await probabilities(ctx, modelId, model, images, imagesId);
  const pred = argmax(probs, k);
  const n = labels.length;
  const confusion = confusionMatrix(pred, labels, k);
  const correct = Array.from(pred).filter((p, i) => p === labels[i]).length;
  const out: ModelPerformance = { label, n, accuracy: correct / n, balancedAccuracy: balancedAccuracy(pred, labels, k), auroc: null, confusion };
  if (k === 2) {
    const pos = Float64Array.from({ length: n }, (_, i) => probs[i * 2 + 1]!);
    out.binary = clinicalMetrics(pos, labels);
    const both = new Set(Array.from(labels)).size === 2;
    if (both) {
      const d = delongAuc(pos, labels);
      out.auroc = d.auc;
      out.aurocCi = [d.ci.lower, d.ci.upper];
    }
  } else {
    out.auroc = macroAuroc(probs, labels, k) ?? null;
  }
  return out;
}

const pct = (p: { value: number | null; wilson: { lower: number; upper: number } | null }) =>
  p.value === null ? 'n/a' : `${(100 * p.value).toFixed(1)}% [${(100 * p.wilson!.lower).toFixed(1)}, ${(100 * p.wilson!.upper).toFixed(1)}]`;

export function performanceTable(rows: ModelPerformance[], classes: readonly string[]): Table {
  const binary = rows.every((r) => r.binary);
  if (binary) {
    return {
      caption: `Positive class: ${classes[1]}. Threshold 0.5 on its probability. 95% Wilson intervals; AUROC with DeLong's interval.`,
      columns: ['model / images', 'n', 'sensitivity', 'specificity', 'PPV', 'NPV', 'balanced accuracy', 'AUROC'],
      rows: rows.map((r) => [r.label, r.n, pct(r.binary!.sensitivity), pct(r.binary!.specificity), pct(r.binary!.ppv), pct(r.binary!.npv), r.balancedAccuracy, r.auroc === null ? null : `${r.auroc.toFixed(3)} [${r.aurocCi![0].toFixed(3)}, ${r.aurocCi![1].toFixed(3)}]`]),
    };
  }
  return { caption: 'Accuracy, balanced accuracy and macro one-vs-rest AUROC.', columns: ['model / images', 'n', 'accuracy', 'balanced accuracy', 'AUROC (macro)'], rows: rows.map((r) => [r.label, r.n, r.accuracy, r.balancedAccuracy, r.auroc]) };
}

/** What the shortcut model's marked and clean test performance shows, and no more. */
function shortcutSentence(spec: string, marked: ModelPerformance, clean: ModelPerformance): string {
  const head = `The shortcut model (trained with the artifact '${spec}' coding the label) reaches balanced accuracy ${marked.balancedAccuracy.toFixed(3)} on marked images and ${clean.balancedAccuracy.toFixed(3)} on clean ones`;
  const drop = marked.balancedAccuracy - clean.balancedAccuracy;
  if (marked.balancedAccuracy >= SHORTCUT_MARKED && drop >= SHORTCUT_DROP) return `${head}: the drop of ${drop.toFixed(3)} is what it learned from the marker instead of the image.`;
  return `${head}: it did not learn to rely on the marker (a drop of ${drop.toFixed(3)}; the shortcut test needs ≥ ${SHORTCUT_MARKED} on marked images and a drop ≥ ${SHORTCUT_DROP}).`;
}

export async function performanceSection(ctx: AuditContext): Promise<Section> {
  const { subject, data } = ctx;
  const test = data.test;
  const testId = keyOf('test', ctx.sample.id, test.images.shape);
  const labels = test.labels as Int32Array;
  const rows: ModelPerformance[] = [await performanceOf(ctx, 'audited model, test images', subject.id, subject.model, test.images, testId, labels)];
  const random = await getSanityModel(ctx, 'random-labels');
  rows.push(await performanceOf(ctx, 'random-label model, test images', random.id, random.model, test.images, testId, labels));
  const shortcut = await getSanityModel(ctx, 'shortcut');
  rows.push(await performanceOf(ctx, 'shortcut model, clean test images', shortcut.id, shortcut.model, test.images, testId, labels));
  const marked = await markedTest(ctx);
  rows.push(await performanceOf(ctx, 'shortcut model, marked test images', shortcut.id, shortcut.model, marked.images, marked.id, marked.labels));
  rows.push(await performanceOf(ctx, 'audited model, marked test images', subject.id, subject.model, marked.images, marked.id, marked.labels));

  const base = rows[0]!;
  const rnd = rows[1]!;
  const checks: CheckItem[] = [];
  const chance = 1 / subject.model.numClasses;
  const pre = await randomLabelsPrecondition(ctx);
  checks.push({
    id: 'random-labels-chance',
    question: 'Is the random-label model a valid control (it memorised its permuted labels and is at chance on test images), as the data randomization test assumes?',
    verdict: pre.holds ? 'pass' : 'warn',
    value: pre.value,
    threshold: `training accuracy ≥ ${MEMORISED}; balanced accuracy within ${CHANCE_MARGIN} of ${chance.toFixed(2)}${rnd.auroc !== null ? ` and AUROC within ${CHANCE_MARGIN} of 0.5` : ''}`,
    why: pre.holds
      ? 'A model trained on permuted labels learns nothing that generalises: at chance on test images, it is the control the data randomization test compares maps against.'
      : `Not a valid control: ${pre.reason}. The data randomization test is not meaningful until it is.`,
    section: 'performance',
  });
  if (base.binary) {
    const sens = base.binary.sensitivity;
    const spec = base.binary.specificity;
    checks.push({
      id: 'clinical-performance',
      question: 'How well does the model detect the positive class, with what uncertainty?',
      verdict: 'question',
      value: `sensitivity ${pct(sens)}, specificity ${pct(spec)}, AUROC ${base.auroc?.toFixed(3) ?? 'n/a'}`,
      why: 'Whether these are good enough depends on the clinical use (screening needs sensitivity, confirmation specificity); the intervals say how much the test set can tell.',
      section: 'performance',
    });
  }
  const figures: Figure[] = rows.map((r, i) => ({ id: `confusion-${i}`, title: `Confusion matrix — ${r.label}`, spec: confusionChart('', subject.classes, r.confusion) }));
  const summary = [
    `The audited model on the ${base.n} test images: balanced accuracy ${base.balancedAccuracy.toFixed(3)}${base.auroc !== null ? `, AUROC ${base.auroc.toFixed(3)}` : ''}${base.binary ? `; it finds ${pct(base.binary.sensitivity)} of ${subject.classes[1]} cases and clears ${pct(base.binary.specificity)} of ${subject.classes[0]} cases` : ''}.`,
    `The random-label model (trained on permuted labels, for the data randomization test) reaches balanced accuracy ${rnd.balancedAccuracy.toFixed(3)}${rnd.auroc !== null ? ` and AUROC ${rnd.auroc.toFixed(3)}` : ''}; chance is ${chance.toFixed(2)}${rnd.auroc !== null ? ' and 0.5' : ''}. ${pre.holds ? 'It is at chance, as a control should be.' : `It is not a valid control: ${pre.reason}.`}`,
    shortcutSentence(ctx.opts.shortcut, rows[3]!, rows[2]!),
  ];
  return {
    id: 'performance',
    title: 'Clinical performance of the models',
    summary,
    figures,
    tables: [performanceTable(rows, subject.classes)],
    results: { models: rows },
    checks,
  };
}
