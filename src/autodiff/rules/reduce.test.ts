/**
 * Backward rules of reductions against central finite differences (float32, one random direction),
 * for axes given as an attribute (opset 17 ReduceMean/Max/Min/SumSquare/L2) or as an input (ReduceSum at
 * opset 17, all of them at opset 18), keepdims 0/1, empty axes and noop_with_empty_axes, a symbolic
 * batch dimension, and the tie rule of ReduceMax/ReduceMin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { A, type Attr, DataType, type Model } from '../../onnx/ir.js';
import { Tensor } from '../../tensor/tensor.js';
import { type OpInput, gradCheck, opModel, randn, runOnnx, assertGradients } from '../../testing/gradcheck.js';
import { Rng } from '../../tensor/rng.js';
import { inferShapes } from '../../onnx/shape-inference.js';
import { buildVjp, gradName } from '../vjp.js';

const SHAPE = [2, 3, 4, 5];
const TOL = 1e-2;

type Ctx = { diagnostic(msg: string): void };

const check = (t: Ctx, model: Model, feeds: Record<string, Tensor>, wrt: string[], eps = 1e-2, tol = TOL) =>
  assertGradients(t, model, feeds, wrt, { eps, tol });

/** Distinct values (a shuffled grid with spacing `step` plus jitter < step/4): no near-ties anywhere. */
function spaced(shape: number[], seed: number, step = 0.05): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const rng = new Rng(seed);
  const perm = rng.permutation(n);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (perm[i]! - n / 2) * step + rng.uniform(-step / 4, step / 4);
  return new Tensor(d, shape);
}

/**
 * A Reduce* model on x [2,3,4,5]. `axes` undefined: no axes at all; at opset ≥ 18 (or ReduceSum ≥ 13)
 * the axes are a constant int64 input, otherwise the `axes` attribute.
 */
function reduceModel(op: string, opset: number, axes: number[] | undefined, attrs: Record<string, Attr> = {}, xShape = SHAPE): Model {
  const asInput = opset >= 18 || op === 'ReduceSum';
  const inputs: OpInput[] = [{ name: 'x', shape: xShape }];
  const a: Record<string, Attr> = { ...attrs };
  if (axes && asInput) inputs.push({ name: 'axes', shape: [axes.length], init: axes, dataType: DataType.INT64 });
  if (axes && !asInput) a['axes'] = A.ints(axes);
  return opModel(op, inputs, a, 1, opset);
}

const AXES: (number[] | undefined)[] = [[1], [-1], [0, 2], [3, 1], [0, 1, 2, 3], undefined];

async function sweep(t: Ctx, op: string, opset: number, x: Tensor, eps: number): Promise<number> {
  let worst = 0;
  for (const axes of AXES) {
    for (const keepdims of [1, 0]) {
      t.diagnostic(`${op} opset ${opset} axes ${axes ? `[${axes}]` : 'none'} keepdims ${keepdims}`);
      const m = reduceModel(op, opset, axes, keepdims === 1 ? {} : { keepdims: A.i(0) });
      worst = Math.max(worst, await check(t, m, { x }, ['x'], eps));
    }
  }
  return worst;
}

test('ReduceSum backward (axes as an input) matches finite differences for several axes, keepdims 0/1, no axes', async (t) => {
  await sweep(t, 'ReduceSum', 17, randn(SHAPE, 1), 0.5);
  await sweep(t, 'ReduceSum', 18, randn(SHAPE, 2), 0.5);
});

test('ReduceMean backward matches finite differences with axes as an attribute at opset 17 and as an input at opset 18', async (t) => {
  await sweep(t, 'ReduceMean', 17, randn(SHAPE, 3), 0.5);
  await sweep(t, 'ReduceMean', 18, randn(SHAPE, 4), 0.5);
});

test('ReduceSum/ReduceMean with an empty axes input reduce everything, or nothing with noop_with_empty_axes=1', async (t) => {
  const x = randn(SHAPE, 5);
  for (const op of ['ReduceSum', 'ReduceMean']) {
    const opset = op === 'ReduceSum' ? 17 : 18;
    const empty = (attrs: Record<string, Attr>) =>
      opModel(op, [{ name: 'x', shape: SHAPE }, { name: 'axes', shape: [0], init: [], dataType: DataType.INT64 }], attrs, 1, opset);
    const all = empty({ keepdims: A.i(0) });
    assert.deepEqual(all.graph.outputs[0]!.shape, []);
    await check(t, all, { x }, ['x'], 0.5);
    const noop = empty({ noop_with_empty_axes: A.i(1) });
    assert.deepEqual(noop.graph.outputs[0]!.shape, SHAPE);
    await check(t, noop, { x }, ['x'], 0.5);
    await check(t, reduceModel(op, opset, undefined, { noop_with_empty_axes: A.i(1) }), { x }, ['x'], 0.5);
  }
});

