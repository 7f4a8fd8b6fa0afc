/**
 * Pooling backward rules against central differences.
 * AveragePool / GlobalAveragePool are linear: a large step, tight tolerance.
 * MaxPool / GlobalMaxPool are piecewise linear: inputs are a random permutation of integers and
 * directions are multiples of 1/64 in [−1, 1], so a step of 0.25 never changes which element is the
 * maximum and x ± εv is exact in float32: within that region the op is linear and the check exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradCheck, opModel, randn, runOnnx } from '../../testing/gradcheck.js';
import { buildVjp } from '../vjp.js';
import { type Attr, type Model, A, DataType } from '../../onnx/ir.js';
import { Tensor } from '../../tensor/tensor.js';
import { Rng } from '../../tensor/rng.js';

const TOL = 1e-4;
type Ctx = { diagnostic(msg: string): void };

/** A random permutation of 0..n−1 (times `gap`), so every two elements differ by at least `gap`. */
function distinct(shape: number[], seed: number, gap = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(seed);
  const v = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return new Tensor(Float32Array.from(v, (a) => (a - n / 2) * gap), shape);
}

function uniformDir(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => Math.round(64 * (2 * rng.uniform() - 1)) / 64);
}

async function check(t: Ctx, model: Model, x: Tensor, piecewise: boolean) {
  const res = await gradCheck(model, {
    feeds: { x },
    wrt: ['x'],
    eps: piecewise ? 0.25 : 0.5,
    directions: piecewise ? { x: uniformDir(x.size, 5) } : undefined,
  });
  for (const r of res) assert.ok(r.relError <= TOL, `${r.name}: relError ${r.relError.toExponential(2)} (analytic ${r.analytic}, numeric ${r.numeric})`);
  t.diagnostic(`max relError ${Math.max(...res.map((r) => r.relError)).toExponential(2)}`);
}

function pool(op: string, shape: number[], attrs: Record<string, number | number[] | string>, opset = 17): Model {
  const a: Record<string, Attr> = {};
  for (const [k, v] of Object.entries(attrs)) a[k] = Array.isArray(v) ? A.ints(v) : typeof v === 'string' ? A.s(v) : A.i(v);
  return opModel(op, [{ name: 'x', shape }], a, 1, opset);
}

const avg = (shape: number[], attrs: Record<string, number | number[] | string>, opset = 17) => check0(pool('AveragePool', shape, attrs, opset), shape);
const max = (shape: number[], attrs: Record<string, number | number[] | string>, opset = 17) => [pool('MaxPool', shape, attrs, opset), shape] as const;
const check0 = (m: Model, shape: number[]) => [m, shape] as const;

test('AveragePool: plain, strided, overlapping windows', async (t) => {
  for (const [m, s] of [
    avg([2, 3, 8, 8], { kernel_shape: [2, 2], strides: [2, 2] }),
    avg([2, 3, 9, 7], { kernel_shape: [3, 3], strides: [1, 1] }),
    avg([2, 3, 9, 10], { kernel_shape: [3, 2], strides: [2, 3] }),
  ]) await check(t, m, randn([...s], 1), false);
});

test('AveragePool with pads (symmetric and asymmetric), count_include_pad 0 and 1', async (t) => {
  for (const cip of [0, 1]) {
    for (const [m, s] of [
      avg([2, 3, 8, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: cip }),
      avg([2, 3, 7, 9], { kernel_shape: [3, 4], strides: [2, 1], pads: [2, 0, 1, 3], count_include_pad: cip }),
    ]) await check(t, m, randn([...s], 2), false);
  }
});

test('AveragePool with ceil_mode (last window past the padded input), both count_include_pad', async (t) => {
  for (const cip of [0, 1]) {
    for (const [m, s] of [
      avg([2, 3, 8, 8], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1, count_include_pad: cip }),
      avg([1, 2, 9, 10], { kernel_shape: [4, 3], strides: [3, 2], pads: [2, 1, 2, 0], ceil_mode: 1, count_include_pad: cip }),
      avg([1, 2, 6, 6], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: cip }),
    ]) await check(t, m, randn([...s], 3), false);
  }
});

