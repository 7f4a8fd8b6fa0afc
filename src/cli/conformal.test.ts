import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { conformalCommand } from './conformal.js';
import { fixture } from '../trust/fixtures/index.js';
import { quiet, readJson, tempDir, writeCsv } from '../trust/cli-testing.js';

const f = fixture('conformal');

test('candor conformal on CSV files reproduces the numpy LAC quantile and sets, marginal and Mondrian', async () => {
  const dir = tempDir('conformal');
  const header = ['a', 'b', 'c', 'label'];
  const cal = writeCsv(join(dir, 'cal.csv'), header, f.calProbs.map((p: number[], i: number) => [...p.map((x) => x.toPrecision(17)), f.calLabels[i]]));
  const ev = writeCsv(join(dir, 'eval.csv'), header, f.testProbs.map((p: number[], i: number) => [...p.map((x) => x.toPrecision(17)), f.testLabels[i]]));
  const out = join(dir, 'out');
  await quiet(() => conformalCommand(['--probs', ev, '--cal-probs', cal, '--alpha', '0.1', '--out', out]));
  const r = readJson(join(out, 'results.json'));
  const ref = f.cases.find((c: { score: string; alpha: number }) => c.score === 'lac' && c.alpha === 0.1);
  assert.ok(Math.abs(r.conformal.marginal.quantiles[0].qhat - ref.qhat) < 1e-12);
  assert.ok(Math.abs(r.conformal.marginal.evaluation.coverage - ref.coverage) < 1e-12);
  assert.ok(Math.abs(r.conformal.marginal.evaluation.meanSize - ref.meanSize) < 1e-12);
  assert.deepEqual(r.conformal.mondrian.quantiles.map((q: { qhat: number | null }) => q.qhat), ref.mondrianQhat);
  assert.ok(existsSync(join(out, 'conformal-conformal-sizes.svg')));
  await assert.rejects(quiet(() => conformalCommand(['--probs', ev, '--out', join(dir, 'o2')])), /needs a held-out calibration split/);
  await assert.rejects(quiet(() => conformalCommand(['--probs', ev, '--cal-probs', cal, '--score', 'xyz', '--out', join(dir, 'o3')])), /--score must be lac, aps or raps/);
});

test('candor conformal with too few calibration cases for α reports an infinite quantile, full sets, and the n needed', async () => {
  const dir = tempDir('conformal-small');
  const header = ['a', 'b', 'c', 'label'];
  const cal = writeCsv(join(dir, 'cal.csv'), header, f.calProbs.slice(0, 5).map((p: number[], i: number) => [...p, f.calLabels[i]]));
  const ev = writeCsv(join(dir, 'eval.csv'), header, f.testProbs.slice(0, 10).map((p: number[], i: number) => [...p, f.testLabels[i]]));
  await quiet(() => conformalCommand(['--probs', ev, '--cal-probs', cal, '--alpha', '0.05', '--out', join(dir, 'out')]));
  const r = readJson(join(dir, 'out', 'results.json'));
  assert.equal(r.conformal.marginal.quantiles[0].qhat, null, 'q̂ = ∞ (null in JSON)');
  assert.equal(r.conformal.marginal.quantiles[0].infinite, true);
  assert.equal(r.conformal.marginal.quantiles[0].minCalibration, 19);
  assert.equal(r.conformal.marginal.evaluation.meanSize, 3);
  assert.equal(r.conformal.marginal.evaluation.coverage, 1);
});

test('candor conformal on the baseline with repeated splits of the test slice', async () => {
  const out = join(tempDir('conformal-model'), 'out');
  await quiet(() => conformalCommand(['--model', 'models/baseline/small_cnn_pneumoniamnist64.onnx', '--limit', '120', '--threads', '1', '--repeats', '20', '--out', out]));
  const r = readJson(join(out, 'results.json'));
  assert.equal(r.repeatedSplits.coverage.length, 20);
  assert.ok(r.repeatedSplits.meanCoverage > 0.8);
});