test('ReduceMax and ReduceMin backward match finite differences (distinct values), axes as attribute (17) and input (18)', async (t) => {
  const x = spaced(SHAPE, 6);
  for (const op of ['ReduceMax', 'ReduceMin']) {
    await sweep(t, op, 17, x, 1e-3);
    await sweep(t, op, 18, x, 1e-3);
  }
});

test('ReduceMax and ReduceMin split the gradient evenly among tied extrema (like torch.amax/amin)', async () => {
  for (const op of ['ReduceMax', 'ReduceMin']) {
    const m = reduceModel(op, 17, [1], { keepdims: A.i(0) }, [2, 4]);
    const v = op === 'ReduceMax' ? 3 : -3;
    const x = new Tensor(Float32Array.of(v, 0, v, 1, /**/ 0, v, 2, -1), [2, 4]);
    const vjp = buildVjp(m, { wrt: ['x'] });
    const r = await runOnnx(vjp.model, { x, [vjp.seed]: new Tensor(Float32Array.of(1, 6), [2]) });
    assert.deepEqual(Array.from(r[gradName('x')]!.data), [0.5, 0, 0.5, 0, 0, 6, 0, 0]);
  }
});

test('ReduceSumSquare and ReduceL2 backward match finite differences, axes as attribute (17) and input (18)', async (t) => {
  const x = randn(SHAPE, 7);
  for (const op of ['ReduceSumSquare', 'ReduceL2']) {
    await sweep(t, op, 17, x, 1e-2);
    await sweep(t, op, 18, x, 1e-2);
    // noop: elementwise x² or |x| (keep x away from 0 for |x|)
    await check(t, reduceModel(op, 18, undefined, { noop_with_empty_axes: A.i(1) }), { x: randn(SHAPE, 8, 1, 0.1) }, ['x']);
  }
});

test('ReduceL2 backward is 0 (not NaN) where the norm is 0, as in PyTorch', async () => {
  const m = reduceModel('ReduceL2', 17, [1], { keepdims: A.i(0) }, [2, 3]);
  const vjp = buildVjp(m, { wrt: ['x'] });
  const x = new Tensor(Float32Array.of(0, 0, 0, 3, 0, 4), [2, 3]);
  const r = await runOnnx(vjp.model, { x, [vjp.seed]: new Tensor(Float32Array.of(1, 1), [2]) });
  const g = Array.from(r[gradName('x')]!.data);
  assert.deepEqual(g.slice(0, 3), [0, 0, 0]);
  assert.ok(Math.abs(g[3]! - 0.6) < 1e-6 && g[4] === 0 && Math.abs(g[5]! - 0.8) < 1e-6);
});

test('Reductions over a symbolic batch axis build counts and shapes from Shape (batch 2 and 3 from one graph)', async (t) => {
  for (const [op, opset] of [
    ['ReduceMean', 17],
    ['ReduceMean', 18],
    ['ReduceSum', 17],
    ['ReduceMax', 18],
    ['ReduceL2', 17],
  ] as [string, number][]) {
    for (const keepdims of [1, 0]) {
      const m = reduceModel(op, opset, [0, 2], { keepdims: A.i(keepdims) });
      m.graph.inputs[0]!.shape = ['batch', 3, 4, 5];
      const inf = inferShapes(m.graph);
      m.graph.outputs[0]!.shape = inf.info.get('y0')!.shape;
      // The VJP graph must not contain the batch size: the same graph serves batch 2 and 3.
      for (const n of [2, 3]) {
        const x = op === 'ReduceMax' ? spaced([n, 3, 4, 5], 9 + n) : randn([n, 3, 4, 5], 9 + n);
        t.diagnostic(`${op} opset ${opset} keepdims ${keepdims} batch ${n}`);
        await check(t, m, { x }, ['x'], op === 'ReduceMax' ? 1e-3 : 1e-2);
      }
    }
  }
});
