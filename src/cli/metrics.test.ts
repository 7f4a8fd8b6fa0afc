import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { metricsCommand } from './metrics.js';
import { fixture } from '../trust/fixtures/index.js';
import { quiet, readJson, tempDir, writeCsv } from '../trust/cli-testing.js';

const f = fixture('clinical');

test('candor metrics on a CSV with a group column writes scikit-learn-matching numbers, per-group rows, charts, and refuses to overwrite', async () => {
  const dir = tempDir('metrics');
  const csv = writeCsv(join(dir, 'preds.csv'), ['id', 'p_pneumonia', 'label', 'site'], f.y.map((y: number, i: number) => [`case${i}`, f.score[i], y, f.groups[i]]));
  const csv2 = writeCsv(join(dir, 'preds2.csv'), ['p_pneumonia', 'label'], f.y.map((y: number, i: number) => [f.score2[i], y]));
  const out = join(dir, 'out');
  const printed = await quiet(() => metricsCommand(['--probs', csv, '--group-column', 'site', '--compare-probs', csv2, '--out', out]));
  assert.match(printed, /Are sensitivity and specificity high enough/);
  const r = readJson(join(out, 'results.json'));
  assert.ok(Math.abs(r.discrimination.metrics.sensitivity.value - f.sensitivity) < 1e-12);
  assert.ok(Math.abs(r.discrimination.metrics.specificity.value - f.specificity) < 1e-12);
  assert.deepEqual(r.discrimination.metrics.confusion, f.confusion);
  assert.ok(Math.abs(r.discrimination.auroc.auc - f.auroc) < 1e-12);
  assert.ok(Math.abs(r.comparison.p - f.delong.p) < 1e-12);
  assert.equal(r.discrimination.subgroups.length, 3);
  for (const name of ['metrics-roc.svg', 'metrics-pr.svg', 'summary.md']) assert.ok(existsSync(join(out, name)), name);
  await assert.rejects(quiet(() => metricsCommand(['--probs', csv, '--out', out])), /not empty; use --force/);
  await assert.rejects(quiet(() => metricsCommand(['--probs', csv, '--out', out, '--force'])), /column 'site' is 'C', not a decimal number .*--group-column/);
  await quiet(() => metricsCommand(['--probs', csv, '--group-column', 'site', '--out', out, '--force', '--threshold', 'youden']));
  assert.equal(readJson(join(out, 'results.json')).discrimination.threshold, f.youden.threshold);
  await assert.rejects(quiet(() => metricsCommand(['--probs', csv, '--out', join(dir, 'o2'), '--threshold', 'abc'])), /--threshold must be a number, 'youden' or 'sens:0.9'/);
  await assert.rejects(quiet(() => metricsCommand(['--probs', join(dir, 'missing.csv'), '--out', join(dir, 'o3')])), /missing\.csv: no such file/);
});

test('candor metrics runs the bundled baseline on a slice of PneumoniaMNIST', async () => {
  const out = join(tempDir('metrics-model'), 'out');
  await quiet(() => metricsCommand(['--model', 'models/baseline/small_cnn_pneumoniamnist64.onnx', '--limit', '80', '--threads', '1', '--out', out]));
  const r = readJson(join(out, 'results.json'));
  assert.deepEqual(r.classes, ['normal', 'pneumonia']);
  assert.ok(r.n >= 75 && r.n <= 85);
  assert.ok(r.discrimination.auroc.auc > 0.8);
});
