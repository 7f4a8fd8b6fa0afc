/**
 * Conv / ConvTranspose backward rules against central differences, for X, W and B.
 * Both ops are linear in each of those (the others held fixed): a large step, tight tolerance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradCheck, opModel, randn, runOnnx } from '../../testing/gradcheck.js';
import { buildVjp } from '../vjp.js';
import { type Attr, type Model, A } from '../../onnx/ir.js';
import { Rng } from '../../tensor/rng.js';
import type { Tensor } from '../../tensor/tensor.js';

const TOL = 1e-4;
type Ctx = { diagnostic(msg: string): void };

interface ConvCase {
  x: number[];
  w: number[];
  bias?: boolean;
  attrs?: Record<string, number | number[] | string>;
}

function convModel(op: 'Conv' | 'ConvTranspose', cc: ConvCase): Model {
  const attrs: Record<string, Attr> = {};
  for (const [k, v] of Object.entries(cc.attrs ?? {})) attrs[k] = Array.isArray(v) ? A.ints(v) : typeof v === 'string' ? A.s(v) : A.i(v);
  const outC = op === 'Conv' ? cc.w[0]! : cc.w[1]! * ((cc.attrs?.['group'] as number | undefined) ?? 1);
  const inputs = [{ name: 'x', shape: cc.x }, { name: 'w', shape: cc.w }, ...(cc.bias === false ? [] : [{ name: 'b', shape: [outC] }])];
  return opModel(op, inputs, attrs);
}

/**
 * Each case runs three ways (the first two with the Conv-based input gradient forced): weights as a graph input (Conv's input gradient uses an in-graph
 * rearranged kernel, as in training; the weight gradient uses per-tap GEMMs), weights as a
 * constant (the rearranged kernel is precomputed; only X and B are perturbed), and with the
 * general fallbacks forced (ConvTranspose for dX, a single Conv for dW).
 */
async function check(t: Ctx, op: 'Conv' | 'ConvTranspose', cc: ConvCase, seed = 1): Promise<number> {
  const m = convModel(op, cc);
  const feeds: Record<string, Tensor> = {};
  m.graph.inputs.forEach((v, k) => (feeds[v.name] = randn(v.shape as number[], seed * 10 + k)));
  const label = `${op} x=[${cc.x}] w=[${cc.w}] ${JSON.stringify(cc.attrs ?? {})}${cc.bias === false ? ' no bias' : ''} → [${m.graph.outputs[0]!.shape}]`;
  // The cases are small, so the Conv-based input gradient is forced (by default it is used only for ≥ 16 input channels).
  const convForms = { convTransposeBelowChannels: 0 };
  const res = await gradCheck(m, { feeds, wrt: Object.keys(feeds), eps: 0.5, seed, ruleOptions: convForms });
  const forced = await gradCheck(m, { feeds, wrt: Object.keys(feeds), eps: 0.5, seed, ruleOptions: { convTranspose: true, convWeightByConv: true } });
  const constW = convModel(op, cc);
  const wInit = constW.graph.inputs.findIndex((v) => v.name === 'w');
  constW.graph.inputs.splice(wInit, 1);
  constW.graph.initializers.set('w', { name: 'w', dataType: 1, dims: cc.w, data: feeds['w']!.data as Float32Array });
  const rest = Object.fromEntries(Object.entries(feeds).filter(([k]) => k !== 'w'));
  const constRes = await gradCheck(constW, { feeds: rest, wrt: Object.keys(rest), eps: 0.5, seed, ruleOptions: convForms });
  for (const [mode, rs] of [['weights as input', res], ['fallbacks forced', forced], ['constant weights', constRes]] as const) {
    for (const r of rs) assert.ok(r.relError <= TOL, `${label} (${mode}): ${r.name}: relError ${r.relError.toExponential(2)} (analytic ${r.analytic}, numeric ${r.numeric})`);
  }
  const worst = Math.max(...[...res, ...forced, ...constRes].map((r) => r.relError));
  t.diagnostic(`${label}: max relError ${worst.toExponential(2)}`);
  return worst;
}

test('Conv: stride 1/2/3, symmetric and asymmetric pads, with and without bias', async (t) => {
  await check(t, 'Conv', { x: [2, 3, 8, 8], w: [4, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] } });
  await check(t, 'Conv', { x: [2, 3, 9, 8], w: [4, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } });
  await check(t, 'Conv', { x: [1, 2, 11, 10], w: [3, 2, 3, 2], attrs: { strides: [3, 3], pads: [0, 2, 1, 0] }, bias: false });
  await check(t, 'Conv', { x: [2, 2, 7, 9], w: [3, 2, 4, 3], attrs: { strides: [2, 3], pads: [2, 0, 0, 1] } });
  // 1×1 stride-2 downsample (ResNet shortcut): trailing input rows never read
  await check(t, 'Conv', { x: [2, 4, 8, 8], w: [6, 4, 1, 1], attrs: { strides: [2, 2] }, bias: false });
  // 7×7/2 pad 3 stem
  await check(t, 'Conv', { x: [1, 3, 16, 16], w: [4, 3, 7, 7], attrs: { strides: [2, 2], pads: [3, 3, 3, 3] } });
});

