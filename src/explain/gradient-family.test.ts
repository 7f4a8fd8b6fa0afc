import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { Model } from '../runtime/model.js';
import { loadModel, nodeOrt } from '../runtime/node.js';
import { readNpyFileSync } from '../io/files.js';
import { fixturePath } from '../testing/paths.js';
import { randn, relativeError } from '../testing/gradcheck.js';
import type { Model as IRModel } from '../onnx/ir.js';
import { linearClassifierIR } from '../testing/linear-model.js';
import { gradient, saliency } from './saliency.js';
import { inputXGradient } from './input-x-gradient.js';
import { smoothGrad } from './smoothgrad.js';
import { IG_METHODS, gaussianBlur, igSteps, integratedGradients, makeBaseline } from './integrated-gradients.js';

const CNN = fixturePath('models/small_cnn_opset13.onnx');
const RESNET = fixturePath('models/tiny_resnet_opset17.onnx');
const golden = (name: string) => readNpyFileSync(fixturePath(`models/golden/${name}.npy`)) as Tensor;

/** Independent channel reductions (DESIGN.md §3), written out here rather than imported. */
function maxAbsOverChannels(t: Tensor): Float32Array {
  const [n, c, h, w] = t.shape as [number, number, number, number];
  const out = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) out[i * h * w + p] = Math.max(...Array.from({ length: c }, (_, ch) => Math.abs(t.data[(i * c + ch) * h * w + p]!)));
  return out;
}
function sumOverChannels(t: Tensor): Float32Array {
  const [n, c, h, w] = t.shape as [number, number, number, number];
  const out = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) out[i * h * w + p]! += t.data[(i * c + ch) * h * w + p]!;
  return out;
}
const abs = (a: ArrayLike<number>) => Float32Array.from(a, Math.abs);

test('saliency and signed gradient equal PyTorch ∂logit1/∂x (small CNN and 3-channel tiny ResNet)', async () => {
  for (const [file, name] of [
    [CNN, 'small_cnn'],
    [RESNET, 'tiny_resnet'],
  ] as const) {
    const m = loadModel(file);
    const x = golden(`${name}_input`);
    const g = golden(`${name}_grad_input_class1`);
    const s = await saliency(m, x, 1);
    assert.deepEqual(s.attributions!.shape, x.shape);
    assert.deepEqual(s.map.shape, [x.shape[0], x.shape[2], x.shape[3]]);
    assert.equal(s.signed, false);
    assert.deepEqual(s.targets, Array(8).fill(1));
    assert.ok(relativeError(s.attributions!.data, abs(g.data)) <= 1e-4);
    assert.ok(relativeError(s.map.data, maxAbsOverChannels(g)) <= 1e-4, `${name}: saliency map (max |·| over channels)`);
    const d = await gradient(m, x, [1, 1, 1, 1, 1, 1, 1, 1]);
    const e = relativeError(d.attributions!.data, g.data);
    assert.ok(e <= 1e-4, `${name}: gradient rel. error ${e}`);
    assert.ok(relativeError(d.map.data, sumOverChannels(g)) <= 1e-4, `${name}: gradient map (channel sum)`);
    assert.equal(d.signed, true);
    if (name === 'small_cnn') assert.ok(relativeError(d.logits.data, golden('small_cnn_logits').data) <= 1e-4);
    await m.dispose();
  }
});

test('input × gradient equals x ⊙ PyTorch gradient, map = channel sum', async () => {
  const m = loadModel(RESNET);
  const x = golden('tiny_resnet_input');
  const g = golden('tiny_resnet_grad_input_class1');
  const expected = Float32Array.from(x.data, (v, i) => v * g.data[i]!);
  const r = await inputXGradient(m, x, 1);
  assert.ok(relativeError(r.attributions!.data, expected) <= 1e-4);
  assert.ok(relativeError(r.map.data, sumOverChannels(new Tensor(expected, x.shape))) <= 1e-4);
  assert.equal(r.signed, true);
  await m.dispose();
});

