import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brier, brierDecomposition, calibrationLine, calibrationSummary, classwiseEce, nll, reliability, topLabel } from './calibration.js';
import { applyIsotonic, applyPlatt, applyTemperature, fitIsotonic, fitIsotonicProbs, fitPlatt, fitTemperature, predictIsotonic } from './recalibrate.js';
import { fitLogistic } from './logistic.js';
import { fixture, maxAbsDiff } from './fixtures/index.js';

const f = fixture('calibration');
const TOL = 1e-9;
const K = 3;
const flat = (rows: number[][]) => Float64Array.from(rows.flat());
const binaryProbs = (p: number[]) => Float64Array.from(p.flatMap((v) => [1 - v, v]));

test('equal-width and equal-mass reliability bins reproduce scikit-learn calibration_curve and the numpy ECE/MCE', () => {
  const { p, y } = f.binary;
  const u = reliability(p, y, { bins: 10 });
  const q = reliability(p, y, { bins: 10, strategy: 'quantile' });
  assert.deepEqual(u.bins.map((b) => b.count), f.binary.uniform.counts);
  assert.deepEqual(q.bins.map((b) => b.count), f.binary.quantile.counts);
  assert.ok(maxAbsDiff(q.bins.map((b) => b.lower).concat([q.bins.at(-1)!.upper]), f.binary.quantile.edges) < 1e-15);
  const nonEmpty = (r: typeof u) => r.bins.filter((b) => b.count > 0);
  assert.ok(maxAbsDiff(nonEmpty(u).map((b) => b.accuracy), f.binary.sklearnCurveUniform.fracPos) < TOL);
  assert.ok(maxAbsDiff(nonEmpty(u).map((b) => b.confidence), f.binary.sklearnCurveUniform.meanPred) < TOL);
  assert.ok(maxAbsDiff(nonEmpty(q).map((b) => b.accuracy), f.binary.sklearnCurveQuantile.fracPos) < TOL);
  assert.ok(Math.abs(u.ece - f.binary.uniform.ece) < TOL && Math.abs(u.mce - f.binary.uniform.mce) < TOL);
  assert.ok(Math.abs(q.ece - f.binary.quantile.ece) < TOL && Math.abs(q.mce - f.binary.quantile.mce) < TOL);
});

test('top-label ECE/MCE/ACE, class-wise ECE, Brier and NLL of 3-class probabilities match the references', () => {
  const probs = flat(f.multi.probs);
  const s = calibrationSummary(probs, f.multi.labels, K);
  assert.ok(Math.abs(s.ece - f.multi.uniform.ece) < TOL && Math.abs(s.mce - f.multi.uniform.mce) < TOL);
  assert.ok(Math.abs(s.ace - f.multi.quantile.ece) < TOL);
  assert.deepEqual(s.topLabel.uniform.bins.map((b) => b.count), f.multi.uniform.counts);
  assert.ok(Math.abs(classwiseEce(probs, f.multi.labels, K) - f.multi.classwiseEce) < TOL);
  assert.ok(Math.abs(s.brier.brier - f.multi.brier) < TOL, `${s.brier.brier} vs ${f.multi.brier}`);
  assert.ok(Math.abs(s.nll - f.multi.nll) < TOL);
  assert.equal(s.line, null);
  assert.equal(topLabel(probs, f.multi.labels, K).correct.length, f.multi.labels.length);
});

test('binary Brier (scikit-learn), Murphy decomposition (numpy reference, exact identity), NLL, calibration slope/intercept', () => {
  const { p, y } = f.binary;
  const m = brierDecomposition(p, y);
  assert.ok(Math.abs(m.brier - f.binary.brier) < TOL);
  for (const k of ['reliability', 'resolution', 'uncertainty', 'withinBinVariance', 'withinBinCovariance'] as const) assert.ok(Math.abs(m[k] - f.binary.murphy[k]) < 1e-12, k);
  assert.ok(Math.abs(m.reliability - m.resolution + m.uncertainty + m.withinBinVariance - m.withinBinCovariance - m.brier) < 1e-14);
  assert.ok(Math.abs(brier(binaryProbs(p), y, 2).brier - f.binary.brier) < TOL);
  assert.ok(Math.abs(nll(binaryProbs(p), y, 2) - f.binary.nll) < TOL);
  const line = calibrationLine(p, y);
  assert.ok(Math.abs(line.slope! - f.binary.slope) < TOL && Math.abs(line.intercept! - f.binary.intercept) < TOL);
  assert.ok(Math.abs(line.slope! - f.binary.sklearnSlope) < 1e-10, 'and scikit-learn newton-cg agrees');
  assert.ok(Math.abs(line.calibrationInTheLarge! - f.binary.calibrationInTheLarge) < TOL);
});