test('Conv input gradient by polyphase Convs: equal strides 2–4, kernels smaller and larger than the stride, odd sizes, groups', async (t) => {
  await check(t, 'Conv', { x: [2, 3, 9, 11], w: [4, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 0, 0, 1] } });
  await check(t, 'Conv', { x: [1, 2, 10, 10], w: [3, 2, 2, 2], attrs: { strides: [2, 2] } });
  await check(t, 'Conv', { x: [1, 2, 13, 14], w: [3, 2, 5, 4], attrs: { strides: [3, 3], pads: [2, 1, 2, 0] } });
  await check(t, 'Conv', { x: [1, 4, 12, 12], w: [4, 2, 3, 3], attrs: { strides: [4, 4], pads: [1, 1, 1, 1], group: 2 } });
  await check(t, 'Conv', { x: [2, 6, 8, 8], w: [6, 1, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], group: 6 } });
});

test('Conv with dilations (and strides)', async (t) => {
  await check(t, 'Conv', { x: [2, 2, 10, 9], w: [3, 2, 3, 3], attrs: { dilations: [2, 3], pads: [2, 1, 2, 3] } });
  await check(t, 'Conv', { x: [1, 2, 13, 12], w: [3, 2, 3, 2], attrs: { dilations: [2, 2], strides: [2, 3], pads: [1, 0, 0, 2] } });
});

test('Conv with groups: depthwise (group = C), depthwise with channel multiplier, grouped', async (t) => {
  await check(t, 'Conv', { x: [2, 4, 8, 8], w: [4, 1, 3, 3], attrs: { group: 4, pads: [1, 1, 1, 1] } });
  await check(t, 'Conv', { x: [2, 3, 9, 9], w: [6, 1, 3, 3], attrs: { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] } });
  await check(t, 'Conv', { x: [2, 4, 8, 7], w: [6, 2, 3, 3], attrs: { group: 2, pads: [0, 1, 2, 1] }, bias: false });
  await check(t, 'Conv', { x: [1, 6, 9, 9], w: [9, 2, 3, 2], attrs: { group: 3, strides: [2, 1], dilations: [2, 1] } });
});

test('Conv with auto_pad SAME_UPPER / SAME_LOWER / VALID (tf2onnx), odd total padding', async (t) => {
  for (const auto_pad of ['SAME_UPPER', 'SAME_LOWER', 'VALID']) {
    await check(t, 'Conv', { x: [2, 3, 8, 9], w: [4, 3, 3, 3], attrs: { auto_pad, strides: [2, 2] } });
    await check(t, 'Conv', { x: [1, 4, 7, 8], w: [4, 1, 4, 2], attrs: { auto_pad, group: 4 } });
    await check(t, 'Conv', { x: [1, 2, 10], w: [3, 2, 4], attrs: { auto_pad, strides: [3] } });
  }
});

test('Conv 1-D ([N, C, L]) and 3-D ([N, C, D, H, W])', async (t) => {
  await check(t, 'Conv', { x: [2, 3, 17], w: [4, 3, 5], attrs: { strides: [2], pads: [2, 1] } });
  await check(t, 'Conv', { x: [2, 4, 12], w: [4, 2, 3], attrs: { group: 2, dilations: [3] }, bias: false });
  await check(t, 'Conv', { x: [1, 2, 5, 6, 5], w: [3, 2, 3, 2, 3], attrs: { strides: [2, 1, 2], pads: [1, 0, 1, 1, 1, 0] } });
});

test('Conv on random shapes and attributes', async (t) => {
  const rng = new Rng(42);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  let worst = 0;
  for (let n = 0; n < 12; n++) {
    const sp = int(1, 2);
    const G = [1, 1, 2, 3][int(0, 3)]!;
    const Cg = int(1, 3);
    const M = G * int(1, 2);
    const k = Array.from({ length: sp }, () => int(1, 4));
    const d = Array.from({ length: sp }, () => int(1, 2));
    const s = Array.from({ length: sp }, () => int(1, 3));
    const pads = [...k.map((kk) => int(0, kk - 1)), ...k.map((kk) => int(0, kk - 1))];
    const H = k.map((kk, i) => (kk - 1) * d[i]! + 1 + int(0, 7));
    const attrs: Record<string, number | number[]> = { strides: s, dilations: d, pads, group: G };
    worst = Math.max(worst, await check(t, 'Conv', { x: [int(1, 2), G * Cg, ...H], w: [M, Cg, ...k], attrs, bias: rng.uniform() < 0.5 }, n + 2));
  }
  t.diagnostic(`random cases: max relError ${worst.toExponential(2)}`);
});

