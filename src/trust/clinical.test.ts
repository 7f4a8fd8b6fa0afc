import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clinicalMetrics, prevalenceAdjusted, subgroupMetrics, thresholdForSensitivity, youdenThreshold } from './clinical.js';
import { averagePrecision, precisionRecallCurve, rocCurve } from './curves.js';
import { delongAuc, delongPairedTest } from './delong.js';
import { fixture, maxAbsDiff } from './fixtures/index.js';
import { auroc } from '../train/metrics.js';

const f = fixture('clinical');
const TOL = 1e-9;

test('metrics at a threshold match scikit-learn (confusion, recall, precision, accuracy, balanced accuracy, F1)', () => {
  const m = clinicalMetrics(f.score, f.y, { threshold: f.threshold });
  assert.deepEqual(m.confusion, f.confusion);
  for (const [k, v] of [['sensitivity', f.sensitivity], ['specificity', f.specificity], ['ppv', f.ppv], ['npv', f.npv], ['accuracy', f.accuracy]] as const) {
    assert.ok(Math.abs(m[k].value! - v) < TOL, `${k}: ${m[k].value} vs ${v}`);
    assert.ok(m[k].wilson!.lower < v && v < m[k].wilson!.upper && m[k].clopperPearson!.lower < v && v < m[k].clopperPearson!.upper);
  }
  assert.ok(Math.abs(m.balancedAccuracy - f.balancedAccuracy) < TOL);
  assert.ok(Math.abs(m.f1! - f.f1) < TOL);
});

test('ROC (with and without intermediate points), PR curve and average precision match scikit-learn', () => {
  const roc = rocCurve(f.score, f.y);
  assert.equal(roc.fpr.length, f.roc.fpr.length);
  assert.ok(maxAbsDiff(roc.fpr, f.roc.fpr) < TOL && maxAbsDiff(roc.tpr, f.roc.tpr) < TOL);
  assert.equal(roc.thresholds[0], Infinity);
  assert.deepEqual(roc.thresholds.slice(1), f.roc.thresholds);
  const all = rocCurve(f.score, f.y, { dropIntermediate: false });
  assert.ok(all.fpr.length > roc.fpr.length);
  assert.ok(maxAbsDiff(all.fpr, f.rocAll.fpr) < TOL && maxAbsDiff(all.tpr, f.rocAll.tpr) < TOL);
  const pr = precisionRecallCurve(f.score, f.y);
  assert.ok(maxAbsDiff(pr.precision, f.pr.precision) < TOL && maxAbsDiff(pr.recall, f.pr.recall) < TOL);
  assert.deepEqual(pr.thresholds, f.pr.thresholds);
  assert.ok(Math.abs(averagePrecision(f.score, f.y) - f.averagePrecision) < TOL);
});

test('Youden and fixed-sensitivity thresholds match the choice made on scikit-learn’s full ROC', () => {
  const y = youdenThreshold(f.score, f.y);
  assert.equal(y.threshold, f.youden.threshold);
  assert.ok(Math.abs(y.j - f.youden.j) < TOL);
  const s = thresholdForSensitivity(f.score, f.y, f.fixedSensitivity.target);
  assert.equal(s.threshold, f.fixedSensitivity.threshold);
  assert.ok(s.sensitivity >= 0.9 && Math.abs(s.specificity - (1 - f.fixedSensitivity.fpr)) < TOL);
  // The threshold really gives that sensitivity when applied.
  assert.ok(Math.abs(clinicalMetrics(f.score, f.y, { threshold: s.threshold }).sensitivity.value! - s.sensitivity) < TOL);
});

test('DeLong AUC, variance, CI and paired test match the O(n²) Mann–Whitney reference to 1e-9', () => {
  const a = delongAuc(f.score, f.y);
  const b = delongAuc(f.score2, f.y);
  assert.ok(Math.abs(a.auc - f.auroc) < TOL && Math.abs(b.auc - f.auroc2) < TOL);
  assert.ok(Math.abs(a.auc - auroc(f.score, f.y)!) < TOL);
  assert.ok(Math.abs(a.variance - f.delong.cov[0][0]) < 1e-12 && Math.abs(b.variance - f.delong.cov[1][1]) < 1e-12);
  assert.ok(Math.abs(a.ci.lower - f.delong.ci[0][0]) < TOL && Math.abs(a.ci.upper - f.delong.ci[0][1]) < TOL);
  const p = delongPairedTest(f.score, f.score2, f.y);
  assert.ok(Math.abs(p.covariance[0][1] - f.delong.cov[0][1]) < 1e-12);
  assert.ok(Math.abs(p.z! - f.delong.z) < TOL, `z ${p.z} vs ${f.delong.z}`);
  assert.ok(Math.abs(p.p - f.delong.p) < 1e-12, `p ${p.p} vs ${f.delong.p}`);
});

test('per-subgroup confusion matrices and AUROC match scikit-learn on each subgroup', () => {
  const rows = subgroupMetrics(f.score, f.y, f.groups, { threshold: f.threshold });
  assert.deepEqual(rows.map((r) => r.group).sort(), ['A', 'B', 'C']);
  for (const r of rows) {
    const ref = f.subgroups[r.group];
    assert.equal(r.metrics.n, ref.n);
    assert.deepEqual(r.metrics.confusion, ref.confusion);
    assert.ok(Math.abs(r.auroc!.auc - ref.auroc) < TOL);
  }
});

test('prevalence-adjusted PPV/NPV follow Bayes’ rule and reproduce the sample PPV at the sample prevalence', () => {
  const m = clinicalMetrics(f.score, f.y, { threshold: f.threshold });
  const adj = prevalenceAdjusted(m.sensitivity.value!, m.specificity.value!, m.prevalence);
  assert.ok(Math.abs(adj.ppv! - m.ppv.value!) < 1e-12 && Math.abs(adj.npv! - m.npv.value!) < 1e-12);
  const low = prevalenceAdjusted(0.9, 0.8, 0.01);
  assert.ok(Math.abs(low.ppv! - 0.009 / (0.009 + 0.198)) < 1e-15);
  assert.deepEqual(prevalenceAdjusted(1, 1, 0), { prevalence: 0, ppv: null, npv: 1 });
});

test('degenerate input: one class, constant scores, empty denominators are errors or defined values, never NaN', () => {
  assert.throws(() => rocCurve([0.1, 0.2], [1, 1]), /needs both classes.*only positives/);
  assert.throws(() => delongAuc([0.1, 0.2, 0.3], [0, 1, 1]), /at least 2 positives and 2 negatives/);
  const c = delongAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]);
  assert.deepEqual([c.auc, c.variance, c.ci.lower, c.ci.upper], [0.5, 0, 0.5, 0.5]);
  const same = delongPairedTest([0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]);
  assert.deepEqual([same.z, same.p], [null, 1]);
  const m = clinicalMetrics([0.1, 0.2], [0, 0], { threshold: 0.5 });
  assert.equal(m.sensitivity.value, null);
  assert.equal(m.ppv.value, null);
  assert.equal(m.f1, null);
  assert.equal(m.balancedAccuracy, 1);
  assert.throws(() => clinicalMetrics([0.1, NaN], [0, 1]), /score at index 1 is NaN/);
  assert.throws(() => clinicalMetrics([0.1, 0.2], [0, 2]), /labels must be 0 or 1, got 2 at index 1/);
});
