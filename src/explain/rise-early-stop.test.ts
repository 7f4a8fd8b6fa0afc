/**
 * RISE with early stopping (issue 19): each image stops when its map's relative standard error is within
 * the tolerance; its map equals RISE over the first k masks of the same mask set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../runtime/node.js';
import { randomRiseMasks, rise, riseWithMasks } from './rise.js';
import { loadMedMnist } from '../data/medmnist.js';
import { resize } from '../data/resize.js';
import { toMinusOneOne } from '../data/transforms.js';
import { repoRoot } from '../testing/paths.js';

test("RISE to a standard error of 1.2× the map's variation: masks per image in rounds of 250, each map equal to RISE over that prefix of the mask set", async () => {
  const model = loadModel(join(repoRoot, 'models', 'baseline', 'small_cnn_pneumoniamnist64.onnx'), { threads: 2 });
  try {
    const ds = loadMedMnist(join(repoRoot, 'data', 'pneumoniamnist.npz'), 'test', { limit: 3 });
    const x = toMinusOneOne(resize(ds.images, [64, 64], { antialias: true }));
    const r = await rise(model, x, 'pred', { tolerance: 1.2, masks: 3000, seed: 2 });
    const used = r.extra!.masks as unknown as number[];
    const se = r.extra!.relativeSE as unknown as number[];
    console.log(`# RISE at 1.2: masks per image ${used.join(', ')} (fixed default 2000), relative SE ${se.map((v) => v.toFixed(3)).join(', ')}`);
    used.forEach((k, i) => {
      assert.ok(k % 250 === 0 && k <= 3000, `masks ${k}`);
      assert.ok(se[i]! <= 1.2 || k === 3000, `image ${i}: SE ${se[i]} at ${k} masks`);
    });
    const all = randomRiseMasks(3000, 8, 0.5, [64, 64], 2);
    const i = 0;
    const k = used[i]!;
    const prefix = { ...all, count: k, grids: Array.from(all.grids).slice(0, k * 64), shifts: all.shifts.slice(0, k) };
    const again = await riseWithMasks(model, x.slice0(i, i + 1), [r.targets[i]!], prefix);
    let worst = 0;
    for (let q = 0; q < 64 * 64; q++) worst = Math.max(worst, Math.abs(again.data[q]! - r.map.data[i * 64 * 64 + q]!));
    assert.ok(worst < 1e-6, `image ${i}: differs from RISE over its ${k} masks by ${worst}`);
  } finally {
    await model.dispose();
  }
});
