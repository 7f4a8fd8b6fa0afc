/**
 * Quantus' eMPRT and sMPRT against Quantus itself (fixtures/make_quantus_randomisation_fixtures.py): the seeded
 * CNN, the very models Quantus randomised layer by layer (exported), the gradient as the method, NumPy's draws
 * replayed for sMPRT's noise; NumPy's histogram reproduced bin for bin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../runtime/node.js';
import { Tensor } from '../../tensor/tensor.js';
import { explain } from '../../explain/registry.js';
import type { Model } from '../../runtime/model.js';
import { NumpyRandomState } from '../../tensor/numpy-random.js';
import { countEntropy, efficientMprt, numpyHistogram, smoothMprt } from './efficient-mprt.js';

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));
const m = JSON.parse(readFileSync(fixture('quantus_model_reference.json'), 'utf8')) as { x: number[]; y: number[]; shape: number[] };
const ref = JSON.parse(readFileSync(fixture('quantus_randomisation_reference.json'), 'utf8')) as { layers: string[]; emprt: number[]; smprt: Record<string, number[]>; smprt_average: number[] };

function close(name: string, got: readonly number[], want: readonly number[], tol: number): void {
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= tol * Math.max(1, Math.abs(want[i]!)), `${name}[${i}]: candor ${g}, Quantus ${want[i]}`));
}

test('numpyHistogram bins like np.histogram (edges included in the last bin, constant input widened by ½)', () => {
  assert.deepEqual(numpyHistogram([0, 1, 2, 3, 4], 4), [1, 1, 1, 2]);
  assert.deepEqual(numpyHistogram([5, 5, 5], 2), [0, 3]);
  assert.deepEqual(numpyHistogram([0, 0.1, 0.2, 0.3], 3), [1, 1, 2]);
  assert.ok(Math.abs(countEntropy([1, 1, 2]) - -(0.25 * Math.log(0.25) * 2 + 0.5 * Math.log(0.5))) < 1e-15);
});

test('eMPRT and sMPRT equal Quantus on the models Quantus randomised', async () => {
  const model = loadModel(fixture('quantus_cnn.onnx'), { threads: 1 });
  const randomized = ref.layers.map((layer, k) => ({ layer, model: loadModel(fixture(`quantus_random_${k}.onnx`), { threads: 1 }) }));
  try {
    const x = new Tensor(Float32Array.from(m.x), m.shape);
    const grad = async (mm: Model, inputs: Tensor, targets: readonly number[]) => (await explain(mm, inputs, 'gradient', [...targets])).attributions!;
    const e = await efficientMprt(model, x, m.y, grad, randomized);
    close('emprt', e.scores, ref.emprt, 1e-6);
    const a = await grad(model, x, m.y);
    const s = await smoothMprt(model, x, m.y, a, grad, randomized, { samples: 8, noise: new NumpyRandomState(9) });
    close('smprt original', s.original, ref.smprt.original!, 1e-9);
    s.layers.forEach((l) => close(`smprt ${l.layer}`, l.scores, ref.smprt[l.layer]!, 1e-9));
    const s2 = await smoothMprt(model, x, m.y, a, grad, randomized, { samples: 8, noise: new NumpyRandomState(9) });
    close('smprt average', s2.average, ref.smprt_average, 1e-9);
    await assert.rejects(efficientMprt(model, x, m.y, grad, []), /no randomised model given/);
  } finally {
    await model.dispose();
    for (const r of randomized) await r.model.dispose();
  }
});
