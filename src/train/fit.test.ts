import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fit } from './fit.js';
import { createOptimizer } from './optim.js';
import { constant } from './schedule.js';
import { saveModel, cardPath } from './card.js';
import { buildArchitecture } from './arch/index.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import type { SingleLabelDataset } from '../data/dataset.js';
import type { OrtSessionApi } from '../runtime/session.js';
import { parseModel } from '../onnx/proto.js';

const api = ort as unknown as OrtSessionApi;
const S = 16;

/** Class 1 images carry a bright 4×4 square at a random place; class 0 do not. */
function toyData(n: number, seed: number): SingleLabelDataset {
  const rng = new Rng(seed);
  const images = new Float32Array(n * S * S);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < S * S; p++) images[i * S * S + p] = rng.uniform(-1, 0);
    labels[i] = i % 2;
    if (labels[i]) {
      const y = rng.int(S - 4);
      const x = rng.int(S - 4);
      for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) images[i * S * S + (y + dy) * S + x + dx] = 1;
    }
  }
  return { task: 'single', images: new Tensor(images, [n, 1, S, S]), labels, classNames: ['clean', 'square'], source: 'toy' };
}

const model = () => buildArchitecture('small_cnn', { inChannels: 1, numClasses: 2, inputSize: S, seed: 1, dropout: 'inference' });
const options = (epochs: number) => ({
  epochs,
  batchSize: 32,
  seed: 7,
  optimizer: (p: Map<string, Float32Array>) => createOptimizer(p, { type: 'Adam' as const, lr: 3e-3 }),
  learningRate: constant(3e-3),
});

test('fit learns a separable task, keeps the best validation epoch, and bakes weights and running statistics into the model', async () => {
  const r = await fit(model(), toyData(192, 1), toyData(64, 2), api, options(4));
  assert.equal(r.history.length, 4);
  assert.ok(r.history[3]!.train.loss < r.history[0]!.train.loss, 'training loss falls');
  const best = r.history[r.bestEpoch]!.val!;
  assert.ok(best.accuracy >= 0.9 && best.auroc! >= 0.95, JSON.stringify(best));
  assert.equal(best.auroc, Math.max(...r.history.map((h) => h.val!.auroc!)));
  const rm = r.model.graph.initializers.get('features.1.running_mean')!.data as Float32Array;
  assert.ok(rm.some((v) => v !== 0), 'running mean updated');
});

test('training is reproducible from its seed', async () => {
  const a = await fit(model(), toyData(64, 3), undefined, api, options(2));
  const b = await fit(model(), toyData(64, 3), undefined, api, options(2));
  for (const [k, t] of a.model.graph.initializers) assert.deepEqual(b.model.graph.initializers.get(k)!.data, t.data, k);
});

test('an interrupted fit stops between batches and reports it', async () => {
  const c = new AbortController();
  const r = await fit(model(), toyData(128, 4), undefined, api, { ...options(3), onBatch: (i) => i.batch === 1 && c.abort(), signal: c.signal });
  assert.equal(r.interrupted, true);
  assert.ok(r.history.length <= 1);
});

test('saveModel writes a loadable ONNX file and its card, with no temporary files left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-save-'));
  const path = join(dir, 'm.onnx');
  const r = await fit(model(), toyData(64, 5), undefined, api, options(1));
  const card = { candorVersion: 'test', createdAt: '', architecture: 'small_cnn', input: { channels: 1, size: S, normalization: '' }, classes: ['a', 'b'], data: { path: '', description: '', splits: {} }, training: {}, seed: 7, history: r.history, bestEpoch: r.bestEpoch, interrupted: false, test: { n: 0, loss: 0, accuracy: 0 } };
  await saveModel(path, r.model, card);
  assert.deepEqual(readdirSync(dir).sort(), ['m.json', 'm.onnx']);
  assert.equal(parseModel(readFileSync(path)).producerName, 'candor');
  assert.equal(JSON.parse(readFileSync(cardPath(path), 'utf8')).seed, 7);
});

test("keep 'last' keeps the last epoch whatever validation says, validating it once; stopAtTrainAccuracy ends training once reached", async () => {
  const last = await fit(model(), toyData(96, 6), toyData(32, 7), api, { ...options(3), keep: 'last' });
  assert.equal(last.bestEpoch, 2);
  assert.deepEqual(last.history.map((h) => h.val !== undefined), [false, false, true]);
  const stopped = await fit(model(), toyData(96, 6), toyData(32, 7), api, { ...options(20), keep: 'last', stopAtTrainAccuracy: 0.9 });
  const accs = stopped.history.map((h) => h.train.accuracy);
  assert.ok(stopped.history.length < 20 && accs[accs.length - 1]! >= 0.9, `accuracies ${accs.map((a) => a.toFixed(2))}`);
  assert.ok(accs.slice(0, -1).every((a) => a < 0.9), 'stops at the first epoch that reaches it');
  assert.ok(stopped.history.at(-1)!.val && stopped.history.slice(0, -1).every((h) => !h.val), 'validated once, on the kept epoch');
});
