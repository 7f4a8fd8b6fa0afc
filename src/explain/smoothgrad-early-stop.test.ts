/**
 * SmoothGrad with early stopping (issue 19): each image stops when the standard error of its mean map is
 * within the tolerance; the result is exactly the fixed-count SmoothGrad of that image's own noise stream
 * with the samples it used; the fixed-count mode is unchanged. On the bundled CNN the paper's 50 samples
 * leave a standard error of about 0.4 of the map's variation (|∇|; about 0.5 for the signed gradient), so a
 * tolerance of 0.5 takes fewer than 50.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../runtime/node.js';
import { smoothGrad } from './smoothgrad.js';
import { loadMedMnist } from '../data/medmnist.js';
import { resize } from '../data/resize.js';
import { toMinusOneOne } from '../data/transforms.js';
import { repoRoot } from '../testing/paths.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';

test("SmoothGrad to a standard error of half the map's variation (50 fixed samples give about 0.4): per-image counts, each equal to a fixed-count run on its own stream, within the tolerance, fewer than 50", async () => {
  const model = loadModel(join(repoRoot, 'models', 'baseline', 'small_cnn_pneumoniamnist64.onnx'), { threads: 1 });
  try {
    const ds = loadMedMnist(join(repoRoot, 'data', 'pneumoniamnist.npz'), 'test', { limit: 4 });
    const x = toMinusOneOne(resize(ds.images, [64, 64], { antialias: true }));
    const early = await smoothGrad(model, x, 'pred', { tolerance: 0.5, seed: 3 });
    const used = early.extra!.samples as unknown as number[];
    assert.equal(used.length, 4);
    for (const k of used) assert.ok(k >= 8 && k % 8 === 0 && k <= 256, `samples ${k}`);
    const mean = used.reduce((a, b) => a + b, 0) / used.length;
    const se = early.extra!.relativeSE as unknown as number[];
    console.log(`# SmoothGrad at 0.5: samples per image ${used.join(', ')} (mean ${mean.toFixed(1)}; the paper's fixed count: 50), relative SE ${se.map((v) => v.toFixed(3)).join(', ')}`);
    for (const v of se) assert.ok(v <= 0.5, `relative SE ${v}`);
    assert.ok(mean < 50, `mean samples ${mean}`);
    // Recompute image 1 from its own stream: the same noise, the fixed-count mean over `used[1]` samples.
    const size = 64 * 64;
    const i = 1;
    const stream = new Rng(3).fork(`smoothgrad-image-${i}`);
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = 0; p < size; p++) (lo = Math.min(lo, x.data[i * size + p]!)), (hi = Math.max(hi, x.data[i * size + p]!));
    const sigma = 0.15 * (hi - lo);
    const copies = new Float32Array(used[i]! * size);
    for (let s = 0; s < used[i]!; s++) {
      const row = copies.subarray(s * size, (s + 1) * size);
      stream.fillNormal(row, 0, sigma);
      for (let p = 0; p < size; p++) row[p]! += x.data[i * size + p]!;
    }
    const seed = new Float32Array(used[i]! * 2);
    for (let s = 0; s < used[i]!; s++) seed[s * 2 + early.targets[i]!] = 1;
    const g = (await model.vjp(new Tensor(copies, [used[i]!, 1, 64, 64]), { seed: new Tensor(seed, [used[i]!, 2]) })).inputGrad!.data;
    let worst = 0;
    for (let p = 0; p < size; p++) {
      let m = 0;
      for (let s = 0; s < used[i]!; s++) m += Math.abs(g[s * size + p]!);
      worst = Math.max(worst, Math.abs(m / used[i]! - early.map.data[i * size + p]!));
    }
    assert.ok(worst < 1e-6, `image ${i}: differs from its fixed-count recomputation by ${worst}`);
    // The fixed-count mode is untouched: 50 samples, one shared stream, a number for extra.samples.
    const fixed = await smoothGrad(model, x, 'pred', { samples: 16, seed: 3 });
    assert.equal(fixed.extra!.samples, 16);
    await assert.rejects(smoothGrad(model, x, 'pred', { tolerance: 0 }), /tolerance must be a positive number, got 0/);
  } finally {
    await model.dispose();
  }
});
