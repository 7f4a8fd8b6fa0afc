/**
 * Backward rules of pointwise activations against central finite differences (float32, one random
 * direction per tensor). Inputs are kept away from kinks by more than the finite-difference step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { A, type Attr } from '../../onnx/ir.js';
import { Tensor } from '../../tensor/tensor.js';
import { type OpInput, gradCheck, opModel, randn, assertGradients } from '../../testing/gradcheck.js';
import type { Model } from '../../onnx/ir.js';

const SHAPE = [2, 3, 4, 5];
const TOL = 1e-2;

type Ctx = { diagnostic(msg: string): void };

const check = (t: Ctx, model: Model, feeds: Record<string, Tensor>, wrt: string[], eps = 1e-2, tol = TOL) =>
  assertGradients(t, model, feeds, wrt, { eps, tol });

/** Push values lying within `gap` of any of `points` out to distance `gap`. */
function away(x: Tensor, points: number[], gap: number): Tensor {
  const d = Float32Array.from(x.data as Float32Array);
  for (let i = 0; i < d.length; i++) {
    for (const p of points) {
      const v = d[i]!;
      if (Math.abs(v - p) < gap) d[i] = p + (v >= p ? gap : -gap);
    }
  }
  return new Tensor(d, x.shape);
}

/** A unary op on x [2,3,4,5], checked w.r.t. x. */
async function unary(t: Ctx, op: string, x: Tensor, attrs: Record<string, Attr> = {}, opset = 17, eps = 1e-2) {
  const m = opModel(op, [{ name: 'x', shape: [...x.shape] }], attrs, 1, opset);
  return check(t, m, { x }, ['x'], eps);
}

const x0 = (seed = 1, std = 1) => randn(SHAPE, seed, std);

test('Relu backward matches finite differences away from 0', async (t) => {
  await unary(t, 'Relu', randn(SHAPE, 1, 1, 0.1));
});

test('LeakyRelu backward matches finite differences for the default alpha and alpha=0.2', async (t) => {
  const x = randn(SHAPE, 2, 1, 0.1);
  await unary(t, 'LeakyRelu', x);
  await unary(t, 'LeakyRelu', x, { alpha: A.f(0.2) });
});

test('PRelu backward gives gradients for x and for per-channel [C,1,1], trailing [5], full and scalar slopes', async (t) => {
  const x = randn(SHAPE, 3, 1, 0.1);
  const slopes: [number[], number][] = [
    [[3, 1, 1], 11],
    [[5], 12],
    [SHAPE, 13],
    [[1], 14],
  ];
  for (const [shape, seed] of slopes) {
    const s = randn(shape, seed, 0.3);
    const inputs: OpInput[] = [{ name: 'x', shape: SHAPE }, { name: 'slope', shape, init: s.data as Float32Array }];
    await check(t, opModel('PRelu', inputs), { x }, ['x', 'slope']);
  }
});

test('Clip backward masks to min ≤ x ≤ max with both, only min, only max, or no bounds', async (t) => {
  const x = away(randn(SHAPE, 4, 1.5), [-0.5, 0.7], 0.1);
  const lo: OpInput = { name: 'lo', shape: [], init: [-0.5] };
  const hi: OpInput = { name: 'hi', shape: [], init: [0.7] };
  const xin: OpInput = { name: 'x', shape: SHAPE };
  for (const inputs of [[xin, lo, hi], [xin, lo], [xin, null, hi], [xin]] as (OpInput | null)[][]) {
    await check(t, opModel('Clip', inputs), { x }, ['x']);
  }
});

test('Clip(0, 6) (ReLU6 as torch exports it) backward matches finite differences', async (t) => {
  const x = away(randn(SHAPE, 5, 4), [0, 6], 0.1);
  const m = opModel('Clip', [{ name: 'x', shape: SHAPE }, { name: 'lo', shape: [], init: [0] }, { name: 'hi', shape: [], init: [6] }]);
  await check(t, m, { x }, ['x']);
});

