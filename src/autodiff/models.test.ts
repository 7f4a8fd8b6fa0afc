/**
 * Whole-model gradients on torchvision-layout graphs built by candor (residual adds, dense
 * concatenations, BatchNorm after Concat, ReLU6 as Clip, depthwise convolutions, 3×3/2
 * overlapping max pooling, average-pool transitions), against torchvision's own models run
 * by PyTorch 1.13 autograd on the same weights (fixtures made by scripts/make-arch-golden.*).
 * Also directional central finite differences on each architecture with its kinked
 * activations made smooth (finite differences across ReLU kinks do not converge in float32).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ARCH_CASES, archTestModel } from '../testing/arch-fixtures.js';
import { gradCheck, randn, relativeError, runOnnx } from '../testing/gradcheck.js';
import { buildVjp, gradName } from './vjp.js';
import { readNpzFileSync } from '../io/files.js';
import { type Model, cloneModel } from '../onnx/ir.js';

const fixture = (arch: string) => fileURLToPath(new URL(`./fixtures/${arch}_golden.npz`, import.meta.url));

for (const c of ARCH_CASES) {
  test(`${c.arch}: logits, input and weight gradients match torchvision + PyTorch autograd`, async (t) => {
    const { model, input, seed } = archTestModel(c);
    const golden = readNpzFileSync(fixture(c.arch));
    const v = buildVjp(model, { wrt: ['input', ...c.weights], source: c.arch, inputShapes: { input: c.shape } });
    const r = await runOnnx(v.model, { input, [v.seed]: seed });
    const checks: [string, Float32Array, Float32Array][] = [
      ['logits', r['logits']!.data, golden.get('logits')!.data as Float32Array],
      ['input', r[gradName('input')]!.data, golden.get('grad_input')!.data as Float32Array],
      ...c.weights.map((w): [string, Float32Array, Float32Array] => [w, r[gradName(w)]!.data, golden.get(`grad:${w}`)!.data as Float32Array]),
    ];
    for (const [name, ours, ref] of checks) {
      const e = relativeError(ours, ref);
      t.diagnostic(`${name}: relative error ${e.toExponential(2)}`);
      assert.ok(e <= 1e-4, `${c.arch} ${name}: relative error ${e}`);
    }
  });
}

/**
 * The same graph with ReLU → Softplus, ReLU6 (Clip) → Tanh and MaxPool → AveragePool: smooth, so
 * central differences converge (the kinked ops are checked per op and against PyTorch above).
 */
function smoothed(m: Model): Model {
  const out = cloneModel(m);
  for (const n of out.graph.nodes) {
    if (n.opType === 'Relu') n.opType = 'Softplus';
    if (n.opType === 'Clip') {
      n.opType = 'Tanh';
      n.inputs = [n.inputs[0]!];
    }
    if (n.opType === 'MaxPool') n.opType = 'AveragePool';
  }
  return out;
}

// Step sizes where truncation (curvature) and float32 rounding errors balance, per architecture.
const FD_STEP: Record<string, number> = { resnet18: 3e-2, densenet121: 1e-1, mobilenet_v2: 1e-3, r3d_18: 3e-2 };

for (const c of ARCH_CASES) {
  test(`${c.arch} (smoothed activations): input and weight gradients agree with central finite differences`, async (t) => {
    const { model, input } = archTestModel(c);
    // Weights are ~10× smaller than pixels: a 10× shorter direction keeps the step relative.
    const w = c.weights[0]!;
    const size = model.graph.initializers.get(w)!.data.length;
    const direction = randn([size], 8, 0.1).data;
    const r = await gradCheck(smoothed(model), { feeds: { input }, wrt: ['input', w], eps: FD_STEP[c.arch]!, seed: 4, directions: { [w]: direction } });
    for (const x of r) {
      t.diagnostic(`${x.name}: analytic ${x.analytic.toExponential(5)} numeric ${x.numeric.toExponential(5)} rel ${x.relError.toExponential(2)}`);
      assert.ok(x.relError < 1e-2, JSON.stringify(x));
    }
  });
}