/** y = Gemm(Flatten(x), W) + b with W [d, k]: a linear classifier on 4-D input, ∂y_k/∂x = W[:, k]. */
function linearModel(c: number, h: number, w: number, k: number, W: Float32Array, b: Float32Array): IRModel {
  return linearClassifierIR(c, h, w, k, W, b, 'dk');
}

test('Integrated Gradients on a linear model is (x − x′) ⊙ w for every integration method and baseline', async () => {
  const [c, h, w, k] = [2, 5, 4, 3];
  const d = c * h * w;
  const W = randn([d, k], 11).data;
  const m = Model.fromIR(linearModel(c, h, w, k, W, Float32Array.from([0.1, -0.2, 0.3])), nodeOrt, { source: 'linear' });
  const x = randn([3, c, h, w], 12, 0.5);
  const targets = [0, 2, 1];
  const user = randn([1, c, h, w], 13, 0.3);
  for (const baseline of ['zeros', 'black', 'gray', 'blur', 'uniform', user] as const) {
    for (const method of IG_METHODS) {
      for (const steps of [4, 17]) {
        const r = await integratedGradients(m, x, targets, { method, steps, baseline, seed: 5, batchSize: 7 });
        const xb = makeBaseline(x, baseline, { seed: 5 });
        // Captum's trapezoid weights sum to (n−1)/n (see integrated-gradients.ts): it returns that fraction of the exact IG.
        const scale = method === 'riemann_trapezoid' ? (steps - 1) / steps : 1;
        const expected = new Float32Array(x.size);
        for (let i = 0; i < 3; i++) for (let p = 0; p < d; p++) expected[i * d + p] = scale * (x.data[i * d + p]! - xb.data[i * d + p]!) * W[p * k + targets[i]!]!;
        const e = relativeError(r.attributions!.data, expected);
        assert.ok(e <= 1e-5, `${typeof baseline === 'string' ? baseline : 'tensor'} ${method} n=${steps}: rel. error ${e}`);
        if (scale === 1) for (const dl of r.extra!.delta as number[]) assert.ok(Math.abs(dl) < 1e-5, `${method}: delta ${dl} on a linear model`);
      }
    }
  }
  // The textbook trapezoid rule is exact on a linear model.
  const r = await integratedGradients(m, x, targets, { method: 'riemann_trapezoid', steps: 4, trapezoid: 'exact', baseline: 'black' });
  for (const dl of r.extra!.delta as number[]) assert.ok(Math.abs(dl) < 1e-5);
  await m.dispose();
});

