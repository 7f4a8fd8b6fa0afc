import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { fileURLToPath } from 'node:url';
import { buildTrainingGraph, buildEvalGraph, updateRunningStats } from './graph.js';
import { trainCase, TRAIN_SIZE } from '../testing/train-fixtures.js';
import { readNpzFileSync } from '../io/files.js';
import { relativeError } from '../testing/gradcheck.js';
import { buildArchitecture } from './arch/index.js';
import { GraphSession, type OrtSessionApi } from '../runtime/session.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import type { Model } from '../onnx/ir.js';

const api = ort as unknown as OrtSessionApi;
const SIZE = 16;

function paramsOf(m: Model, names: string[]): Record<string, Tensor> {
  return Object.fromEntries(names.map((n) => {
    const t = m.graph.initializers.get(n)!;
    return [n, new Tensor(Float32Array.from(t.data as Float32Array), t.dims)];
  }));
}

function batch(n: number, seed: number): Tensor {
  const rng = new Rng(seed);
  return new Tensor(Float32Array.from({ length: n * SIZE * SIZE }, () => rng.uniform(-1, 1)), [n, 1, SIZE, SIZE]);
}

test('training graph (BatchNorm on batch statistics, weighted cross-entropy) matches PyTorch train mode: loss, every weight gradient, running statistics', async (t) => {
  const c = trainCase();
  const m = c.model;
  const golden = readNpzFileSync(fileURLToPath(new URL('./fixtures/train_golden.npz', import.meta.url)));
  const tg = buildTrainingGraph(m, { task: 'single', imageShape: [1, TRAIN_SIZE, TRAIN_SIZE] });
  assert.equal(tg.batchNorms.length, 1);
  const s = await GraphSession.create(tg.model, api);
  const n = c.labels.length;
  const tot = c.labels.reduce((a, y) => a + c.classWeights[y]!, 0);
  const target = new Tensor(new Float32Array(n * 3), [n, 3]);
  c.labels.forEach((y, i) => (target.data[i * 3 + y] = c.classWeights[y]! / tot));
  const r = await s.run({ [tg.input]: c.input, target, [tg.seed]: new Tensor(new Float32Array([1]), []), ...paramsOf(m, tg.params) });
  const errLoss = Math.abs(r[tg.loss]!.data[0]! - golden.get('loss')!.data[0]!) / golden.get('loss')!.data[0]!;
  t.diagnostic(`loss relative error ${errLoss.toExponential(2)}`);
  assert.ok(errLoss < 1e-5);
  for (const p of tg.params) {
    const e = relativeError(r[tg.grads.get(p)!]!.data, golden.get(`grad:${p}`)!.data as Float32Array);
    t.diagnostic(`${p}: relative error ${e.toExponential(2)}`);
    // features.0.bias: exactly cancelled by the batch mean in both (PyTorch's is ~1e-9 rounding)
    if (p === 'features.0.bias') assert.ok(Math.max(...Array.from(r[tg.grads.get(p)!]!.data, Math.abs)) < 1e-6);
    else assert.ok(e < 1e-4, `${p}: ${e}`);
  }
  const bn = tg.batchNorms[0]!;
  const running = { mean: Float32Array.from(m.graph.initializers.get(bn.runningMean)!.data as Float32Array), var: Float32Array.from(m.graph.initializers.get(bn.runningVar)!.data as Float32Array) };
  updateRunningStats(bn, running, r[bn.batchMean]!.data, r[bn.batchVar]!.data, n);
  assert.ok(relativeError(running.mean, golden.get('running_mean')!.data as Float32Array) < 1e-5);
  assert.ok(relativeError(running.var, golden.get('running_var')!.data as Float32Array) < 1e-5);
  await s.release();
});

test('multi-label loss is weighted binary cross-entropy with logits, stable for large logits', async () => {
  const m = buildArchitecture('small_cnn', { inChannels: 1, numClasses: 4, inputSize: SIZE, seed: 4, batchNorm: false });
  // make logits large to exercise the stable softplus
  const fc = m.graph.initializers.get('classifier.4.weight')!;
  fc.data = Float32Array.from(fc.data as Float32Array, (v) => v * 5000);
  const tg = buildTrainingGraph(m, { task: 'multi', imageShape: [1, SIZE, SIZE] });
  const s = await GraphSession.create(tg.model, api);
  const x = batch(3, 2);
  const y = new Tensor(Float32Array.from([1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0]), [3, 4]);
  const wt = new Tensor(new Float32Array(12).fill(1 / 12), [3, 4]);
  const r = await s.run({ [tg.input]: x, target: y, weight: wt, [tg.seed]: new Tensor(new Float32Array([1]), []), ...paramsOf(m, tg.params) });
  const z = r[tg.logits]!.data;
  let bce = 0;
  for (let i = 0; i < 12; i++) bce += (Math.max(z[i]!, 0) - z[i]! * y.data[i]! + Math.log1p(Math.exp(-Math.abs(z[i]!)))) / 12;
  assert.ok(Math.max(...Array.from(z, Math.abs)) > 30, `logits are large: ${Math.max(...Array.from(z, Math.abs))}`);
  assert.ok(Number.isFinite(r[tg.loss]!.data[0]!));
  assert.ok(Math.abs(r[tg.loss]!.data[0]! - bce) < 1e-4 * Math.max(1, bce), `${r[tg.loss]!.data[0]} vs ${bce}`);
  await s.release();
});

