import { test } from 'node:test';
import assert from 'node:assert/strict';
import { energyScore, referForReview, riskCoverage, uncertaintyScores } from './uncertainty.js';
import { fixture, maxAbsDiff } from './fixtures/index.js';

const f = fixture('uncertainty');
const K = 3;
const T = f.samples.length;
const flat = Float64Array.from(f.samples.flat(2));

test('entropy, expected entropy, mutual information, variances and max-softmax match numpy on 5 passes × 40 cases', () => {
  const u = uncertaintyScores(flat, T, K);
  assert.ok(maxAbsDiff(u.entropy, f.entropy) < 1e-12);
  assert.ok(maxAbsDiff(u.expectedEntropy, f.expectedEntropy) < 1e-12);
  assert.ok(maxAbsDiff(u.mutualInformation, f.mutualInformation) < 1e-12);
  assert.ok(u.mutualInformation.every((v) => v >= 0));
  assert.ok(maxAbsDiff(u.variancePredicted, f.variancePredicted) < 1e-12);
  assert.ok(maxAbsDiff(u.varianceTotal, f.varianceTotal) < 1e-12);
  assert.ok(maxAbsDiff(u.confidence, f.maxSoftmax) < 1e-12);
  assert.ok(maxAbsDiff(energyScore(Float64Array.from(f.logits.flat()), K), f.energy) < 1e-12);
});

test('risk–coverage curve and AURC match numpy; the oracle ordering bounds AURC from below', () => {
  const u = uncertaintyScores(flat, T, K);
  const errors = Array.from(u.predicted, (p, i) => (p === f.labels[i] ? 0 : 1));
  const rc = riskCoverage(u.confidence, errors);
  assert.ok(maxAbsDiff(rc.risk, f.risk) < 1e-12);
  assert.ok(Math.abs(rc.aurc - f.aurc) < 1e-12);
  assert.ok(rc.optimalAurc <= rc.aurc && rc.excessAurc >= 0);
  assert.equal(rc.coverage.at(-1), 1);
});

test('refer-for-review keeps the most confident cases and refers the rest, most uncertain first', () => {
  const conf = [0.9, 0.55, 0.8, 0.6, 0.99];
  const err = [0, 1, 0, 1, 0];
  const r = referForReview(conf, err, 0.6);
  assert.equal(r.kept, 3);
  assert.deepEqual(r.referred, [1, 3]);
  assert.equal(r.keptRisk, 0);
  assert.equal(r.fullRisk, 0.4);
  assert.equal(r.confidenceCutoff, 0.6);
  assert.deepEqual(referForReview(conf, err, 1).referred, []);
  assert.equal(referForReview(conf, err, 0).keptRisk, null);
});

test('degenerate uncertainty input: one pass gives zero MI and variance; bad shapes and probabilities are named errors', () => {
  const one = uncertaintyScores([0.2, 0.8, 0.5, 0.5], 1, 2);
  assert.deepEqual(Array.from(one.mutualInformation), [0, 0]);
  assert.deepEqual(Array.from(one.varianceTotal), [0, 0]);
  const same = uncertaintyScores([0.3, 0.7, 0.3, 0.7], 2, 2);
  assert.equal(same.mutualInformation[0], 0);
  assert.throws(() => uncertaintyScores([0.2, 0.8, 0.5], 1, 2), /not \[1, N, 2\]/);
  assert.throws(() => uncertaintyScores([0.2, 1.8], 1, 2), /flat index 1 is 1.8/);
  assert.throws(() => riskCoverage([0.1], [2]), /errors must be 0\/1/);
  const flatConf = riskCoverage([0.5, 0.5, 0.5], [0, 1, 0]);
  assert.ok(Number.isFinite(flatConf.aurc));
});
