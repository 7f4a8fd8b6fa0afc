/**
 * Metrics against scikit-learn 1.2 (roc_auc_score, accuracy_score, balanced_accuracy_score,
 * confusion_matrix, log_loss) and PyTorch 1.13 float64 losses, on fixed vectors with ties
 * (fixtures/metrics.json, written by fixtures/make_fixtures.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  accuracy, argmax, auroc, aurocOneVsRest, balancedAccuracy, binaryCrossEntropy, binaryCrossEntropyPerElement,
  confusionMatrix, crossEntropy, crossEntropyPerSample, logSoftmax, macroAuroc, softmax,
} from './metrics.js';

type Case = Record<string, unknown> & { name: string };
const fx = JSON.parse(readFileSync(new URL('./fixtures/metrics.json', import.meta.url), 'utf8')) as { cases: Case[] };
const get = (name: string) => fx.cases.find((c) => c.name === name)! as Record<string, any>;

function close(a: number | undefined, b: number, tol = 1e-12, what = ''): void {
  assert.ok(a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

test('binary AUROC with ties equals sklearn roc_auc_score (average ranks)', () => {
  const c = get('binary_ties');
  close(auroc(c.scores, c.labels), c.auroc, 1e-12, 'ties');
  close(auroc(Float32Array.from(c.scores as number[]), Uint8Array.from(c.labels as number[])), c.auroc, 1e-12, 'typed arrays');
  const t = get('binary_all_tied');
  assert.equal(auroc(t.scores, t.labels), t.auroc);
  const s = get('binary_separated');
  assert.equal(auroc(s.scores, s.labels), s.auroc);
  assert.equal(auroc((s.scores as number[]).map((v) => -v), s.labels), s.aurocInverted);
});

test('AUROC is undefined when one class is absent; bad labels and NaN scores are errors', () => {
  assert.equal(auroc([0.1, 0.5, 0.9], [1, 1, 1]), undefined);
  assert.equal(auroc([0.1, 0.5], [0, 0]), undefined);
  assert.throws(() => auroc([0.1, 0.5], [0, 2]), /labels must be 0 or 1, got 2/);
  assert.throws(() => auroc([0.1, NaN], [0, 1]), /score 1 is NaN/);
  assert.throws(() => auroc([0.1], [0, 1]), /1 predictions\/scores but 2 labels/);
  // A class absent from the labels: its one-vs-rest AUROC and the macro average are undefined.
  const scores = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.6, 0.3, 0.1];
  const per = aurocOneVsRest(scores, [0, 1, 0]);
  assert.equal(per.length, 3);
  assert.equal(per[0], 1);
  assert.equal(per[2], undefined);
  assert.equal(macroAuroc(scores, [0, 1, 0]), undefined);
});

test('accuracy, balanced accuracy and confusion matrix equal sklearn (binary and 4-class)', () => {
  for (const name of ['binary_ties', 'multiclass4']) {
    const c = get(name);
    close(accuracy(c.predictions, c.labels), c.accuracy, 1e-15, `${name} accuracy`);
    close(balancedAccuracy(c.predictions, c.labels), c.balancedAccuracy, 1e-12, `${name} balanced accuracy`);
    assert.deepEqual(confusionMatrix(c.predictions, c.labels, c.numClasses ?? 2), c.confusion);
  }
  const m = get('multiclass4');
  assert.deepEqual([...argmax(m.logits, 4)], m.predictions);
  // Balanced accuracy leaves out classes absent from the labels (sklearn), confusion matrix keeps K.
  assert.equal(balancedAccuracy([0, 2, 1, 1], [0, 0, 1, 1], 3), 0.75);
  assert.deepEqual(confusionMatrix([0, 2], [0, 1]), [[1, 0, 0], [0, 0, 1], [0, 0, 0]]);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /label 3 is not a class index in \[0, 3\)/);
});

test('macro one-vs-rest AUROC equals sklearn roc_auc_score(multi_class="ovr", average="macro")', () => {
  const c = get('multiclass4');
  close(macroAuroc(c.probabilities, c.labels), c.aurocMacroOvr, 1e-12, 'macro');
  aurocOneVsRest(c.probabilities, c.labels, 4).forEach((a, k) => close(a, c.aurocPerClass[k], 1e-12, `class ${k}`));
  aurocOneVsRest(c.logits, c.labels).forEach((a, k) => close(a, c.aurocPerClassLogits[k], 1e-12, `logits class ${k}`));
  // K = 2: the binary AUROC of column 1.
  const b = get('binary_ties');
  const two = (b.scores as number[]).flatMap((s) => [1 - s, s]);
  close(macroAuroc(two, b.labels), b.auroc, 1e-12, 'K=2');
});

test('cross-entropy from logits equals sklearn log_loss of the softmax and torch cross_entropy (class weights)', () => {
  const c = get('multiclass4');
  close(crossEntropy(c.logits, c.labels), c.crossEntropy, 1e-12, 'mean');
  close(crossEntropy(c.logits, c.labels, { reduction: 'sum' }), c.crossEntropySum, 1e-12, 'sum');
  close(crossEntropy(c.logits, c.labels, { classWeights: c.classWeights }), c.crossEntropyWeightedTorch, 1e-12, 'weighted');
  const p = softmax(c.logits, 4);
  (c.probabilities as number[]).forEach((v, i) => close(p[i], v, 1e-12, `softmax ${i}`));
  const b = get('binary_ties');
  close(binaryCrossEntropy(b.logits, b.labels), b.bceFromLogits, 1e-12, 'bce vs log_loss');
  close(binaryCrossEntropy(b.logits, b.labels), b.bceTorch, 1e-12, 'bce vs torch');
});

test('losses stay finite and exact at extreme logits (±1000, -745), matching torch float64', () => {
  const c = get('extreme_logits');
  const per = crossEntropyPerSample(c.logits, c.labels);
  (c.crossEntropyTorchNone as number[]).forEach((v, i) => close(per[i], v, 1e-12, `ce ${i}`));
  close(crossEntropy(c.logits, c.labels), c.crossEntropyTorch, 1e-12, 'ce mean');
  const sm = softmax(c.logits, 3);
  (c.softmax as number[]).forEach((v, i) => assert.ok(Math.abs(sm[i]! - v) <= 1e-15, `softmax ${i}: ${sm[i]} vs ${v}`));
  const ls = logSoftmax(c.logits, 3);
  assert.ok(ls.every(Number.isFinite));
  const bce = binaryCrossEntropyPerElement(c.binaryLogits, c.binaryLabels);
  (c.bceTorchNone as number[]).forEach((v, i) => close(bce[i], v, 1e-12, `bce ${i}`));
  assert.throws(() => binaryCrossEntropy([0], [2]), /target 2 at 0 is not in \[0, 1\]/);
  assert.throws(() => crossEntropy([0, 1, 2], [0, 1]), /not a whole number of rows/);
});
