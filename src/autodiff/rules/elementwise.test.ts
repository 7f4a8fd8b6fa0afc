/**
 * Backward rules of broadcasting elementwise ops against central finite differences (float32, one
 * random direction per tensor), plus the documented behaviour at ties (Max/Min) and at base ≤ 0 (Pow).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { A, type Attr, DataType, type Model } from '../../onnx/ir.js';
import { Tensor } from '../../tensor/tensor.js';
import { type OpInput, gradCheck, opModel, randn, runOnnx, assertGradients } from '../../testing/gradcheck.js';
import { buildVjp, gradName } from '../vjp.js';

const SHAPE = [2, 3, 4, 5];
const TOL = 1e-2;

type Ctx = { diagnostic(msg: string): void };

const check = (t: Ctx, model: Model, feeds: Record<string, Tensor>, wrt: string[], eps = 1e-2, tol = TOL) =>
  assertGradients(t, model, feeds, wrt, { eps, tol });

/** |randn| + offset: strictly positive data. */
function positive(shape: number[], seed: number, offset = 0.5): Tensor {
  const t = randn(shape, seed);
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = Math.abs(d[i]!) + offset;
  return t;
}

/** The VJP of `model` at `feeds` with seed `seed` (default ones), gradients of `wrt`. */
async function vjpAt(model: Model, feeds: Record<string, Tensor>, wrt: string[], seed?: Tensor): Promise<Record<string, Tensor>> {
  const v = buildVjp(model, { wrt, source: 'test' });
  const out = (await runOnnx(model, feeds))[model.graph.outputs[0]!.name]!;
  const s = seed ?? new Tensor(new Float32Array(out.size).fill(1), out.shape);
  const r = await runOnnx(v.model, { ...feeds, [v.seed]: s });
  return Object.fromEntries(wrt.map((w) => [w, r[gradName(w)]!]));
}

/** Binary op with graph inputs a, b of the given shapes, checked w.r.t. both. */
async function binary(t: Ctx, op: string, as: number[], bs: number[], a: Tensor, b: Tensor, attrs: Record<string, Attr> = {}, eps = 1e-2) {
  const m = opModel(op, [{ name: 'a', shape: as }, { name: 'b', shape: bs }], attrs);
  return check(t, m, { a, b }, ['a', 'b'], eps);
}

const BROADCASTS: [number[], number[]][] = [
  [SHAPE, SHAPE],
  [SHAPE, [3, 1, 1]],
  [SHAPE, [5]],
  [[4, 5], SHAPE],
  [[2, 1, 4, 1], [3, 1, 5]],
];

test('Add, Sub, Mul and Div backward match finite differences with broadcasting ([3,1,1], [5], both sides)', async (t) => {
  for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
    for (const [k, [as, bs]] of BROADCASTS.entries()) {
      const a = randn(as, 100 + k);
      const b = op === 'Div' ? randn(bs, 200 + k, 1, 0.5) : randn(bs, 200 + k);
      await binary(t, op, as, bs, a, b, {}, op === 'Div' ? 2e-3 : 1e-2);
    }
  }
});

test('Sqrt backward matches finite differences for positive inputs', async (t) => {
  const x = positive(SHAPE, 1, 0.3);
  await check(t, opModel('Sqrt', [{ name: 'x', shape: SHAPE }]), { x }, ['x']);
});

test('Pow backward gives base and exponent gradients with broadcasting ([5], [3,1,1], full, base broadcast)', async (t) => {
  for (const [k, [as, bs]] of BROADCASTS.entries()) {
    await binary(t, 'Pow', as, bs, positive(as, 10 + k, 0.3), randn(bs, 20 + k, 0.7));
  }
});

test('Pow backward with a constant float exponent 2, an int64 exponent 3 and a negative base', async (t) => {
  const x = randn(SHAPE, 30, 1, 0.1); // negative entries included: integer exponents are fine there
  const two = opModel('Pow', [{ name: 'x', shape: SHAPE }, { name: 'e', shape: [], init: [2] }]);
  await check(t, two, { x }, ['x']);
  const three = opModel('Pow', [{ name: 'x', shape: SHAPE }, { name: 'e', shape: [], init: [3], dataType: DataType.INT64 }]);
  await check(t, three, { x }, ['x']);
});

