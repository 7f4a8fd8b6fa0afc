import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { smallCnn } from '../train/arch/small-cnn.js';
import { serializeModel } from '../onnx/proto.js';
import { uncertaintyCommand } from './uncertainty.js';
import { fixture } from '../trust/fixtures/index.js';
import { quiet, readJson, tempDir, writeNpy } from '../trust/cli-testing.js';

const u = fixture('uncertainty');

test('candor uncertainty on [T, N, K] samples reports numpy’s mean entropy and mutual information, AURC and a referral list', async () => {
  const dir = tempDir('uncertainty');
  const T = u.samples.length;
  const n = u.labels.length;
  const s = writeNpy(join(dir, 'samples.npy'), Float64Array.from(u.samples.flat(2)), [T, n, 3]);
  const l = writeNpy(join(dir, 'labels.npy'), Int32Array.from(u.labels), [n]);
  const out = join(dir, 'out');
  await quiet(() => uncertaintyCommand(['--samples', s, '--labels', l, '--coverage', '0.75', '--out', out]));
  const r = readJson(join(out, 'results.json'));
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(Math.abs(r.uncertainty.mean.entropy - mean(u.entropy)) < 1e-12);
  assert.ok(Math.abs(r.uncertainty.mean.mutualInformation - mean(u.mutualInformation)) < 1e-12);
  assert.ok(Math.abs(r.uncertainty.riskCoverage.aurc - u.aurc) < 1e-12);
  assert.equal(r.uncertainty.referral.referred.length, 10);
  assert.equal(r.uncertainty.passes, T);
  await assert.rejects(quiet(() => uncertaintyCommand(['--samples', s, '--out', join(dir, 'o2')])), /--samples needs --labels/);
});

test('candor uncertainty with test-time augmentation on the baseline; MC dropout on a deterministic model says so', async () => {
  const dir = tempDir('uncertainty-model');
  const model = 'models/baseline/small_cnn_pneumoniamnist64.onnx';
  await quiet(() => uncertaintyCommand(['--model', model, '--mode', 'tta', '--passes', '3', '--limit', '40', '--threads', '1', '--out', join(dir, 'tta')]));
  const r = readJson(join(dir, 'tta', 'results.json'));
  assert.equal(r.uncertainty.passes, 3);
  assert.ok(r.uncertainty.mean.mutualInformation > 0, 'augmented passes disagree a little');
  await quiet(() => uncertaintyCommand(['--model', model, '--mode', 'mc', '--passes', '2', '--limit', '40', '--threads', '1', '--out', join(dir, 'mc')]));
  const m = readJson(join(dir, 'mc', 'results.json'));
  assert.match(m.notes[0], /identical: .* no stochastic layer/);
  assert.equal(m.uncertainty.mean.mutualInformation, 0);
});

test('candor uncertainty --mode mc on a small CNN with stochastic dropout gives passes that differ (mutual information > 0)', async () => {
  const dir = tempDir('uncertainty-mc');
  const model = join(dir, 'mc.onnx');
  writeFileSync(model, serializeModel(smallCnn({ inChannels: 1, numClasses: 2, inputSize: 32, seed: 3, dropout: 'stochastic', dropoutRate: 0.5 })));
  await quiet(() => uncertaintyCommand(['--model', model, '--mode', 'mc', '--passes', '4', '--limit', '30', '--threads', '1', '--out', join(dir, 'out')]));
  const r = readJson(join(dir, 'out', 'results.json'));
  assert.deepEqual(r.notes, []);
  assert.equal(r.uncertainty.passes, 4);
  assert.ok(r.uncertainty.mean.mutualInformation > 0 && r.uncertainty.mean.variancePredicted > 0);
  // The passes are seeded: the same --seed gives the same numbers, another seed other ones.
  const again = async (seed: string, out: string) => {
    await quiet(() => uncertaintyCommand(['--model', model, '--mode', 'mc', '--passes', '4', '--limit', '30', '--threads', '1', '--seed', seed, '--out', join(dir, out)]));
    return readJson(join(dir, out, 'results.json')).uncertainty.mean;
  };
  assert.deepEqual(await again('0', 'same'), r.uncertainty.mean);
  assert.notDeepEqual(await again('5', 'other'), r.uncertainty.mean);
});