test('AveragePool with auto_pad SAME_UPPER / SAME_LOWER / VALID, 1-D and 3-D inputs, dilations (opset 19)', async (t) => {
  for (const ap of ['SAME_UPPER', 'SAME_LOWER', 'VALID']) {
    for (const cip of [0, 1]) {
      const [m, s] = avg([2, 3, 8, 9], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: ap, count_include_pad: cip });
      await check(t, m, randn([...s], 4), false);
    }
  }
  for (const [m, s] of [
    avg([2, 3, 11], { kernel_shape: [3], strides: [2], pads: [1, 0] }),
    avg([1, 2, 5, 6, 4], { kernel_shape: [2, 3, 2], strides: [1, 2, 2], pads: [0, 1, 0, 1, 1, 1], count_include_pad: 1 }),
    avg([1, 2, 10, 9], { kernel_shape: [3, 2], strides: [2, 2], dilations: [2, 3], pads: [1, 1, 2, 1], ceil_mode: 1, count_include_pad: 1 }, 19),
    avg([1, 2, 10, 9], { kernel_shape: [3, 2], strides: [2, 2], dilations: [2, 3], pads: [2, 1, 1, 0], count_include_pad: 0 }, 19),
  ]) await check(t, m, randn([...s], 5), false);
});

test('MaxPool: overlapping 3×3/2 with pad 1 (ResNet stem), 2×2/2, non-square kernels', async (t) => {
  for (const [m, s] of [
    max([2, 3, 8, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
    max([2, 3, 9, 9], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
    max([2, 3, 8, 6], { kernel_shape: [2, 2], strides: [2, 2] }),
    max([2, 2, 9, 7], { kernel_shape: [3, 2], strides: [1, 2], pads: [0, 1, 2, 0] }),
  ]) await check(t, m, distinct([...s], 7), true);
});

test('MaxPool with ceil_mode, dilations, auto_pad and 1-D input', async (t) => {
  for (const [m, s] of [
    max([2, 3, 8, 8], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }),
    max([1, 2, 10, 11], { kernel_shape: [3, 2], strides: [2, 2], dilations: [2, 3], pads: [1, 1, 2, 0] }),
    max([1, 2, 10, 11], { kernel_shape: [3, 3], strides: [3, 2], dilations: [2, 2], ceil_mode: 1 }),
    max([1, 2, 9, 8], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }),
    max([1, 2, 9, 8], { kernel_shape: [2, 3], strides: [2, 2], auto_pad: 'SAME_LOWER' }),
    max([2, 3, 13], { kernel_shape: [4], strides: [3], pads: [1, 2] }),
  ]) await check(t, m, distinct([...s], 8), true);
});

test('GlobalAveragePool: dY / (H·W) broadcast back (2-D and 1-D spatial)', async (t) => {
  await check(t, pool('GlobalAveragePool', [2, 3, 5, 7], {}), randn([2, 3, 5, 7], 9), false);
  await check(t, pool('GlobalAveragePool', [2, 3, 6], {}), randn([2, 3, 6], 9), false);
});

test('GlobalMaxPool: the gradient goes to the argmax of each channel', async (t) => {
  await check(t, pool('GlobalMaxPool', [2, 3, 5, 7], {}), distinct([2, 3, 5, 7], 10), true);
  await check(t, pool('GlobalMaxPool', [2, 3, 6], {}), distinct([2, 3, 6], 11), true);
});

test('GlobalMaxPool with ties: the whole gradient goes to the first maximum in row-major order', async () => {
  const { runOnnx } = await import('../../testing/gradcheck.js');
  const { buildVjp } = await import('../vjp.js');
  const m = pool('GlobalMaxPool', [1, 1, 2, 3], {});
  const vjp = buildVjp(m, { wrt: ['x'] });
  const x = new Tensor(Float32Array.from([1, 5, 2, 5, 0, 5]), [1, 1, 2, 3]);
  const r = await runOnnx(vjp.model, { x, [vjp.seed]: new Tensor(Float32Array.from([2]), [1, 1, 1, 1]) });
  assert.deepEqual(Array.from(r['grad:x']!.data), [0, 2, 0, 0, 0, 0]);
});

/**
 * With a symbolic batch dim (gradCheck would specialise it to the feeds): pooling is positively
 * homogeneous and piecewise linear, Y = P(X)·X, so one VJP run must satisfy ⟨s, Y⟩ = ⟨dX, X⟩.
 */
test('pooling rules on a symbolic batch dim satisfy the adjoint identity', async (t) => {
  const cases: [Model, number[]][] = [
    [pool('AveragePool', [3, 2, 7, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 1, 1], count_include_pad: 1, ceil_mode: 1 }), [3, 2, 7, 8]],
    [pool('MaxPool', [3, 2, 7, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }), [3, 2, 7, 8]],
    [pool('GlobalMaxPool', [3, 2, 5, 4], {}), [3, 2, 5, 4]],
    [pool('GlobalAveragePool', [3, 2, 5, 4], {}), [3, 2, 5, 4]],
  ];
  for (const [m, shape] of cases) {
    const x = distinct(shape, 12);
    const y = (await runOnnx(m, { x }))['y0']!;
    m.graph.inputs[0]!.shape = ['N', ...shape.slice(1)];
    const vjp = buildVjp(m, { wrt: ['x'] });
    assert.equal(vjp.model.graph.inputs.find((v) => v.name === vjp.seed)!.shape![0], 'N');
    const s = randn([...y.shape], 13);
    const g = (await runOnnx(vjp.model, { x, [vjp.seed]: s }))['grad:x']!;
    let lhs = 0;
    let rhs = 0;
    let scale = 0;
    for (let i = 0; i < s.size; i++) {
      lhs += s.data[i]! * y.data[i]!;
      scale += Math.abs(s.data[i]! * y.data[i]!);
    }
    for (let i = 0; i < x.size; i++) rhs += g.data[i]! * x.data[i]!;
    const err = Math.abs(lhs - rhs) / scale;
    assert.ok(err <= 1e-6, `${m.graph.nodes[0]!.opType}: ⟨s, Y⟩ = ${lhs}, ⟨dX, X⟩ = ${rhs}`);
    t.diagnostic(`${m.graph.nodes[0]!.opType}: adjoint error ${err.toExponential(2)}`);
  }
});