test('Integrated Gradients step positions and weights are Captum’s', () => {
  const close = (a: number[], b: number[], what: string) => {
    assert.equal(a.length, b.length, what);
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-12, `${what}[${i}]: ${v} vs ${b[i]}`));
  };
  // Riemann, n = 4 (captum approximation_methods.riemann_builders: np.linspace nodes, step 1/n).
  close(igSteps('riemann_left', 4).alphas, [0, 0.25, 0.5, 0.75], 'left α');
  close(igSteps('riemann_right', 4).alphas, [0.25, 0.5, 0.75, 1], 'right α');
  close(igSteps('riemann_middle', 4).alphas, [0.125, 0.375, 0.625, 0.875], 'middle α');
  for (const mth of ['riemann_left', 'riemann_right', 'riemann_middle'] as const) close(igSteps(mth, 4).weights, [0.25, 0.25, 0.25, 0.25], `${mth} w`);
  // Trapezoid n = 4: α = linspace(0, 1, 4) = 0, 1/3, 2/3, 1; Captum's weights are 1/n with the ends halved,
  // [1/8, 1/4, 1/4, 1/8] (sum 3/4), not the textbook [1/6, 1/3, 1/3, 1/6] (available as trapezoid: 'exact').
  close(igSteps('riemann_trapezoid', 4).alphas, [0, 1 / 3, 2 / 3, 1], 'trapezoid α');
  close(igSteps('riemann_trapezoid', 4).weights, [1 / 8, 1 / 4, 1 / 4, 1 / 8], 'trapezoid w (Captum)');
  close(igSteps('riemann_trapezoid', 4, 'exact').weights, [1 / 6, 1 / 3, 1 / 3, 1 / 6], 'trapezoid w (exact)');
  // Gauss–Legendre: α = (1 + ξ)/2, w = ω/2 with numpy's leggauss (ascending nodes).
  close(igSteps('gausslegendre', 1).alphas, [0.5], 'GL1 α');
  close(igSteps('gausslegendre', 1).weights, [1], 'GL1 w');
  close(igSteps('gausslegendre', 2).alphas, [0.5 - 0.5 / Math.sqrt(3), 0.5 + 0.5 / Math.sqrt(3)], 'GL2 α');
  close(igSteps('gausslegendre', 2).weights, [0.5, 0.5], 'GL2 w');
  close(igSteps('gausslegendre', 3).alphas, [0.5 - 0.5 * Math.sqrt(0.6), 0.5, 0.5 + 0.5 * Math.sqrt(0.6)], 'GL3 α');
  close(igSteps('gausslegendre', 3).weights, [5 / 18, 8 / 18, 5 / 18], 'GL3 w');
  // n = 50: weights sum to 1 and integrate t^k exactly up to degree 99.
  const g50 = igSteps('gausslegendre', 50);
  for (const deg of [0, 1, 7, 49, 99]) {
    const q = g50.alphas.reduce((s, a, i) => s + g50.weights[i]! * a ** deg, 0);
    assert.ok(Math.abs(q - 1 / (deg + 1)) < 1e-13, `GL50 ∫t^${deg}: ${q}`);
  }
  assert.ok(g50.alphas.every((a, i) => i === 0 || a > g50.alphas[i - 1]!));
  // and equal numpy's leggauss as Captum scales it (fixture written by numpy, see its "source").
  const fixture = JSON.parse(readFileSync(new URL('./fixtures/gausslegendre-numpy.json', import.meta.url), 'utf8')) as { n: Record<string, { alphas: number[]; weights: number[] }> };
  for (const [n, ref] of Object.entries(fixture.n)) {
    const got = igSteps('gausslegendre', Number(n));
    got.alphas.forEach((v, i) => assert.ok(Math.abs(v - ref.alphas[i]!) < 1e-14, `GL${n} α[${i}]`));
    got.weights.forEach((v, i) => assert.ok(Math.abs(v - ref.weights[i]!) < 1e-14, `GL${n} w[${i}]`));
  }
  assert.throws(() => igSteps('riemann_left', 1), /≥ 2/);
  assert.throws(() => igSteps('simpson' as never, 4), /unknown method 'simpson'.*gausslegendre/);
});

test('Integrated Gradients on the small CNN: completeness equals the reported delta; Gauss–Legendre 50 beats Riemann-right 32', async (t) => {
  const m = loadModel(CNN);
  const x = golden('small_cnn_input');
  const k = m.numClasses;
  const fx = await m.forward(x);
  const fb = await m.forward(new Tensor(new Float32Array(x.size).fill(-1), x.shape));
  const meanAbs = (a: number[]) => a.reduce((s, v) => s + Math.abs(v), 0) / a.length;
  const deltas: Record<string, number[]> = {};
  for (const [method, steps] of [
    ['gausslegendre', 50],
    ['riemann_right', 32],
  ] as const) {
    const r = await integratedGradients(m, x, 1, { method, steps, baseline: 'black' });
    const delta = r.extra!.delta as number[];
    const size = x.size / 8;
    const gap: number[] = [];
    for (let i = 0; i < 8; i++) {
      let s = 0;
      for (let p = i * size; p < (i + 1) * size; p++) s += r.attributions!.data[p]!;
      const diff = fx.data[i * k + 1]! - fb.data[i * k + 1]!;
      gap.push(diff);
      assert.ok(Math.abs(s - diff - delta[i]!) < 1e-4 * Math.max(1, Math.abs(diff)), `${method} image ${i}: Σattr − Δf = ${s - diff}, reported ${delta[i]}`);
    }
    deltas[method] = delta;
    t.diagnostic(`${method} n=${steps}: mean |delta| ${meanAbs(delta).toExponential(3)} (mean |f(x) − f(x′)| ${meanAbs(gap).toExponential(3)})`);
    if (method === 'gausslegendre') assert.ok(meanAbs(delta) < 0.05 * meanAbs(gap), 'GL50 completeness within 5% of f(x) − f(x′)');
  }
  assert.ok(meanAbs(deltas.gausslegendre!) < meanAbs(deltas.riemann_right!));
  await m.dispose();
});