test('Pow at base ≤ 0 follows PyTorch: da = 0 where b = 0, db = 0 at a = 0 with b ≥ 0, db = NaN for a < 0', async () => {
  const m = opModel('Pow', [{ name: 'a', shape: [5] }, { name: 'b', shape: [5] }]);
  const a = new Tensor(Float32Array.of(0, 0, -2, 2, 0), [5]);
  const b = new Tensor(Float32Array.of(2, 0, 1.5, 0, 0.5), [5]);
  const g = await vjpAt(m, { a, b }, ['a', 'b']);
  const da = Array.from(g['a']!.data);
  const db = Array.from(g['b']!.data);
  // a=0,b=2: da = 2·0 = 0, db = 0;  a=0,b=0: da = 0 (not 0·∞), db = 0;  a=−2,b=1.5: forward NaN, db NaN;
  // a=2,b=0: da = 0, db = 1·ln 2;  a=0,b=0.5: da = ∞ (as in PyTorch), db = 0
  assert.equal(da[0], 0);
  assert.equal(db[0], 0);
  assert.equal(da[1], 0);
  assert.equal(db[1], 0);
  assert.ok(Number.isNaN(db[2]));
  assert.equal(da[3], 0);
  assert.ok(Math.abs(db[3]! - Math.log(2)) < 1e-6);
  assert.equal(da[4], Infinity);
  assert.equal(db[4], 0);
});

/** Pushes the entries of `a` to be at least `gap` away from every entry of `others` (no near-ties). */
function untie(a: Tensor, others: Tensor[], gap: number): Tensor {
  const d = Float32Array.from(a.data as Float32Array);
  const vals = others.flatMap((o) => Array.from(o.data as Float32Array));
  for (let i = 0; i < d.length; i++) {
    for (let guard = 0; guard < 100 && vals.some((v) => Math.abs(v - d[i]!) < gap); guard++) d[i] = d[i]! + gap;
  }
  return new Tensor(d, a.shape);
}

test('Max and Min backward route the gradient to the winning input, with broadcasting and 3 inputs', async (t) => {
  for (const op of ['Max', 'Min']) {
    for (const [k, [as, bs]] of BROADCASTS.entries()) {
      const b = randn(bs, 40 + k);
      const a = untie(randn(as, 50 + k), [b], 0.1);
      await binary(t, op, as, bs, a, b, {}, 1e-3);
    }
    const c = randn([5], 61);
    const b = untie(randn([4, 5], 62), [c], 0.1);
    const a = untie(randn(SHAPE, 63), [b, c], 0.1);
    const m = opModel(op, [{ name: 'a', shape: SHAPE }, { name: 'b', shape: [4, 5] }, { name: 'c', shape: [5] }]);
    await check(t, m, { a, b, c }, ['a', 'b', 'c'], 1e-3);
    const single = opModel(op, [{ name: 'a', shape: SHAPE }]);
    await check(t, single, { a }, ['a']);
  }
});

test('Max and Min split the gradient evenly among tied inputs (dy/2 for two, dy/3 for three)', async () => {
  for (const op of ['Max', 'Min']) {
    const m2 = opModel(op, [{ name: 'a', shape: [3] }, { name: 'b', shape: [3] }]);
    const g2 = await vjpAt(m2, { a: new Tensor(Float32Array.of(1, 2, 3), [3]), b: new Tensor(Float32Array.of(1, 5, 0), [3]) }, ['a', 'b']);
    const win = op === 'Max' ? [0.5, 0, 1] : [0.5, 1, 0];
    assert.deepEqual(Array.from(g2['a']!.data), win);
    assert.deepEqual(Array.from(g2['b']!.data), win.map((w, i) => (i === 0 ? 0.5 : 1 - w)));
    const m3 = opModel(op, [{ name: 'a', shape: [2] }, { name: 'b', shape: [2] }, { name: 'c', shape: [1] }]);
    const g3 = await vjpAt(m3, { a: new Tensor(Float32Array.of(4, 4), [2]), b: new Tensor(Float32Array.of(4, 4), [2]), c: new Tensor(Float32Array.of(4), [1]) }, ['a', 'b', 'c']);
    for (const v of [...g3['a']!.data, ...g3['b']!.data]) assert.ok(Math.abs(v - 1 / 3) < 1e-6);
    assert.ok(Math.abs(g3['c']!.data[0]! - 2 / 3) < 1e-6); // broadcast input: its two shares summed
  }
});

