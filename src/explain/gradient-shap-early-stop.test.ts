/**
 * GradientSHAP to a standard-error target (issue 19): each image stops when the standard error of its mean
 * attribution is within the tolerance; the result equals the fixed-count GradientSHAP estimator over the
 * draws that image took (its own streams); the fixed-count mode is unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../runtime/node.js';
import { gradientShap, gradientShapWithDraws, shapBaselines } from './gradient-shap.js';
import { loadMedMnist } from '../data/medmnist.js';
import { resize } from '../data/resize.js';
import { toMinusOneOne } from '../data/transforms.js';
import { repoRoot } from '../testing/paths.js';
import { Tensor } from '../tensor/tensor.js';

test('GradientSHAP to a standard error of 0.3 of the attribution\'s variation: per-image draw counts, each within the tolerance and equal to the fixed-count estimator over its own draws', async () => {
  const model = loadModel(join(repoRoot, 'models', 'baseline', 'small_cnn_pneumoniamnist64.onnx'), { threads: 1 });
  try {
    const ds = loadMedMnist(join(repoRoot, 'data', 'pneumoniamnist.npz'), 'test', { limit: 3 });
    const x = toMinusOneOne(resize(ds.images, [64, 64], { antialias: true }));
    const opts = { tolerance: 0.3, seed: 5, stdev: 0.05 };
    const early = await gradientShap(model, x, 'pred', opts);
    const used = early.extra!.samples as unknown as number[];
    const se = early.extra!.relativeSE as unknown as number[];
    console.log(`# GradientSHAP at 0.3: draws per image ${used.join(', ')}, relative SE ${se.map((v) => v.toFixed(3)).join(', ')}`);
    assert.equal(used.length, 3);
    for (let i = 0; i < 3; i++) {
      assert.ok(used[i]! >= 8 && used[i]! % 8 === 0 && used[i]! <= 256, `draws ${used[i]}`);
      assert.ok(se[i]! <= 0.3 || used[i] === 256, `relative SE ${se[i]} at ${used[i]} draws`);
    }
    // image 2 again: the fixed-count estimator over the draws it took (same baselines, α and noise)
    const { gradientShapUntilConverged } = await import('./gradient-shap-adaptive.js');
    const base = shapBaselines(x, 'uniform', opts);
    const r = await gradientShapUntilConverged(model, x, early.targets, base, { ...opts, cap: 256 });
    assert.deepEqual(r.used, used);
    const size = 64 * 64;
    const i = 2;
    const one = new Tensor(x.data.slice(i * size, (i + 1) * size), [1, 1, 64, 64]);
    const fixed = await gradientShapWithDraws(model, one, [early.targets[i]!], base, used[i]!, r.draws[i]!);
    let err = 0;
    let scale = 0;
    for (let p = 0; p < size; p++) {
      err = Math.max(err, Math.abs(fixed.data[p]! - early.attributions!.data[i * size + p]!));
      scale = Math.max(scale, Math.abs(fixed.data[p]!));
    }
    assert.ok(err <= 1e-5 * scale, `early-stopped and fixed-count attributions differ by ${err} (scale ${scale})`);
    // the fixed-count mode is untouched: 50 draws, no relativeSE
    const plain = await gradientShap(model, x, 'pred', { seed: 5, stdev: 0.05 });
    assert.equal(plain.extra!.samples, 50);
    assert.equal(plain.extra!.relativeSE, undefined);
    await assert.rejects(gradientShap(model, x, 'pred', { tolerance: 0 }), /tolerance must be a positive number, got 0/);
  } finally {
    await model.dispose();
  }
});