test('Integrated Gradients baselines: blur keeps constants, bad options are clear errors', async () => {
  const flat = new Tensor(new Float32Array(2 * 3 * 9 * 7).fill(0.25), [2, 3, 9, 7]);
  assert.ok(gaussianBlur(flat, 4).data.every((v) => Math.abs(v - 0.25) < 1e-6));
  const blurred = gaussianBlur(randn([1, 1, 16, 16], 3), 2);
  const m = loadModel(CNN);
  const x = golden('small_cnn_input').slice0(0, 2);
  await assert.rejects(integratedGradients(m, x, 1, { baseline: 'mean' as never }), /unknown baseline 'mean'.*zeros, black, gray, blur, uniform/);
  await assert.rejects(integratedGradients(m, x, 1, { baseline: blurred }), /baseline has shape \[1, 1, 16, 16\], expected \[2, 1, 64, 64\]/);
  await assert.rejects(integratedGradients(m, x, 5), /target 5 is out of range/);
  await m.dispose();
});

test('SmoothGrad: noise level 0 is the plain gradient; same seed reproduces; vargrad ≥ 0; batch size does not matter', async () => {
  const m = loadModel(RESNET);
  const x = golden('tiny_resnet_input').slice0(0, 3);
  const g = golden('tiny_resnet_grad_input_class1').slice0(0, 3);
  const s0 = await smoothGrad(m, x, 1, { noiseLevel: 0, samples: 4 });
  assert.ok(relativeError(s0.attributions!.data, abs(g.data)) <= 1e-4, 'smoothgrad σ=0 = |∇|');
  assert.ok(relativeError(s0.map.data, maxAbsOverChannels(g)) <= 1e-4);
  const sq0 = await smoothGrad(m, x, 1, { noiseLevel: 0, samples: 4, variant: 'smoothgrad_sq' });
  assert.ok(relativeError(sq0.attributions!.data, Float32Array.from(g.data, (v) => v * v)) <= 2e-4, 'smoothgrad_sq σ=0 = ∇²');
  const sg0 = await smoothGrad(m, x, 1, { noiseLevel: 0, samples: 3, base: 'gradient' });
  assert.ok(relativeError(sg0.attributions!.data, g.data) <= 1e-4, 'signed smoothgrad σ=0 = ∇');
  const vg0 = await smoothGrad(m, x, 1, { noiseLevel: 0, samples: 3, variant: 'vargrad' });
  assert.ok(vg0.attributions!.data.every((v) => v < 1e-12), 'vargrad σ=0 = 0');

  const a = await smoothGrad(m, x, 'pred', { samples: 6, seed: 7, variant: 'vargrad', batchSize: 5 });
  const b = await smoothGrad(m, x, 'pred', { samples: 6, seed: 7, variant: 'vargrad', batchSize: 64 });
  const c = await smoothGrad(m, x, 'pred', { samples: 6, seed: 8, variant: 'vargrad' });
  assert.ok(relativeError(a.attributions!.data, b.attributions!.data) < 1e-5, 'same seed, different batch size');
  assert.ok(relativeError(c.attributions!.data, a.attributions!.data) > 1e-3, 'different seed differs');
  assert.ok(a.attributions!.data.every((v) => v >= 0) && a.map.data.every((v) => v >= 0));
  assert.ok(a.attributions!.data.some((v) => v > 0));
  assert.equal(a.signed, false);
  // noise σ = 0.15 × (max − min) per image
  const sigma = a.extra!.sigma as number[];
  const size = x.size / 3;
  for (let i = 0; i < 3; i++) {
    const img = Array.from(x.data.subarray(i * size, (i + 1) * size));
    assert.ok(Math.abs(sigma[i]! - 0.15 * (Math.max(...img) - Math.min(...img))) < 1e-6);
  }
  await assert.rejects(smoothGrad(m, x, 1, { variant: 'smooth' as never }), /unknown variant 'smooth'.*vargrad/);
  await m.dispose();
});