/** A Where model whose condition is a bool initializer. */
function whereModel(condShape: number[], cond: boolean[], xs: number[], ys: number[]): Model {
  // opModel stores non-float, non-int64 initializers as Int32Array, which serializes 4 bytes per bool;
  // set the data as bytes here instead.
  const m = opModel('Where', [{ name: 'cond', shape: condShape, init: cond.map(Number), dataType: DataType.BOOL }, { name: 'x', shape: xs }, { name: 'y', shape: ys }]);
  const init = m.graph.initializers.get('cond')!;
  init.data = Uint8Array.from(cond.map(Number));
  return m;
}

test('Where backward sends dy to X where cond holds and to Y elsewhere, un-broadcast ([5], [3,1,1], broadcast cond)', async (t) => {
  const cases: [number[], number[], number[]][] = [
    [SHAPE, SHAPE, SHAPE],
    [SHAPE, [5], [3, 1, 1]],
    [[4, 5], SHAPE, [1]],
    [[3, 1, 5], [4, 1], SHAPE],
  ];
  for (const [k, [cs, xs, ys]] of cases.entries()) {
    const n = cs.reduce((p, d) => p * d, 1);
    const cond = Array.from(randn([n], 70 + k).data, (v) => v > 0);
    const m = whereModel(cs, cond, xs, ys);
    await check(t, m, { x: randn(xs, 80 + k), y: randn(ys, 90 + k) }, ['x', 'y']);
  }
});

/** x → Cast(to) → Cast(float) → z. */
function castChain(to: number): Model {
  const m = opModel('Cast', [{ name: 'x', shape: SHAPE }], { to: A.i(to) });
  m.graph.nodes.push({ opType: 'Cast', domain: '', name: 'back', inputs: ['y0'], outputs: ['z'], attrs: { to: A.i(DataType.FLOAT) } });
  m.graph.outputs = [{ name: 'z', elemType: DataType.FLOAT, shape: SHAPE }];
  return m;
}

test('Cast backward passes dy through float → double/float16/float casts and back', async (t) => {
  const x = randn(SHAPE, 100);
  await check(t, opModel('Cast', [{ name: 'x', shape: SHAPE }], { to: A.i(DataType.FLOAT) }), { x }, ['x']);
  await check(t, castChain(DataType.DOUBLE), { x }, ['x']);
  // float16 rounding (~5e-4) needs a large step; the map is linear up to rounding.
  await check(t, castChain(DataType.FLOAT16), { x }, ['x'], 0.5);
});

test('Cast to an integer type carries no gradient (zero, not an error)', async () => {
  const x = randn(SHAPE, 101, 3);
  const g = await vjpAt(castChain(DataType.INT32), { x }, ['x']);
  assert.ok(Array.from(g['x']!.data).every((v) => v === 0));
});

test('Mean backward gives dy/n to each input, un-broadcast, for 1, 2 and 3 inputs', async (t) => {
  const a = randn(SHAPE, 110);
  const b = randn([3, 1, 1], 111);
  const c = randn([5], 112);
  const inputs: OpInput[] = [{ name: 'a', shape: SHAPE }, { name: 'b', shape: [3, 1, 1] }, { name: 'c', shape: [5] }];
  await check(t, opModel('Mean', inputs), { a, b, c }, ['a', 'b', 'c']);
  await check(t, opModel('Mean', inputs.slice(0, 2)), { a, b }, ['a', 'b']);
  await check(t, opModel('Mean', inputs.slice(0, 1)), { a }, ['a']);
});

test('Neg and Sum backward match finite differences (Sum with broadcasting)', async (t) => {
  const a = randn(SHAPE, 120);
  await check(t, opModel('Neg', [{ name: 'a', shape: SHAPE }]), { a }, ['a']);
  const m = opModel('Sum', [{ name: 'a', shape: SHAPE }, { name: 'b', shape: [4, 1] }, { name: 'c', shape: [5] }]);
  await check(t, m, { a, b: randn([4, 1], 121), c: randn([5], 122) }, ['a', 'b', 'c']);
});
