import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrateConformal, conformalQuantile, conformalScores, evaluateSets, predictSets, type ConformalScore } from './conformal.js';
import { fixture } from './fixtures/index.js';

const f = fixture('conformal');
const K = 3;
const flat = (rows: number[][]) => Float64Array.from(rows.flat());

test('the finite-sample quantile is the ⌈(n+1)(1−α)⌉-th smallest score, +∞ beyond n', () => {
  for (const [s, a, q] of f.quantileCases) assert.equal(conformalQuantile(s, a).qhat, q ?? Infinity, `n=${s.length} α=${a}`);
  const q = conformalQuantile(Array.from({ length: 99 }, (_, i) => i + 1), 0.1);
  assert.deepEqual([q.rank, q.qhat], [90, 90]);
  const small = conformalQuantile([0.1, 0.2, 0.3], 0.1);
  assert.deepEqual([small.infinite, small.qhat, small.minCalibration], [true, Infinity, 9]);
  assert.equal(conformalQuantile(Array.from({ length: 9 }, () => 0.5), 0.1).infinite, false);
  assert.throws(() => conformalQuantile([1], 0), /alpha must be in \(0, 1\)/);
});

test('LAC, APS (plain and randomized), RAPS and Mondrian sets equal the numpy reference set by set', () => {
  const cal = flat(f.calProbs);
  const te = flat(f.testProbs);
  for (const c of f.cases) {
    const opts = { score: c.score as ConformalScore, randomized: c.randomized, lambda: c.lambda, kReg: c.kReg, uniforms: c.randomized ? f.uCal : undefined };
    const m = calibrateConformal(cal, f.calLabels, K, c.alpha, opts);
    assert.ok(Math.abs(m.quantiles[0]!.qhat - c.qhat) < 1e-12, `${c.score} α=${c.alpha}`);
    const sets = predictSets(m, te, c.randomized ? f.uTest : undefined);
    assert.deepEqual(Array.from(sets), c.sets.flat(), `${c.score}${c.randomized ? ' randomized' : ''} α=${c.alpha}`);
    const ev = evaluateSets(sets, f.testLabels, K);
    assert.ok(Math.abs(ev.coverage - c.coverage) < 1e-12 && Math.abs(ev.meanSize - c.meanSize) < 1e-12);
    const mm = calibrateConformal(cal, f.calLabels, K, c.alpha, { ...opts, mondrian: true });
    assert.deepEqual(mm.quantiles.map((q) => q.qhat), c.mondrianQhat.map((q: number | null) => q ?? Infinity));
    assert.deepEqual(Array.from(predictSets(mm, te, c.randomized ? f.uTest : undefined)), c.mondrianSets.flat());
  }
});

test('set evaluation: size-stratified coverage, empty and singleton rates add up', () => {
  const sets = Uint8Array.from([1, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1]);
  const ev = evaluateSets(sets, [0, 1, 2, 1], 3);
  assert.equal(ev.coverage, 0.5);
  assert.equal(ev.emptyRate, 0.25);
  assert.equal(ev.singletonRate, 0.25);
  assert.equal(ev.meanSize, 1.5);
  assert.deepEqual(ev.bySize.map((b) => [b.count, b.coverage]), [[1, 0], [1, 1], [1, 0], [1, 1]]);
  assert.deepEqual(ev.byClass.map((b) => b.coverage), [1, 0.5, 0]);
});

test('APS scores of a case are increasing along its class ranking, so sets are prefixes', () => {
  const s = conformalScores([0.2, 0.5, 0.3], 3, { score: 'aps' });
  assert.deepEqual(Array.from(s).map((v) => +v.toFixed(12)), [1, 0.5, 0.8]);
  const r = conformalScores([0.2, 0.5, 0.3], 3, { score: 'raps', lambda: 0.1, kReg: 1, uniforms: [1] });
  assert.deepEqual(Array.from(r).map((v) => +v.toFixed(12)), [1.2, 0.5, 0.9]);
  assert.throws(() => conformalScores([0.2, 0.8], 2, { score: 'aps', randomized: true }), /needs 1 uniforms/);
});
