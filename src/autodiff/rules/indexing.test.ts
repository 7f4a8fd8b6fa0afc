/**
 * Backward rules for Einsum, GatherND, ScatterND, ScatterElements, Trilu, CumSum, DepthToSpace/SpaceToDepth,
 * Mish, Softsign, Celu, ThresholdedRelu, Sin, Cos, ReduceL1, ReduceLogSumExp and ReduceLogSum against
 * central finite differences (float32, one random direction per tensor).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { A, DataType } from '../../onnx/ir.js';
import { assertGradients, opModel, randn } from '../../testing/gradcheck.js';
import { parseEinsum } from './einsum.js';

const f = (name: string, shape: number[]) => ({ name, shape });
const i64 = (name: string, shape: number[], init: number[]) => ({ name, shape, init, dataType: DataType.INT64 });

test('Einsum backward: matrix products, batched attention forms, a trace-like sum, an implicit output and ...', async (t) => {
  const cases: [string, number[][]][] = [
    ['ij,jk->ik', [[3, 4], [4, 5]]],
    ['bhid,bhjd->bhij', [[2, 2, 3, 4], [2, 2, 5, 4]]],
    ['bij,jk,kl->bil', [[2, 3, 4], [4, 5], [5, 2]]],
    ['ij->i', [[3, 4]]],
    ['ij,jk', [[3, 4], [4, 2]]],
    ['...ij,...jk->...ik', [[2, 3, 4], [2, 4, 5]]],
    ['bi,bi->b', [[3, 4], [3, 4]]],
  ];
  for (const [k, [eq, shapes]] of cases.entries()) {
    t.diagnostic(eq);
    const names = shapes.map((_, j) => `x${j}`);
    const m = opModel('Einsum', shapes.map((s, j) => f(names[j]!, s)), { equation: A.s(eq) }, 1, 17);
    const feeds = Object.fromEntries(shapes.map((s, j) => [names[j]!, randn(s, 10 * k + j)]));
    await assertGradients(t, m, feeds, names);
  }
});

test('parseEinsum spells out ... and the implicit output', () => {
  assert.deepEqual(parseEinsum('...ij,...jk->...ik', [4, 3]), { ins: ['abij', 'bjk'], out: 'abik' });
  assert.deepEqual(parseEinsum('ij,jk', [2, 2]), { ins: ['ij', 'jk'], out: 'ik' });
  assert.throws(() => parseEinsum('ij,jk->ik', [2]), /2 operands/);
});

test('GatherND and ScatterND backward (repeated gather indices accumulate)', async (t) => {
  const x = randn([4, 3, 2], 1);
  const ind = i64('ind', [3, 2], [0, 1, 3, 2, 0, 1]);
  await assertGradients(t, opModel('GatherND', [f('x', [4, 3, 2]), ind], {}, 1, 17), { x }, ['x']);
  const upd = randn([2, 2], 2);
  const sind = i64('ind', [2, 2], [0, 1, 3, 2]);
  for (const reduction of ['none', 'add']) {
    t.diagnostic(`ScatterND reduction ${reduction}`);
    await assertGradients(t, opModel('ScatterND', [f('x', [4, 3, 2]), sind, f('u', [2, 2])], { reduction: A.s(reduction) }, 1, 17), { x, u: upd }, ['x', 'u']);
  }
});

test('ScatterElements, Trilu, CumSum, DepthToSpace (DCR and CRD) and SpaceToDepth backward', async (t) => {
  const x = randn([2, 3, 4], 3);
  const ind = i64('ind', [2, 1, 4], [0, 2, 1, 0, 2, 1, 0, 1]);
  await assertGradients(t, opModel('ScatterElements', [f('x', [2, 3, 4]), ind, f('u', [2, 1, 4])], { axis: A.i(1) }, 1, 17), { x, u: randn([2, 1, 4], 4) }, ['x', 'u']);
  await assertGradients(t, opModel('Trilu', [f('x', [2, 4, 4]), i64('k', [], [1])], { upper: A.i(0) }, 1, 17), { x: randn([2, 4, 4], 5) }, ['x']);
  for (const [exclusive, reverse] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    await assertGradients(t, opModel('CumSum', [f('x', [2, 3, 4]), i64('axis', [], [2])], { exclusive: A.i(exclusive!), reverse: A.i(reverse!) }, 1, 17), { x }, ['x']);
  }
  for (const mode of ['DCR', 'CRD']) {
    t.diagnostic(`DepthToSpace ${mode}`);
    await assertGradients(t, opModel('DepthToSpace', [f('x', [2, 8, 3, 2])], { blocksize: A.i(2), mode: A.s(mode) }, 1, 17), { x: randn([2, 8, 3, 2], 6) }, ['x']);
  }
  await assertGradients(t, opModel('SpaceToDepth', [f('x', [2, 2, 4, 6])], { blocksize: A.i(2) }, 1, 17), { x: randn([2, 2, 4, 6], 7) }, ['x']);
});

test('Mish, Softsign, Celu, ThresholdedRelu, Sin and Cos backward', async (t) => {
  const x = randn([3, 5], 8, 2);
  for (const [op, attrs] of [['Mish', {}], ['Softsign', {}], ['Celu', { alpha: A.f(0.7) }], ['ThresholdedRelu', { alpha: A.f(0.3) }], ['Sin', {}], ['Cos', {}]] as const) {
    t.diagnostic(op);
    await assertGradients(t, opModel(op, [f('x', [3, 5])], attrs, 1, op === 'Mish' ? 18 : 17), { x }, ['x'], { eps: 1e-3 });
  }
});

test('ReduceL1, ReduceLogSumExp and ReduceLogSum backward, keepdims 0 and 1', async (t) => {
  // Away from |x| = 0, where ReduceL1 has a kink and ReduceLogSum is undefined.
  const x = randn([3, 4, 5], 9);
  x.data.forEach((v, k) => (x.data[k] = Math.sign(v) * (Math.abs(v) + 0.5)));
  const pos = randn([3, 4, 5], 10);
  pos.data.forEach((v, k) => (pos.data[k] = Math.abs(v) + 0.5));
  for (const op of ['ReduceL1', 'ReduceLogSumExp', 'ReduceLogSum']) {
    for (const keepdims of [0, 1]) {
      t.diagnostic(`${op} keepdims ${keepdims}`);
      const m = opModel(op, [f('x', [3, 4, 5]), i64('axes', [2], [0, 2])], { keepdims: A.i(keepdims) }, 1, 18);
      await assertGradients(t, m, { x: op === 'ReduceLogSum' ? pos : x }, ['x'], { eps: 1e-3 });
    }
  }
});
