/**
 * Control maps: Sobel equals Quantus' definition computed by SciPy (make_control_fixtures.py) on images and
 * volumes; the random map is seeded, in [0, 1) and of the right mean; the constant map is its value; all run
 * through `explain` by name with the model's targets and logits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../runtime/node.js';
import { repoRoot } from '../../testing/paths.js';
import { Tensor } from '../../tensor/tensor.js';
import { Rng } from '../../tensor/rng.js';
import { explain } from '../registry.js';

const fx = JSON.parse(readFileSync(fileURLToPath(new URL('./control_fixtures.json', import.meta.url)), 'utf8')) as Record<string, { shape: number[]; x: number[]; sobel: number[] }>;

test('the Sobel control equals Quantus\' clip(scipy.ndimage.sobel(x), 0, 1) averaged over channels, on images [2,3,8,10] and volumes [1,2,5,6,7]', async () => {
  const { sobelMaps } = await import('./sobel.js');
  for (const [name, f] of Object.entries(fx)) {
    const maps = sobelMaps(new Tensor(Float32Array.from(f.x), f.shape));
    assert.equal(maps.length, f.sobel.length);
    let worst = 0;
    maps.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - f.sobel[i]!))));
    assert.ok(worst < 1e-6, `${name}: differs from SciPy by ${worst}`);
  }
  // and through explain on the bundled model: the model's targets beside the same map
  const model = loadModel(join(repoRoot, 'models', 'baseline', 'small_cnn_pneumoniamnist64.onnx'), { threads: 1 });
  try {
    const rng = new Rng(2);
    const x = new Tensor(Float32Array.from({ length: 2 * 64 * 64 }, () => rng.uniform(-1, 1)), [2, 1, 64, 64]);
    const r = await explain(model, x, 'sobel', 'pred');
    assert.deepEqual(r.map.shape, [2, 64, 64]);
    assert.deepEqual(Array.from(r.map.data), Array.from(sobelMaps(x)));
    assert.deepEqual(r.targets, (await explain(model, x, 'saliency', 'pred')).targets);
  } finally {
    await model.dispose();
  }
});

test('random and constant controls through explain on the bundled model: seeded, in range, with the model\'s targets', async () => {
  const model = loadModel(join(repoRoot, 'models', 'baseline', 'small_cnn_pneumoniamnist64.onnx'), { threads: 1 });
  try {
    const rng = new Rng(4);
    const x = new Tensor(Float32Array.from({ length: 3 * 64 * 64 }, () => rng.uniform(-1, 1)), [3, 1, 64, 64]);
    const a = await explain(model, x, 'random', 'pred', { seed: 3 });
    const b = await explain(model, x, 'random', 'pred', { seed: 3 });
    const c = await explain(model, x, 'random', 'pred', { seed: 4 });
    assert.deepEqual(Array.from(a.map.data), Array.from(b.map.data));
    assert.notDeepEqual(Array.from(a.map.data), Array.from(c.map.data));
    assert.ok(a.map.data.every((v) => v >= 0 && v < 1));
    const mean = a.map.data.reduce((s, v) => s + v, 0) / a.map.size;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
    const sal = await explain(model, x, 'saliency', 'pred');
    assert.deepEqual(a.targets, sal.targets);
    const k = await explain(model, x, 'constant', 'pred', { value: 'black' });
    for (let i = 0; i < 3; i++) {
      const lo = Math.min(...x.data.subarray(i * 4096, (i + 1) * 4096));
      assert.ok(k.map.data.subarray(i * 4096, (i + 1) * 4096).every((v) => v === Math.fround(lo)));
    }
    await assert.rejects(explain(model, x, 'constant', 'pred', { value: 'grey' as never }), /value must be a number, black, white or mean/);
  } finally {
    await model.dispose();
  }
});
