/**
 * Integrated Gradients to a tolerance (issue 19): the delta meets the tolerance, the map agrees with a
 * 200-step Gauss–Legendre reference as well as the tolerance allows, and it takes fewer gradient
 * evaluations than Captum's default 50 steps on the bundled CNN and a zoo ResNet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../runtime/node.js';
import { integratedGradients } from './integrated-gradients.js';
import { loadMedMnist } from '../data/medmnist.js';
import { resize } from '../data/resize.js';
import { toMinusOneOne } from '../data/transforms.js';
import { repoRoot } from '../testing/paths.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { pearson } from '../evaluate/correlation.js';

async function check(modelPath: string, x: Tensor, label: string): Promise<void> {
  const model = loadModel(modelPath, { threads: 1 });
  try {
    const ref = await integratedGradients(model, x, 'pred', { steps: 200, baseline: 'black' });
    const gl50 = await integratedGradients(model, x, 'pred', { steps: 50, baseline: 'black' });
    const ad = await integratedGradients(model, x, 'pred', { tolerance: 0.01, baseline: 'black' });
    const n = x.shape[0]!;
    const steps = ad.extra!.steps as number[];
    const delta = ad.extra!.delta as number[];
    const f = ad.logits!.data;
    const fb = (ad.extra!.baselineLogits as Tensor).data;
    const k = model.numClasses;
    const size = ad.map.size / n;
    const rs: string[] = [];
    for (let i = 0; i < n; i++) {
      const t = ad.targets[i]!;
      const range = Math.abs(f[i * k + t]! - fb[i * k + t]!);
      assert.ok((ad.extra!.converged as unknown as boolean[])[i], `${label} image ${i} converged`);
      assert.ok(Math.abs(delta[i]!) <= 0.01 * range + 1e-6, `${label} image ${i}: |delta| ${Math.abs(delta[i]!)} > 1% of ${range}`);
      const r = pearson(ad.map.data.subarray(i * size, (i + 1) * size), ref.map.data.subarray(i * size, (i + 1) * size));
      const r50 = pearson(gl50.map.data.subarray(i * size, (i + 1) * size), ref.map.data.subarray(i * size, (i + 1) * size));
      rs.push(`${r.toFixed(4)}/${r50.toFixed(4)}`);
      assert.ok(r > 0.97, `${label} image ${i}: Pearson with the 200-step reference ${r} (GL-50: ${r50})`);
    }
    const mean = steps.reduce((a, b) => a + b, 0) / n;
    const d50 = (gl50.extra!.delta as number[]).map(Math.abs);
    console.log(`# ${label}: adaptive IG (1 %) ${mean.toFixed(1)} gradient evaluations per image (max ${Math.max(...steps)}), |delta| max ${Math.max(...delta.map(Math.abs)).toExponential(2)}; GL-50: 50 evaluations, |delta| max ${Math.max(...d50).toExponential(2)}; Pearson with GL-200, adaptive/GL-50: ${rs.join(' ')}`);
    assert.ok(mean < 50, `${label}: ${mean} evaluations per image on average, not fewer than 50`);
  } finally {
    await model.dispose();
  }
}

test('adaptive IG at 1 %: the delta meets the tolerance, maps agree with 200-step Gauss–Legendre, fewer gradient evaluations than 50 steps (bundled CNN)', async () => {
  const ds = loadMedMnist(join(repoRoot, 'data', 'pneumoniamnist.npz'), 'test', { limit: 6 });
  const x = toMinusOneOne(resize(ds.images, [64, 64], { antialias: true }));
  await check(join(repoRoot, 'models', 'baseline', 'small_cnn_pneumoniamnist64.onnx'), x, 'small CNN');
});

test('adaptive IG at 1 % on a zoo ResNet-50 export', async () => {
  const model = loadModel(join(repoRoot, 'src', 'autodiff', 'fixtures', 'zoo', 'resnet50.onnx'));
  const shape = model.inputShape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 3 : 32)) as number[];
  shape[0] = 3;
  await model.dispose();
  const x = new Tensor(new Rng(5).fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), -1, 1), shape);
  await check(join(repoRoot, 'src', 'autodiff', 'fixtures', 'zoo', 'resnet50.onnx'), x, 'ResNet-50 (zoo)');
});

test('adaptive IG refuses a tolerance outside (0, 1)', async () => {
  const model = loadModel(join(repoRoot, 'models', 'baseline', 'small_cnn_pneumoniamnist64.onnx'));
  await assert.rejects(integratedGradients(model, Tensor.zeros([1, 1, 64, 64]), 0, { tolerance: 2 }), /tolerance must be in \(0, 1\), got 2/);
  await model.dispose();
});
