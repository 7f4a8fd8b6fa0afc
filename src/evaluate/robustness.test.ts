/**
 * Robustness metrics:
 *  - on a linear model with input × gradient maps Φ(x) = Σ_c w_t,c ⊙ x_c, the map change is
 *    Σ_c w_t,c ⊙ δ_c: max/avg-sensitivity recomputed here from the perturbed inputs the callback
 *    received, and every perturbation lies in the L∞ ball of radius r;
 *  - a gradient map of a linear model does not depend on x: sensitivity 0, stability 1;
 *  - the bundled small CNN with saliency maps: stability in (−1, 1], sensitivity grows with r.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { loadModel } from '../runtime/node.js';
import { repoRoot } from '../testing/paths.js';
import { saliency } from '../explain/saliency.js';
import { sensitivity, stability } from './robustness.js';
import { linearModel } from './fixtures/linear-model.js';

const [N, C, H, W, K] = [3, 2, 5, 6, 3];
const hw = H * W;
const { model, W: Wt } = linearModel(C, H, W, K, 11);
const x = new Tensor(new Rng(12).fillNormal(new Float32Array(N * C * hw)), [N, C, H, W]);

function ixg(inputs: Tensor, targets: readonly number[]): Float64Array {
  const n = inputs.shape[0]!;
  const m = new Float64Array(n * hw);
  for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) for (let p = 0; p < hw; p++) m[i * hw + p]! += Wt[targets[i]! * C * hw + c * hw + p]! * inputs.data[(i * C + c) * hw + p]!;
  return m;
}

test('max/avg-sensitivity of input × gradient on a linear model equal the closed form', async () => {
  const seen: Tensor[] = [];
  const explain = async (inp: Tensor, t: readonly number[]) => {
    seen.push(new Tensor(Float32Array.from(inp.data), inp.shape));
    return new Tensor(Float32Array.from(ixg(inp, t)), [inp.shape[0]!, H, W]);
  };
  const r = await sensitivity(model, x, [0, 1, 2], explain, { samples: 5, radius: 0.1, seed: 4 });
  assert.equal(seen.length, 6, 'one call for the originals, one per sample');
  const base = ixg(x, [0, 1, 2]);
  for (let i = 0; i < N; i++) {
    let bn = 0;
    for (let p = 0; p < hw; p++) bn += base[i * hw + p]! ** 2;
    const ratios = seen.slice(1).map((xs) => {
      for (let q = 0; q < N * C * hw; q++) assert.ok(Math.abs(xs.data[q]! - x.data[q]!) <= 0.1 + 1e-6, 'inside the L∞ ball');
      const m = ixg(xs, [0, 1, 2]);
      let d = 0;
      for (let p = 0; p < hw; p++) d += (m[i * hw + p]! - base[i * hw + p]!) ** 2;
      return Math.sqrt(d / bn);
    });
    assert.ok(Math.abs(r.max[i]! - Math.max(...ratios)) < 1e-5, `max image ${i}`);
    assert.ok(Math.abs(r.avg[i]! - ratios.reduce((a, v) => a + v, 0) / 5) < 1e-5, `avg image ${i}`);
    assert.ok(r.max[i]! > 0);
  }
});

test('a map that does not depend on x has sensitivity 0 and stability 1', async () => {
  const grad = async (inp: Tensor, t: readonly number[]) => {
    const n = inp.shape[0]!;
    const m = new Float32Array(n * hw);
    for (let i = 0; i < n; i++) for (let p = 0; p < hw; p++) m[i * hw + p] = Wt[t[i]! * C * hw + p]! + Wt[t[i]! * C * hw + hw + p]!;
    return new Tensor(m, [n, H, W]);
  };
  const s = await sensitivity(model, x, 'pred', grad, { samples: 3 });
  assert.deepEqual(s.max, [0, 0, 0]);
  const st = await stability(model, x, 'pred', grad, { samples: 3, sigma: 0.01 });
  for (let i = 0; i < N; i++) {
    assert.equal(st.unchanged[i], 3);
    assert.ok(Math.abs(st.correlation[i]! - 1) < 1e-12);
  }
});

test('saliency on the bundled small CNN: stability is a correlation, sensitivity grows with the radius', async () => {
  const cnn = loadModel(`${repoRoot}/models/baseline/small_cnn_pneumoniamnist64.onnx`, { threads: 1 });
  const xs = new Tensor(new Rng(13).fillUniform(new Float32Array(2 * 64 * 64), -1, 1), [2, 1, 64, 64]);
  const explain = async (inp: Tensor, t: readonly number[]) => (await saliency(cnn, inp, [...t])).map;
  const st = await stability(cnn, xs, 'pred', explain, { samples: 2, sigma: 0.02 });
  for (const v of st.correlation) assert.ok(Number.isNaN(v) || (v > -1 && v <= 1), `${v}`);
  const small = await sensitivity(cnn, xs, 'pred', explain, { samples: 2, radius: 0.01 });
  const large = await sensitivity(cnn, xs, 'pred', explain, { samples: 2, radius: 0.5 });
  for (let i = 0; i < 2; i++) assert.ok(small.avg[i]! < large.avg[i]!, `${small.avg[i]} < ${large.avg[i]}`);
  await cnn.dispose();
});