test('Clip backward gives gradients for min and max when they are differentiated inputs', async (t) => {
  const x = away(randn(SHAPE, 6, 1.5), [-0.5, 0.7], 0.1);
  const m = opModel('Clip', [{ name: 'x', shape: SHAPE }, { name: 'lo', shape: [] }, { name: 'hi', shape: [] }]);
  const feeds = { x, lo: new Tensor(Float32Array.of(-0.5), []), hi: new Tensor(Float32Array.of(0.7), []) };
  await check(t, m, feeds, ['x', 'lo', 'hi']);
});

test('Sigmoid, Tanh, Erf, Softplus and Exp backward match finite differences', async (t) => {
  for (const op of ['Sigmoid', 'Tanh', 'Erf', 'Softplus', 'Exp']) {
    t.diagnostic(op);
    await unary(t, op, x0(7));
  }
});

test('HardSigmoid backward matches finite differences for default and custom alpha/beta', async (t) => {
  // kinks where αx + β ∈ {0, 1}
  const cases: [number, number][] = [
    [0.2, 0.5],
    [0.25, 0.4],
  ];
  for (const [alpha, beta] of cases) {
    const x = away(randn(SHAPE, 8, 3), [-beta / alpha, (1 - beta) / alpha], 0.15);
    const attrs: Record<string, Attr> = alpha === 0.2 && beta === 0.5 ? {} : { alpha: A.f(alpha), beta: A.f(beta) };
    await unary(t, 'HardSigmoid', x, attrs);
  }
});

test('HardSwish backward matches finite differences on all three pieces (x < −3, |x| ≤ 3, x > 3)', async (t) => {
  const x = away(randn(SHAPE, 9, 3), [-3, 3], 0.15);
  await unary(t, 'HardSwish', x);
});

test('Softmax backward matches finite differences along the last, a middle and the first axis', async (t) => {
  const x = x0(10, 2);
  await unary(t, 'Softmax', x);
  for (const axis of [-1, 1, 0, 2]) await unary(t, 'Softmax', x, { axis: A.i(axis) });
});

test('LogSoftmax backward matches finite differences along the last, a middle and the first axis', async (t) => {
  const x = x0(11, 2);
  await unary(t, 'LogSoftmax', x);
  for (const axis of [-1, 1, 0, -2]) await unary(t, 'LogSoftmax', x, { axis: A.i(axis) });
});

test('Gelu (opset 20) backward matches finite differences for approximate none and tanh', async (t) => {
  const x = x0(12, 2);
  await unary(t, 'Gelu', x, {}, 20);
  await unary(t, 'Gelu', x, { approximate: A.s('none') }, 20);
  await unary(t, 'Gelu', x, { approximate: A.s('tanh') }, 20);
});

test('Elu backward matches finite differences for alpha 1 and 0.5', async (t) => {
  const x = randn(SHAPE, 13, 1, 0.1);
  await unary(t, 'Elu', x);
  await unary(t, 'Elu', x, { alpha: A.f(0.5) });
});

test('Selu backward matches finite differences for default and custom alpha/gamma', async (t) => {
  const x = randn(SHAPE, 14, 1, 0.1);
  await unary(t, 'Selu', x);
  await unary(t, 'Selu', x, { alpha: A.f(1.2), gamma: A.f(0.8) });
});

test('Log, Abs and Reciprocal backward match finite differences away from 0', async (t) => {
  const pos = randn(SHAPE, 15, 1);
  const pd = pos.data as Float32Array;
  for (let i = 0; i < pd.length; i++) pd[i] = Math.abs(pd[i]!) + 0.5;
  await unary(t, 'Log', pos);
  await unary(t, 'Abs', randn(SHAPE, 16, 1, 0.1));
  await unary(t, 'Reciprocal', randn(SHAPE, 17, 1, 0.5));
});