test('the eval graph takes weights and running statistics as inputs and reproduces the original model', async () => {
  const m = buildArchitecture('small_cnn', { inChannels: 1, numClasses: 2, inputSize: SIZE, seed: 6 });
  const tg = buildTrainingGraph(m, { task: 'single', imageShape: [1, SIZE, SIZE] });
  const e = buildEvalGraph(m, tg.params, tg.batchNorms);
  const stats = tg.batchNorms.flatMap((b) => [b.runningMean, b.runningVar]);
  const feeds = { input: batch(2, 3), ...paramsOf(m, [...tg.params, ...stats]) };
  const a = await GraphSession.create(e, api);
  const b = await GraphSession.create(m, api);
  const ya = (await a.run(feeds))['logits']!.data;
  const yb = (await b.run({ input: feeds.input }))['logits']!.data;
  // equal up to float32 rounding (onnxruntime fuses BatchNorm into Conv only when they are constants)
  for (let i = 0; i < ya.length; i++) assert.ok(Math.abs(ya[i]! - yb[i]!) <= 1e-5 * Math.max(1, Math.abs(yb[i]!)), `${ya[i]} vs ${yb[i]}`);
  await a.release();
  await b.release();
});

test('convs as batch-folded im2col GEMMs (Gather and selection-MatMul im2col; stride 2, padding, 1×1) give the same loss, gradients and batch statistics as onnxruntime Conv', async (t) => {
  // A narrow ResNet-18 at 32×32: 7×7/2 stem, 3×3 convs at 8×8…1×1, stride-2 3×3 and 1×1 downsamples.
  const m = buildArchitecture('resnet18', { inChannels: 3, numClasses: 2, inputSize: 32, seed: 5, baseWidth: 8, dropout: 'inference' });
  const n = 6;
  const rng = new Rng(11);
  const x = new Tensor(Float32Array.from({ length: n * 3 * 32 * 32 }, () => rng.uniform(-1, 1)), [n, 3, 32, 32]);
  const target = new Tensor(new Float32Array(n * 2), [n, 2]);
  for (let i = 0; i < n; i++) target.data[i * 2 + (i % 2)] = 1 / n;
  const results = [];
  for (const convGemm of [false, { matmulSpatial: 0 }, { matmulSpatial: 64, maxSpatial: Infinity }] as const) {
    const tg = buildTrainingGraph(m, { task: 'single', imageShape: [3, 32, 32], convGemm });
    const s = await GraphSession.create(tg.model, api);
    results.push({ tg, r: await s.run({ [tg.input]: x, [tg.target]: target, [tg.seed]: new Tensor(new Float32Array([1]), []), ...paramsOf(m, tg.params) }) });
    await s.release();
  }
  const [ref, ...others] = results;
  for (const o of others) {
    assert.ok(o.tg.model.graph.nodes.every((nd) => nd.opType !== 'Conv'), 'every Conv is lowered');
    // float32 rounding of a different op order: a few ulps of the loss
    assert.ok(Math.abs(o.r[o.tg.loss]!.data[0]! - ref!.r[ref!.tg.loss]!.data[0]!) < 2e-6 * Math.abs(ref!.r[ref!.tg.loss]!.data[0]!), 'loss ' + o.r[o.tg.loss]!.data[0] + ' vs ' + ref!.r[ref!.tg.loss]!.data[0]);
    let worst = 0;
    for (const p of ref!.tg.params) worst = Math.max(worst, relativeError(o.r[o.tg.grads.get(p)!]!.data, ref!.r[ref!.tg.grads.get(p)!]!.data));
    t.diagnostic(`worst gradient relative error ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-4, `${worst}`);
    for (const b of ref!.tg.batchNorms) assert.ok(relativeError(o.r[b.batchVar]!.data, ref!.r[b.batchVar]!.data) < 1e-5);
  }
});
