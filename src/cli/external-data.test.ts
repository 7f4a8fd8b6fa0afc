/**
 * External validation sets (issue 14): a test-only .npz is evaluated whole by the trust commands
 * (--split all), calibration then needs another data set (--cal-data) or a fraction, every result records
 * the preprocessing and where it came from, and the referral list names each image's origin.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricsCommand } from './metrics.js';
import { calibrateCommand } from './calibrate.js';
import { uncertaintyCommand } from './uncertainty.js';
import { auditCommand } from './audit.js';
import { quiet, readJson, tempDir } from '../trust/cli-testing.js';
import { openNpzFileSync } from '../io/files.js';
import { writeNpz } from '../io/npz.js';
import { repoRoot } from '../testing/paths.js';

const MODEL = join(repoRoot, 'models', 'baseline', 'small_cnn_pneumoniamnist64.onnx');
let dir: string;
let external: string;

before(() => {
  dir = tempDir('external');
  // The first 60 test images of PneumoniaMNIST as a test-only archive: an "external" site's data.
  const npz = openNpzFileSync(join(repoRoot, 'data', 'pneumoniamnist.npz'));
  const img = npz.get('test_images');
  const lab = npz.get('test_labels');
  const n = 60;
  const [, h, w] = img.shape as number[];
  external = join(dir, 'site_b.npz');
  writeFileSync(external, writeNpz({ test_images: { dtype: 'uint8', shape: [n, h!, w!], data: (img.data as Uint8Array).slice(0, n * h! * w!) }, test_labels: { dtype: lab.dtype, shape: [n, 1], data: (lab.data as Uint8Array).slice(0, n) } } as never));
});

test('candor metrics evaluates a test-only .npz whole with --split all, and records the preprocessing and its origin', async () => {
  const out = join(dir, 'metrics');
  await quiet(() => metricsCommand(['--model', MODEL, '--data', external, '--split', 'all', '--threads', '1', '--out', out]));
  const r = readJson(join(out, 'results.json'));
  assert.equal(r.n, 60);
  assert.match(r.source, /site_b\.npz .*all 60 images: external test set/);
  assert.deepEqual(r.preprocessing, { scale: 'pm1', window: null, axis: 'k', resize: 'stretch', from: { scale: 'card', window: 'default', axis: 'default', resize: 'default' } });
  // A split the file does not hold is refused with the way out.
  await assert.rejects(quiet(() => metricsCommand(['--model', MODEL, '--data', external, '--split', 'val', '--out', join(dir, 'm2')])), /no 'train_images' array .*splits present: test\); a file without training images is an external test set: evaluate all of it with --split all/);
  // Its test split (the default) is all of it.
  await quiet(() => metricsCommand(['--model', MODEL, '--data', external, '--threads', '1', '--out', join(dir, 'm4')]));
  assert.equal(readJson(join(dir, 'm4', 'results.json')).n, 60);
  // Flags that only apply to images a model reads are refused with --probs.
  await assert.rejects(quiet(() => metricsCommand(['--probs', external, '--axis', 'k', '--out', join(dir, 'm3')])), /--axis applies to images a --model reads/);
});

test('candor calibrate on an external set needs a calibration set of its own: --cal-data or --cal-fraction', async () => {
  await assert.rejects(quiet(() => calibrateCommand(['--model', MODEL, '--data', external, '--split', 'all', '--out', join(dir, 'c1')])), /--split all evaluates all of .*site_b\.npz as an external test set.*--cal-data D/);
  const out = join(dir, 'c2');
  await quiet(() => calibrateCommand(['--model', MODEL, '--data', external, '--split', 'all', '--cal-data', 'pneumoniamnist', '--limit', '40', '--threads', '1', '--out', out]));
  const r = readJson(join(out, 'results.json'));
  assert.equal(r.n, 40); // --limit keeps about 40 of the external set, in class proportion
  assert.match(r.calibrationSource, /pneumoniamnist\.npz .*external test set/);
  assert.ok(r.nCalibration >= 35 && r.nCalibration <= 45);
});

test('candor uncertainty on an external set names each referred image by its origin', async () => {
  const out = join(dir, 'u');
  await quiet(() => uncertaintyCommand(['--model', MODEL, '--data', external, '--split', 'all', '--threads', '1', '--out', out]));
  const r = readJson(join(out, 'results.json'));
  const ids: string[] = r.uncertainty.referral.referredIds;
  assert.ok(ids.length > 0);
  for (const id of ids) assert.match(id, /^site_b\.npz test\[\d+\]$/);
});

test('candor audit --split all refuses to run without --train-data (nothing of an external set may train the sanity models)', async () => {
  await assert.rejects(quiet(() => auditCommand(['--data', external, '--split', 'all', '--out', join(dir, 'a')])), /--split all audits all of .*site_b\.npz as an external test set.*give --train-data D/);
  await assert.rejects(quiet(() => auditCommand(['--data', external, '--out', join(dir, 'a')])), /it holds only a test split, so the audit takes all of .*site_b\.npz as an external test set.*give --train-data D/);
});
