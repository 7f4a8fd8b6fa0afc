/**
 * Multi-label statistics against scikit-learn (src/trust/fixtures/make_multilabel_fixture.py): per-label and
 * macro/micro AUROC, sensitivity/specificity at 0.5, Brier; labels without both outcomes are left out of the
 * macro mean and named; bad outcomes are errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { multiLabelStats } from './multilabel.js';

const ref = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/multilabel.json', import.meta.url)), 'utf8')) as {
  probs: number[]; outcomes: number[]; k: number; auroc: number[]; macro: number; micro: number; sensitivity: number[]; specificity: number[]; brier: number[];
};
const close = (a: number | null | undefined, b: number, what: string) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('per-label, macro and micro AUROC, sensitivity, specificity and Brier equal scikit-learn', () => {
  const names = ['a', 'b', 'c', 'd'];
  const s = multiLabelStats(ref.probs, ref.outcomes, names);
  s.labels.forEach((l, j) => {
    close(l.auroc?.auc, ref.auroc[j]!, `AUROC ${l.label}`);
    close(l.atThreshold.sensitivity.value, ref.sensitivity[j]!, `sensitivity ${l.label}`);
    close(l.atThreshold.specificity.value, ref.specificity[j]!, `specificity ${l.label}`);
    close(l.brier, ref.brier[j]!, `Brier ${l.label}`);
    assert.ok(l.auroc!.ci.lower < l.auroc!.auc && l.auroc!.auc < l.auroc!.ci.upper);
  });
  close(s.macroAuroc, ref.macro, 'macro');
  close(s.microAuroc, ref.micro, 'micro');
  assert.equal(s.macroOver, 4);
  const positives = s.labels.map((l) => l.positives);
  assert.deepEqual(s.labels.map((l) => l.fewCases), positives.map((p) => p < 10 || 80 - p < 10), `positives ${positives}`);
});

test('a label with one outcome has no AUROC, is left out of the macro mean and named; bad outcomes are errors', () => {
  const probs = [0.9, 0.2, 0.8, 0.3, 0.7, 0.1, 0.2, 0.4, 0.6, 0.5];
  const outcomes = [1, 0, 0, 0, 1, 0, 0, 0, 1, 1];
  const s = multiLabelStats(probs, outcomes, ['x', 'y']);
  assert.equal(s.labels[1]!.auroc, null);
  assert.deepEqual(s.undefinedAuroc, ['y']);
  assert.equal(s.macroOver, 1);
  assert.throws(() => multiLabelStats([0.5, 0.5], [2, 0], ['x', 'y']), /outcome 2 at row 0, label 'x' is not 0 or 1/);
  assert.throws(() => multiLabelStats([0.5, NaN], [1, 0], ['x', 'y']), /probability NaN at row 0, label 'y'/);
});
