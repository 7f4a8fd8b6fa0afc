/**
 * LayerNormalization (opset 17) backward against central finite differences (float32, one random
 * direction per tensor): X, Scale and B for several axes, with and without B, epsilon, a broadcast
 * Scale, gradients arriving through the optional Mean/InvStdDev outputs, and a symbolic batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { A, type Attr, type Model } from '../../onnx/ir.js';
import { inferShapes } from '../../onnx/shape-inference.js';
import { Tensor } from '../../tensor/tensor.js';
import { type OpInput, gradCheck, opModel, randn, assertGradients } from '../../testing/gradcheck.js';

const SHAPE = [2, 3, 4, 5];
const TOL = 1e-2;

type Ctx = { diagnostic(msg: string): void };

const check = (t: Ctx, model: Model, feeds: Record<string, Tensor>, wrt: string[], output?: string, eps = 1e-2) =>
  assertGradients(t, model, feeds, wrt, { output, eps, tol: TOL });

/** LayerNormalization on x [2,3,4,5] with Scale/B initializers of `paramShape` (B omitted when bias=false). */
function lnModel(paramShape: number[], attrs: Record<string, Attr>, bias = true, nOutputs = 1, seed = 0): Model {
  const inputs: OpInput[] = [
    { name: 'x', shape: SHAPE },
    { name: 'scale', shape: paramShape, init: Array.from(randn(paramShape, seed + 1, 0.5).data, (v) => v + 1) },
  ];
  if (bias) inputs.push({ name: 'bias', shape: paramShape, init: randn(paramShape, seed + 2, 0.5).data as Float32Array });
  return opModel('LayerNormalization', inputs, attrs, nOutputs, 17);
}

test('LayerNormalization backward gives X, Scale and B gradients for axis −1 (default), 1, −2 and 0', async (t) => {
  const x = randn(SHAPE, 10, 2);
  const cases: [Record<string, Attr>, number[]][] = [
    [{}, [5]],
    [{ axis: A.i(-1) }, [5]],
    [{ axis: A.i(1) }, [3, 4, 5]],
    [{ axis: A.i(-2) }, [4, 5]],
    [{ axis: A.i(0) }, SHAPE],
  ];
  for (const [k, [attrs, ps]] of cases.entries()) {
    t.diagnostic(`axis ${attrs['axis']?.value ?? 'default'}`);
    await check(t, lnModel(ps, attrs, true, 1, 20 + k), { x }, ['x', 'scale', 'bias']);
  }
});

test('LayerNormalization backward without B and with a large epsilon', async (t) => {
  const x = randn(SHAPE, 11, 0.3);
  await check(t, lnModel([4, 5], { axis: A.i(2) }, false), { x }, ['x', 'scale']);
  await check(t, lnModel([5], { epsilon: A.f(0.1) }), { x }, ['x', 'scale', 'bias']);
});

test('LayerNormalization backward with Scale and B broadcast over part of the normalized shape', async (t) => {
  const x = randn(SHAPE, 12);
  await check(t, lnModel([1, 4, 5], { axis: A.i(1) }), { x }, ['x', 'scale', 'bias']);
  await check(t, lnModel([1, 5], { axis: A.i(2) }), { x }, ['x', 'scale', 'bias']);
});

test('LayerNormalization backward through the Mean and InvStdDev outputs (Y receiving no gradient)', async (t) => {
  const x = randn(SHAPE, 13, 2);
  for (const axis of [-1, 1]) {
    const m = lnModel(axis === -1 ? [5] : [3, 4, 5], { axis: A.i(axis) }, true, 3);
    t.diagnostic(`axis ${axis}: Mean`);
    await check(t, m, { x }, ['x'], 'y1');
    t.diagnostic(`axis ${axis}: InvStdDev`);
    await check(t, m, { x }, ['x'], 'y2');
  }
});

test('LayerNormalization backward with a symbolic batch: one VJP graph for batch 1 and 4', async (t) => {
  const m = lnModel([5], {});
  m.graph.inputs[0]!.shape = ['N', 3, 4, 5];
  m.graph.outputs[0]!.shape = inferShapes(m.graph).info.get('y0')!.shape;
  for (const n of [1, 4]) await check(t, m, { x: randn([n, 3, 4, 5], 14 + n) }, ['x', 'scale', 'bias']);
  // normalizing over the symbolic axis too (axis 0): the count comes from Shape
  const m0 = lnModel(SHAPE, { axis: A.i(0) });
  m0.graph.inputs[0]!.shape = ['N', 3, 4, 5];
  m0.graph.initializers.get('scale')!.dims = [1, 3, 4, 5];
  m0.graph.initializers.get('scale')!.data = m0.graph.initializers.get('scale')!.data.slice(0, 60);
  m0.graph.initializers.get('bias')!.dims = [1, 3, 4, 5];
  m0.graph.initializers.get('bias')!.data = m0.graph.initializers.get('bias')!.data.slice(0, 60);
  m0.graph.outputs[0]!.shape = inferShapes(m0.graph).info.get('y0')!.shape;
  for (const n of [1, 4]) await check(t, m0, { x: randn([n, 3, 4, 5], 16 + n) }, ['x', 'scale', 'bias']);
});
