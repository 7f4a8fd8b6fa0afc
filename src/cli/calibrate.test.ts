import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateCommand } from './calibrate.js';
import { fixture } from '../trust/fixtures/index.js';
import { quiet, readJson, tempDir, writeNpy } from '../trust/cli-testing.js';
import { fitTemperature } from '../trust/recalibrate.js';

const c = fixture('calibration').multi;

test('candor calibrate on .npy logits with a calibration file measures calibration and fits temperature scaling on the held-out file', async () => {
  const dir = tempDir('calibrate');
  const logits = Float64Array.from(c.logits.flat());
  const labels = Int32Array.from(c.labels);
  const n = labels.length;
  const h = 150;
  const lp = writeNpy(join(dir, 'logits_eval.npy'), logits.slice(h * 3), [n - h, 3]);
  const ll = writeNpy(join(dir, 'labels_eval.npy'), labels.slice(h), [n - h]);
  const cp = writeNpy(join(dir, 'logits_cal.npy'), logits.slice(0, h * 3), [h, 3]);
  const cl = writeNpy(join(dir, 'labels_cal.npy'), labels.slice(0, h), [h]);
  const out = join(dir, 'out');
  await quiet(() => calibrateCommand(['--probs', lp, '--labels', ll, '--logits', '--cal-probs', cp, '--cal-labels', cl, '--out', out]));
  const r = readJson(join(out, 'results.json'));
  const t = fitTemperature(logits.slice(0, h * 3), labels.slice(0, h), 3);
  assert.equal(r.calibration.recalibration[0].method, 'temperature');
  assert.ok(Math.abs(r.calibration.recalibration[0].parameters.temperature - t.temperature) < 1e-12);
  assert.ok(r.calibration.before.ece > 0);
  for (const f of ['calibration-reliability.svg', 'calibration-reliability-mass.svg', 'calibration-recalibration.svg', 'summary.md']) assert.ok(existsSync(join(out, f)), f);
  await assert.rejects(quiet(() => calibrateCommand(['--probs', lp, '--labels', ll, '--out', join(dir, 'o2'), '--bins', '0'])), /--bins must be an integer in \[1, 1000\]/);
  await assert.rejects(quiet(() => calibrateCommand(['--probs', lp, '--labels', ll, '--out', join(dir, 'o3')])), /row 0 sums to|not in \[0, 1\]/);
});

test('candor calibrate on the baseline fits Platt, isotonic and temperature on the validation split', async () => {
  const out = join(tempDir('calibrate-model'), 'out');
  await quiet(() => calibrateCommand(['--model', 'models/baseline/small_cnn_pneumoniamnist64.onnx', '--limit', '100', '--threads', '1', '--out', out]));
  const r = readJson(join(out, 'results.json'));
  assert.deepEqual(r.calibration.recalibration.map((x: { method: string }) => x.method), ['temperature', 'platt', 'isotonic']);
  assert.match(r.calibrationSource, /\(val\)/);
  assert.ok(r.checks.some((x: { id: string }) => x.id === 'trust.calibrated'));
});