test('non-overlapping MaxPool: MaxUnpool routes gradients exactly like Indices + ScatterElements, ties included', async () => {
  const { buildVjp: build } = await import('../vjp.js');
  const { runOnnx: run } = await import('../../testing/gradcheck.js');
  const { Tensor: T } = await import('../../tensor/tensor.js');
  for (const [shape, k] of [[[2, 3, 8, 8], [2, 2]], [[1, 2, 9, 7], [2, 2]], [[1, 2, 9, 9], [3, 3]], [[1, 1, 6, 8], [3, 2]]] as const) {
    const m = pool('MaxPool', [...shape], { kernel_shape: [...k], strides: [...k] });
    const n = (shape as readonly number[]).reduce((a, b) => a * b, 1);
    // many ties: values from {0, 1, 2}, like ReLU outputs with exact zeros
    const x = new T(Float32Array.from({ length: n }, (_, i) => (i * 7919) % 3 === 0 ? 0 : ((i * 104729) % 3)), [...shape]);
    const y = m.graph.outputs[0]!.shape as number[];
    const seed = new T(Float32Array.from({ length: y.reduce((a: number, b: number) => a * b, 1) }, (_, i) => 1 + (i % 5)), y);
    const grads = [];
    for (const [ruleOptions, op] of [[{}, 'MaxUnpool'], [{ maxPoolScatter: true }, 'ScatterElements']] as const) {
      const v = build(m, { wrt: ['x'], ruleOptions });
      const ops = v.model.graph.nodes.map((nd) => nd.opType);
      assert.ok(ops.includes(op), `formulation used: ${ops}`);
      grads.push(Array.from((await run(v.model, { x, [v.seed]: seed }))['grad:x']!.data));
    }
    assert.deepEqual(grads[0], grads[1], `MaxUnpool vs scatter: shape ${shape} kernel ${k}`);
  }
});

