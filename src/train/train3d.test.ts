/**
 * 3-D training graphs (issue 15): candor's small_cnn_3d (Conv3d, BatchNorm3d on batch statistics, MaxPool3d,
 * global pooling, Linear) in train mode equals PyTorch's train mode on the same weights — loss, every weight
 * gradient and the running statistics (fixtures/make_train3d_fixture.py). Convs of rank 3 stay onnxruntime
 * Convs (the im2col lowering is 2-D).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { fileURLToPath } from 'node:url';
import { buildTrainingGraph, updateRunningStats } from './graph.js';
import { readNpzFileSync } from '../io/files.js';
import { relativeError } from '../testing/gradcheck.js';
import { buildArchitecture } from './arch/index.js';
import { GraphSession, type OrtSessionApi } from '../runtime/session.js';
import { Tensor } from '../tensor/tensor.js';

test('3-D training graph (small_cnn_3d) matches PyTorch train mode: loss, every weight gradient, BatchNorm3d running statistics', async (t) => {
  const fx = readNpzFileSync(fileURLToPath(new URL('./fixtures/train3d.npz', import.meta.url)));
  const get = (k: string) => fx.get(k) as Tensor;
  const m = buildArchitecture('small_cnn_3d', { inChannels: 1, numClasses: 3, seed: 0, dropout: 'stochastic', dropoutRate: 0 });
  for (const [name, init] of m.graph.initializers) {
    const src = fx.get(name) as Tensor | undefined;
    assert.ok(src, `no PyTorch value for ${name}`);
    assert.deepEqual(init.dims, src.shape, name);
    init.data = Float32Array.from(src.data as Float32Array);
  }
  const x = get('__input__');
  const tg = buildTrainingGraph(m, { task: 'single', imageShape: x.shape.slice(1) });
  assert.equal(tg.batchNorms.length, 1);
  const s = await GraphSession.create(tg.model, ort as unknown as OrtSessionApi);
  const labels = Array.from(get('__labels__').data as unknown as Int32Array);
  const cw = get('__class_weights__').data as Float32Array;
  const n = labels.length;
  const tot = labels.reduce((a, y) => a + cw[y]!, 0);
  const target = new Tensor(new Float32Array(n * 3), [n, 3]);
  labels.forEach((y, i) => (target.data[i * 3 + y] = cw[y]! / tot));
  const params = Object.fromEntries(tg.params.map((p) => [p, new Tensor(Float32Array.from(m.graph.initializers.get(p)!.data as Float32Array), m.graph.initializers.get(p)!.dims)]));
  const r = await s.run({ [tg.input]: x, target, [tg.seed]: new Tensor(new Float32Array([1]), []), ...params });
  const loss = get('__loss__').data[0]!;
  const el = Math.abs(r[tg.loss]!.data[0]! - loss) / loss;
  const rows = [`loss ${el.toExponential(1)}`];
  assert.ok(el < 1e-5, `loss ${el}`);
  for (const p of tg.params) {
    const g = r[tg.grads.get(p)!]!.data;
    // features.0.bias: cancelled exactly by BatchNorm's batch mean (PyTorch's is ~1e-9 of rounding)
    if (p === 'features.0.bias') {
      assert.ok(Math.max(...Array.from(g, Math.abs)) < 1e-6);
      continue;
    }
    const e = relativeError(g, get(`grad:${p}`).data as Float32Array);
    rows.push(`${p} ${e.toExponential(1)}`);
    assert.ok(e < 1e-4, `${p}: ${e}`);
  }
  const bn = tg.batchNorms[0]!;
  const running = { mean: Float32Array.from(m.graph.initializers.get(bn.runningMean)!.data as Float32Array), var: Float32Array.from(m.graph.initializers.get(bn.runningVar)!.data as Float32Array) };
  updateRunningStats(bn, running, r[bn.batchMean]!.data, r[bn.batchVar]!.data, n);
  assert.ok(relativeError(running.mean, get('__running_mean__').data as Float32Array) < 1e-5);
  assert.ok(relativeError(running.var, get('__running_var__').data as Float32Array) < 1e-5);
  t.diagnostic(rows.join(', '));
  await s.release();
});

test('precise BN: BatchNorm statistics recomputed for the final weights equal torch.optim.swa_utils.update_bn (batches of 4, 4, 2)', async () => {
  const { recomputeBatchNormStats } = await import('./precise-bn.js');
  const fx = readNpzFileSync(fileURLToPath(new URL('./fixtures/train3d.npz', import.meta.url)));
  const get = (k: string) => fx.get(k) as Tensor;
  const m = buildArchitecture('small_cnn_3d', { inChannels: 1, numClasses: 3, seed: 0, dropout: 'inference' });
  for (const [name, init] of m.graph.initializers) init.data = Float32Array.from((fx.get(name) as Tensor).data as Float32Array);
  const images = get('__bn_input__');
  const ds = { task: 'single' as const, images, labels: new Int32Array(images.shape[0]!), classNames: ['a', 'b', 'c'], source: 'fixture' };
  const out = await recomputeBatchNormStats(m, ds, ort as unknown as OrtSessionApi, { batchSize: 4 });
  const mean = out.graph.initializers.get('features.1.running_mean')!.data as Float32Array;
  const variance = out.graph.initializers.get('features.1.running_var')!.data as Float32Array;
  const em = relativeError(mean, get('__bn_mean__').data as Float32Array);
  const ev = relativeError(variance, get('__bn_var__').data as Float32Array);
  assert.ok(em < 1e-5 && ev < 1e-5, `mean ${em}, var ${ev}`);
  // the weights are untouched
  assert.deepEqual(out.graph.initializers.get('features.0.weight')!.data, m.graph.initializers.get('features.0.weight')!.data);
});
