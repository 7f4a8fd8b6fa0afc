/**
 * MatMul and Gemm backward rules against central differences. Both are linear in each operand
 * (the other held fixed), so a large step is exact up to float32 rounding: tight tolerance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type OpInput, gradCheck, opModel, randn, runOnnx } from '../../testing/gradcheck.js';
import { buildVjp } from '../vjp.js';
import { type Model, A, DataType } from '../../onnx/ir.js';
import type { Tensor } from '../../tensor/tensor.js';

const TOL = 1e-4;
type Ctx = { diagnostic(msg: string): void };

function feedsFor(model: Model, seed = 1): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  model.graph.inputs.forEach((v, k) => {
    if (v.elemType === DataType.FLOAT) feeds[v.name] = randn(v.shape as number[], seed + k);
  });
  return feeds;
}

async function check(t: Ctx, model: Model, opts: { feeds?: Record<string, Tensor>; wrt?: string[]; seed?: number } = {}) {
  const feeds = opts.feeds ?? feedsFor(model);
  const res = await gradCheck(model, { feeds, wrt: opts.wrt ?? Object.keys(feeds), eps: 0.5, seed: opts.seed });
  for (const r of res) assert.ok(r.relError <= TOL, `${r.name}: relError ${r.relError.toExponential(2)} (analytic ${r.analytic}, numeric ${r.numeric})`);
  t.diagnostic(`max relError ${Math.max(...res.map((r) => r.relError)).toExponential(2)}`);
}

const mm = (sa: number[], sb: number[]) => opModel('MatMul', [{ name: 'a', shape: sa }, { name: 'b', shape: sb }]);

test('MatMul 2-D × 2-D: dA = dY·Bᵀ, dB = Aᵀ·dY', async (t) => {
  await check(t, mm([3, 4], [4, 5]));
});

test('MatMul with batch dims: broadcast operands get their gradient summed over the broadcast batch dims', async (t) => {
  await check(t, mm([2, 3, 4], [4, 5]));
  await check(t, mm([3, 4], [2, 4, 5]));
  await check(t, mm([2, 3, 4], [2, 4, 5]));
  await check(t, mm([2, 1, 3, 4], [5, 4, 2]));
  await check(t, mm([1, 3, 3, 4], [2, 1, 4, 2]));
});

test('MatMul with 1-D operands (row vector, column vector, dot product), with and without batch dims', async (t) => {
  await check(t, mm([4], [4, 5]));
  await check(t, mm([3, 4], [4]));
  await check(t, mm([4], [4]));
  await check(t, mm([4], [2, 4, 5]));
  await check(t, mm([2, 3, 4], [4]));
});

/**
 * With a symbolic batch dim the rule must build shapes from Shape (gradCheck would specialise the dim
 * to the feeds). MatMul is linear in each operand, so one VJP run must satisfy ⟨s, Y⟩ = ⟨dA, A⟩ = ⟨dB, B⟩.
 */
async function checkSymbolic(t: Ctx, sa: number[], sb: number[]) {
  const m = mm(sa, sb);
  const feeds = feedsFor(m);
  m.graph.inputs[0]!.shape = ['N', ...sa.slice(1)];
  const vjp = buildVjp(m, { wrt: ['a', 'b'] });
  assert.equal(vjp.model.graph.inputs.find((v) => v.name === vjp.seed)!.shape![0], 'N');
  const y = (await runOnnx(mm(sa, sb), feeds))['y0']!;
  const s = randn([...y.shape], 7);
  const r = await runOnnx(vjp.model, { ...feeds, [vjp.seed]: s });
  const dot = (p: ArrayLike<number>, q: ArrayLike<number>) => Array.from(p).reduce((acc, v, i) => acc + v * q[i]!, 0);
  const sy = dot(s.data, r['y0']!.data);
  for (const w of ['a', 'b']) {
    assert.deepEqual(r[`grad:${w}`]!.shape, feeds[w]!.shape);
    const err = Math.abs(dot(r[`grad:${w}`]!.data, feeds[w]!.data) - sy) / Math.max(1, Math.abs(sy));
    assert.ok(err <= 1e-5, `${w}: adjoint error ${err}`);
    t.diagnostic(`symbolic batch [${sa}]·[${sb}] ${w}: adjoint error ${err.toExponential(2)}`);
  }
}

test('MatMul with a symbolic batch dim on the left operand (broadcast right operand summed over it)', async (t) => {
  await checkSymbolic(t, [2, 3, 4], [4, 5]);
  await checkSymbolic(t, [2, 3, 4], [1, 4, 5]);
  await checkSymbolic(t, [2, 1, 3, 4], [5, 4, 2]);
});

const gemm = (sa: number[], sb: number[], sc: number[] | null, attrs: Record<string, number>) =>
  opModel(
    'Gemm',
    [{ name: 'a', shape: sa }, { name: 'b', shape: sb }, ...(sc ? [{ name: 'c', shape: sc } as OpInput] : [])],
    Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, k === 'alpha' || k === 'beta' ? A.f(v) : A.i(v)])),
  );

test('Gemm: all transpose combinations, alpha/beta, C broadcast from [N], [1,N], [M,1] and a scalar', async (t) => {
  await check(t, gemm([3, 4], [4, 5], [5], {}));
  await check(t, gemm([4, 3], [4, 5], [1, 5], { transA: 1, alpha: 0.7 }));
  // (seed 2: with seed 1 the directional derivative for C happens to nearly cancel, 1e-3, so rounding dominates)
  await check(t, gemm([3, 4], [5, 4], [3, 1], { transB: 1, beta: -1.5 }), { seed: 2 });
  await check(t, gemm([4, 3], [5, 4], [3, 5], { transA: 1, transB: 1, alpha: 2, beta: 0.5 }));
  await check(t, gemm([3, 4], [4, 5], [], { beta: 3 }));
  await check(t, gemm([3, 4], [5, 4], null, { transB: 1 }));
});