test('MaxPool without Indices (first maximal tap + one-hot ConvTranspose) routes gradients exactly like Indices + ScatterElements, ties, padding, ceil_mode, dilation and volumes included', async () => {
  const cases: [number[], Record<string, number | number[] | string>][] = [
    [[2, 3, 9, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    [[1, 2, 8, 8], { kernel_shape: [2, 2], strides: [2, 2] }],
    [[1, 2, 9, 7], { kernel_shape: [3, 2], strides: [2, 1], ceil_mode: 1 }],
    [[1, 2, 10, 9], { kernel_shape: [2, 3], strides: [1, 2], dilations: [2, 1], pads: [0, 1, 1, 0] }],
    [[1, 2, 8, 8], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }],
    [[1, 2, 5, 6, 7], { kernel_shape: [3, 3, 3], strides: [2, 2, 2], pads: [1, 1, 1, 1, 1, 1] }],
    [[2, 3, 11], { kernel_shape: [3], strides: [2] }],
  ];
  for (const [shape, attrs] of cases) {
    const m = pool('MaxPool', shape, attrs);
    const n = shape.reduce((a, b) => a * b, 1);
    const x = new Tensor(Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 3 === 0 ? 0 : (i * 104729) % 3)), shape);
    const y = (await runOnnx(m, { x }))['y0']!;
    const seed = new Tensor(Float32Array.from({ length: y.size }, (_, i) => 1 + (i % 5)), [...y.shape]);
    const grads = [];
    for (const ruleOptions of [{ maxPoolScatter: true }, { maxPoolWithoutIndices: true }]) {
      const v = buildVjp(m, { wrt: ['x'], ruleOptions });
      const pools = v.model.graph.nodes.filter((nd) => nd.opType === 'MaxPool');
      if (ruleOptions.maxPoolWithoutIndices) assert.ok(pools.every((nd) => nd.outputs.length === 1), 'no MaxPool with Indices');
      grads.push(Array.from((await runOnnx(v.model, { x, [v.seed]: seed }))['grad:x']!.data));
    }
    assert.deepEqual(grads[1], grads[0], `shape ${shape} ${JSON.stringify(attrs)}`);
  }
});

test('MaxUnpool (what the MaxPool rule emits, differentiated again for Hessian-vector products): dX reads dY at the indices', async (t) => {
  // Each value of v [1,2,2,2] goes to one position of its 2×2 window in a [1,2,4,4] output, as MaxPool's indices say.
  const idx = [0, 3, 9, 14, 17, 22, 24, 31]; // flat indices over the whole tensor, one per window
  const m = opModel('MaxUnpool', [
    { name: 'v', shape: [1, 2, 2, 2] },
    { name: 'i', shape: [1, 2, 2, 2], init: idx, dataType: DataType.INT64 },
    { name: 's', shape: [4], init: [1, 2, 4, 4], dataType: DataType.INT64 },
  ], { kernel_shape: A.ints([2, 2]), strides: A.ints([2, 2]) });
  const res = await gradCheck(m, { feeds: { v: randn([1, 2, 2, 2], 7) }, wrt: ['v'], eps: 0.5 });
  for (const r of res) assert.ok(r.relError <= TOL, `${r.name}: relError ${r.relError.toExponential(2)}`);
  t.diagnostic(`max relError ${Math.max(...res.map((r) => r.relError)).toExponential(2)}`);
});