test('ConvTranspose: strides, pads, output_padding, dilations, groups; gradients for X, W, B', async (t) => {
  await check(t, 'ConvTranspose', { x: [2, 3, 5, 5], w: [3, 4, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } });
  await check(t, 'ConvTranspose', { x: [2, 3, 5, 4], w: [3, 2, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] } });
  await check(t, 'ConvTranspose', { x: [1, 4, 4, 5], w: [4, 2, 4, 3], attrs: { strides: [3, 2], pads: [0, 2, 1, 0], dilations: [1, 2], group: 2 }, bias: false });
  await check(t, 'ConvTranspose', { x: [2, 2, 7], w: [2, 3, 4], attrs: { strides: [2], output_padding: [1] } });
  await check(t, 'ConvTranspose', { x: [1, 3, 4, 4], w: [3, 1, 2, 2], attrs: { strides: [2, 2], group: 3, auto_pad: 'VALID' } });
});

/**
 * With a symbolic batch dim (gradCheck would specialise it to the feeds). Y = conv(X, W) + B is linear
 * in (X, B) and in (W, B), so one VJP run must give ⟨s, Y⟩ = ⟨dX, X⟩ + ⟨dB, B⟩ = ⟨dW, W⟩ + ⟨dB, B⟩.
 */
test('Conv / ConvTranspose on a symbolic batch dim satisfy the adjoint identities', async (t) => {
  const cases: ['Conv' | 'ConvTranspose', ConvCase][] = [
    ['Conv', { x: [3, 4, 9, 8], w: [6, 2, 3, 3], attrs: { group: 2, strides: [2, 2], pads: [1, 0, 1, 2] } }],
    ['Conv', { x: [2, 3, 9, 9], w: [4, 3, 3, 3], attrs: { auto_pad: 'SAME_LOWER', strides: [2, 2] } }],
    ['ConvTranspose', { x: [3, 4, 4, 5], w: [4, 2, 3, 3], attrs: { group: 2, strides: [2, 2], pads: [1, 1, 0, 1], output_padding: [1, 0] } }],
  ];
  for (const [op, cc] of cases) {
    const m = convModel(op, cc);
    const feeds: Record<string, Tensor> = {};
    m.graph.inputs.forEach((v, k) => (feeds[v.name] = randn(v.shape as number[], 20 + k)));
    const y = (await runOnnx(m, feeds))['y0']!;
    m.graph.inputs[0]!.shape = ['N', ...cc.x.slice(1)];
    const vjp = buildVjp(m, { wrt: ['x', 'w', 'b'] });
    assert.equal(vjp.model.graph.inputs.find((v) => v.name === vjp.seed)!.shape![0], 'N');
    const s = randn([...y.shape], 21);
    const r = await runOnnx(vjp.model, { ...feeds, [vjp.seed]: s });
    const dot = (p: ArrayLike<number>, q: ArrayLike<number>) => Array.from(p).reduce((acc, v, i) => acc + v * q[i]!, 0);
    const sy = dot(s.data, y.data);
    const gb = dot(r['grad:b']!.data, feeds['b']!.data);
    for (const w of ['x', 'w']) {
      const err = Math.abs(dot(r[`grad:${w}`]!.data, feeds[w]!.data) + gb - sy) / Math.max(1, Math.abs(sy));
      assert.ok(err <= 1e-5, `${op} ${w}: adjoint error ${err}`);
      t.diagnostic(`${op} x=[N,${cc.x.slice(1)}] ${w}: adjoint error ${err.toExponential(2)}`);
    }
  }
});

test('Conv input gradient: ConvTranspose below 16 input channels (the NCHWc Convs are slow there), Conv-based forms from 16 up', () => {
  const ops = (cin: number, ruleOptions = {}) => {
    const m = convModel('Conv', { x: [1, cin, 16, 16], w: [32, cin, 7, 7], attrs: { strides: [2, 2], pads: [3, 3, 3, 3] }, bias: false });
    return buildVjp(m, { wrt: ['x'], ruleOptions }).model.graph.nodes.map((n) => n.opType);
  };
  assert.ok(ops(3).includes('ConvTranspose'), '3 input channels');
  assert.ok(!ops(16).includes('ConvTranspose') && ops(16).includes('DepthToSpace'), '16 input channels');
  assert.ok(!ops(3, { convTransposeBelowChannels: 0 }).includes('ConvTranspose'), 'threshold 0');
});