test('temperature scaling finds the NLL minimum of the scipy reference (T to 1e-9) and lowers the NLL', () => {
  const logits = flat(f.multi.logits);
  const t = fitTemperature(logits, f.multi.labels, K);
  assert.ok(Math.abs(t.temperature - f.recal.temperature) < TOL, `T ${t.temperature} vs ${f.recal.temperature}`);
  assert.ok(Math.abs(t.nllBefore - f.recal.nllBefore) < TOL && Math.abs(t.nllAfter - f.recal.nllAfter) < TOL);
  assert.ok(Math.abs(nll(applyTemperature(logits, K, t.temperature), f.multi.labels, K) - t.nllAfter) < 1e-12);
});

test('Platt scaling and isotonic regression match the references on held-out points', () => {
  const { p, y } = f.binary;
  const n = f.recal.platt.fitN;
  const fit = fitPlatt(binaryProbs(p.slice(0, n)), y.slice(0, n), 2);
  assert.ok(Math.abs(fit.a[0]! - f.recal.platt.a) < TOL && Math.abs(fit.b[0]! - f.recal.platt.b) < TOL);
  const out = applyPlatt(binaryProbs(p.slice(n)), 2, fit);
  assert.ok(maxAbsDiff(Array.from({ length: out.length / 2 }, (_, i) => out[2 * i + 1]!), f.recal.platt.predict) < TOL);
  const iso = fitIsotonicProbs(binaryProbs(p.slice(0, n)), y.slice(0, n), 2);
  const pi = applyIsotonic(binaryProbs(p.slice(n)), 2, iso);
  assert.ok(maxAbsDiff(Array.from({ length: pi.length / 2 }, (_, i) => pi[2 * i + 1]!), f.recal.isotonic.predict) < 1e-12);
  assert.ok(maxAbsDiff(f.recal.isotonic.queries.map((v: number) => predictIsotonic(iso[0]!, v)), f.recal.isotonic.queryPredict) < 1e-12);
  // Monotone output.
  const xs = Array.from({ length: 101 }, (_, i) => i / 100).map((v) => predictIsotonic(iso[0]!, v));
  assert.ok(xs.every((v, i) => i === 0 || v >= xs[i - 1]!));
  assert.deepEqual(fitIsotonic([0.2, 0.1, 0.3], [1, 0, 0]), { x: [0.1, 0.2, 0.3], y: [0, 0.5, 0.5] });
});

test('degenerate calibration input: one class, constant scores, empty bins give defined values or clear errors', () => {
  const one = calibrationLine([0.2, 0.4, 0.7], [1, 1, 1]);
  assert.deepEqual([one.slope, one.intercept], [null, null]);
  assert.match(one.note!, /only one class/);
  const flatScores = calibrationLine([0.3, 0.3, 0.3, 0.3], [0, 1, 0, 1]);
  assert.equal(flatScores.slope, null);
  assert.match(flatScores.note!, /constant|separable/);
  assert.equal(fitLogistic([0, 1, 2, 3], [0, 0, 1, 1]).ok, false, 'separable');
  const r = reliability([0.05, 0.06, 0.95], [0, 0, 1], { bins: 10 });
  assert.equal(r.bins.filter((b) => b.count === 0).length, 8);
  assert.ok(r.bins.every((b) => b.count > 0 || (b.accuracy === null && b.confidence === null)));
  assert.ok(Number.isFinite(r.ece) && Number.isFinite(r.mce));
  const c = reliability([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1], { strategy: 'quantile' });
  assert.equal(c.ece, 0);
  assert.equal(nll([1, 0], [1], 2), -Math.log(1e-15));
  assert.throws(() => reliability([0.2, 1.2], [0, 1]), /probability at index 1 is 1.2/);
  assert.throws(() => fitPlatt(binaryProbs([0.2, 0.3]), [1, 1], 2), /fitPlatt: class 1: only one class/);
  const t = fitTemperature([0, 0, 0, 0], [0, 1], 2);
  assert.ok(Number.isFinite(t.temperature) && Number.isFinite(t.nllAfter));
});
