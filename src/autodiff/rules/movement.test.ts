/**
 * Data-movement backward rules against central differences. All these ops are linear in the
 * differentiated input, so a large step (0.5) is exact up to float32 rounding: tight tolerance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type OpInput, gradCheck, opModel, randn, runOnnx } from '../../testing/gradcheck.js';
import { type Attr, type Model, DataType, A } from '../../onnx/ir.js';
import { buildVjp } from '../vjp.js';
import type { Tensor } from '../../tensor/tensor.js';

const TOL = 1e-4;
type Ctx = { diagnostic(msg: string): void };

function feedsFor(model: Model, seed = 1): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  model.graph.inputs.forEach((v, k) => {
    if (v.elemType !== DataType.FLOAT) return;
    feeds[v.name] = randn(v.shape as number[], seed + k);
  });
  return feeds;
}

/** The same model with the first dim of every graph input made symbolic ('N'). */
function symbolicBatch(model: Model): Model {
  return {
    ...model,
    graph: { ...model.graph, inputs: model.graph.inputs.map((v) => ({ ...v, shape: v.shape && v.shape.length ? ['N', ...v.shape.slice(1)] : v.shape })) },
  };
}

/**
 * The same op with a symbolic batch dim ('N'), so the rule must build its shapes from Shape:
 * the op is linear in its float inputs jointly, so one run of the VJP graph must satisfy the
 * adjoint identity ⟨s, Y⟩ = Σ ⟨dX, X⟩ (gradCheck would specialise the batch dim to the feeds).
 */
async function checkSymbolic(t: Ctx, model: Model) {
  const feeds = feedsFor(model);
  const sym = symbolicBatch(model);
  const wrt = Object.keys(feeds);
  const vjp = buildVjp(sym, { wrt });
  const seedShape = vjp.model.graph.inputs.find((v) => v.name === vjp.seed)!.shape!;
  assert.ok(typeof seedShape[0] !== 'number', `output batch dim should be symbolic, is ${seedShape[0]}`);
  const y = (await runOnnx(model, feeds))['y0']!;
  const s = randn([...y.shape], 99);
  const r = await runOnnx(vjp.model, { ...feeds, [vjp.seed]: s });
  let lhs = 0;
  let scale = 0;
  for (let i = 0; i < s.size; i++) {
    lhs += s.data[i]! * r['y0']!.data[i]!;
    scale += Math.abs(s.data[i]! * r['y0']!.data[i]!);
  }
  let rhs = 0;
  for (const w of wrt) {
    const g = r[`grad:${w}`]!;
    assert.deepEqual(g.shape, feeds[w]!.shape);
    for (let i = 0; i < g.size; i++) rhs += g.data[i]! * feeds[w]!.data[i]!;
  }
  const err = Math.abs(lhs - rhs) / Math.max(scale, 1e-6);
  assert.ok(err <= 1e-6, `adjoint identity: ⟨s, Y⟩ = ${lhs}, Σ⟨dX, X⟩ = ${rhs}`);
  t.diagnostic(`symbolic batch: adjoint error ${err.toExponential(2)}`);
}

async function check(t: Ctx, model: Model, opts: { wrt?: string[]; output?: string; eps?: number; feeds?: Record<string, Tensor> } = {}) {
  const feeds = opts.feeds ?? feedsFor(model);
  const wrt = opts.wrt ?? Object.keys(feeds);
  const res = await gradCheck(model, { feeds, wrt, output: opts.output, eps: opts.eps ?? 0.5 });
  for (const r of res) assert.ok(r.relError <= TOL, `${r.name}: relError ${r.relError.toExponential(2)} (analytic ${r.analytic}, numeric ${r.numeric})`);
  t.diagnostic(`max relError ${Math.max(...res.map((r) => r.relError)).toExponential(2)}`);
}

const i64 = (name: string, values: number[], shape = [values.length]): OpInput => ({ name, shape, init: values, dataType: DataType.INT64 });
const x = (shape: number[], name = 'x'): OpInput => ({ name, shape });

test('Transpose: gradient is dY transposed by the inverse permutation (explicit and default perm)', async (t) => {
  await check(t, opModel('Transpose', [x([2, 3, 4, 5])], { perm: A.ints([0, 2, 3, 1]) }));
  await check(t, opModel('Transpose', [x([2, 3, 4])]));
});

test('Squeeze / Unsqueeze (axes input, negative axes) reshape the gradient back', async (t) => {
  await check(t, opModel('Squeeze', [x([2, 1, 3, 1]), i64('axes', [1, -1])]));
  await check(t, opModel('Squeeze', [x([2, 1, 3, 1])]));
  await check(t, opModel('Unsqueeze', [x([2, 3]), i64('axes', [0, -1])]));
  await checkSymbolic(t, opModel('Unsqueeze', [x([2, 3]), i64('axes', [1])]));
});

test('Concat: each input gets its slice of dY, along positive and negative axes', async (t) => {
  await check(t, opModel('Concat', [x([2, 3, 4], 'a'), x([2, 1, 4], 'b'), x([2, 5, 4], 'c')], { axis: A.i(1) }));
  await check(t, opModel('Concat', [x([2, 3, 4], 'a'), x([2, 3, 2], 'b')], { axis: A.i(-1) }));
  // an initializer in the middle (no gradient) shifts the offsets of later inputs
  const m = opModel('Concat', [x([2, 3], 'a'), { name: 'k', shape: [2, 2], init: [1, 2, 3, 4] }, x([2, 4], 'c')], { axis: A.i(1) });
  await check(t, m, { wrt: ['a', 'c'] });
});

test('Concat along a symbolic batch axis slices dY with offsets computed from Shape', async (t) => {
  const m = opModel('Concat', [x([2, 3], 'a'), x([3, 3], 'b')], { axis: A.i(0) });
  await checkSymbolic(t, m);
});

test('Split: gradient is the concatenation of the output gradients, zeros for outputs without one', async (t) => {
  await check(t, opModel('Split', [x([2, 6, 3])], { axis: A.i(1) }, 3));
  await check(t, opModel('Split', [x([2, 3, 6]), i64('split', [2, 3, 1])], { axis: A.i(-1) }, 3));
  // differentiate the middle output only: the other two get zero gradients
  await check(t, opModel('Split', [x([2, 3, 6]), i64('split', [2, 3, 1])], { axis: A.i(-1) }, 3), { output: 'y1' });
  await check(t, opModel('Split', [x([5, 4]), i64('split', [1, 4])], { axis: A.i(0) }, 2), { output: 'y0' });
});

const slice = (shape: number[], starts: number[], ends: number[], axes?: number[], steps?: number[]) =>
  opModel('Slice', [x(shape), i64('starts', starts), i64('ends', ends), axes ? i64('axes', axes) : null, steps ? i64('steps', steps) : null]);

test('Slice with step 1: the gradient is zero-padded back into place (negative and out-of-range bounds clamp)', async (t) => {
  await check(t, slice([4, 6, 5], [1, 2], [3, 1000], [0, 1]));
  await check(t, slice([4, 6, 5], [-3, -100], [-1, 3], [-1, 1]));
  await check(t, slice([4, 6], [1, 0], [3, 2]));
  // the whole tensor (INT64 max end)
  await check(t, slice([4, 6], [0], [2 ** 62], [1]));
});

test('Slice with other steps (incl. negative) scatters the gradient to the taken positions', async (t) => {
  await check(t, slice([4, 7, 5], [1], [7], [1], [2]));
  await check(t, slice([4, 7, 5], [-1], [-1000], [1], [-1])); // full reversal
  await check(t, slice([4, 7, 5], [100, 0], [-1000, 5], [2, 0], [-2, 3])); // clamped start, two strided axes
  await check(t, slice([4, 7, 5], [5, 1, 3], [0, 3, 5], [1, 0, 2], [-2, 1, 1])); // strided + pad axes together
});

test('Slice on a symbolic batch: dynamic shapes for the scatter, start-to-end slicing of the batch', async (t) => {
  const m = slice([3, 7, 5], [6, 1], [-8, 5], [1, 2], [-3, 1]);
  await checkSymbolic(t, m);
  const m2 = slice([3, 4], [1], [2 ** 62], [0]);
  await checkSymbolic(t, m2);
});

test('Slice giving an empty tensor has a zero gradient', async () => {
  const m = slice([4, 5], [3], [1], [1]);
  const vjp = buildVjp(m, { wrt: ['x'] });
  assert.ok(vjp.model.graph.nodes.some((n) => n.opType === 'ConstantOfShape'));
});

const pad = (shape: number[], pads: number[], mode: string, cv?: OpInput | null, axes?: number[], opset = 17) =>
  opModel('Pad', [x(shape), i64('pads', pads), ...(cv || axes ? [cv ?? null] : []), ...(axes ? [i64('axes', axes)] : [])], { mode: A.s(mode) }, 1, opset);

test('Pad constant: the gradient crops the padding; negative pads (crops) get zeros back', async (t) => {
  await check(t, pad([2, 3, 4, 5], [0, 0, 1, 2, 0, 0, 3, 1], 'constant'));
  await check(t, pad([2, 3, 4, 5], [0, 1, -1, 2, 0, -1, 1, -2], 'constant'));
  // gradient of the constant value: the sum of dY over the padded positions
  await check(t, pad([2, 3, 4], [0, 1, 1, 0, 0, 2], 'constant', { name: 'cv', shape: [] }), { wrt: ['x', 'cv'] });
  // opset 18 axes input
  await check(t, pad([2, 3, 4, 5], [1, 2, -1, 3], 'constant', null, [-1, 2], 18));
});

test('Pad reflect / edge / wrap: the gradient scatter-adds the mirrored / clamped / wrapped positions', async (t) => {
  await check(t, pad([2, 3, 5, 6], [0, 0, 2, 1, 0, 0, 3, 4], 'reflect'));
  await check(t, pad([2, 3, 5, 6], [0, 0, 2, 5, 0, 0, 3, 4], 'edge'));
  await check(t, pad([2, 3, 4, 5], [0, 1, -1, 2, 0, 0, 1, 2], 'reflect'));
  await check(t, pad([2, 3, 4], [0, 0, 3, 0, 1, 2], 'wrap', null, undefined, 19));
  const m = pad([2, 3, 5], [0, 2, 1, 0, 1, 2], 'reflect');
  await checkSymbolic(t, m);
});

test('Dropout in inference mode passes the gradient through', async (t) => {
  await check(t, opModel('Dropout', [x([3, 8])], {}, 1));
  await check(t, opModel('Dropout', [x([3, 8]), { name: 'ratio', shape: [], init: [0.3] }], {}, 2));
  const m = opModel('Dropout', [x([3, 8]), { name: 'ratio', shape: [], init: [0.3] }, { name: 'tm', shape: [], init: [0], dataType: DataType.BOOL }]);
  await check(t, m, { wrt: ['x'] });
});

/** A training-mode Dropout with a fixed seed (the same mask in every session), with or without a mask output. */
function trainingDropout(withMask: boolean, ratio: number): Model {
  return opModel('Dropout', [x([4, 50]), { name: 'ratio', shape: [], init: [ratio] }, { name: 'tm', shape: [], init: [1], dataType: DataType.BOOL }], { seed: A.i(7) }, withMask ? 2 : 1);
}

test('Dropout in training mode: dY · mask / (1 − ratio); a mask output is added when the node has none', async () => {
  // The mask is random per run (gradCheck's forward session would draw a new one for each perturbed
  // input), so check within one run of the VJP graph: dX = s · Y / X elementwise.
  for (const [withMask, ratio] of [[true, 0.3], [false, 0.6]] as const) {
    const m = trainingDropout(withMask, ratio);
    const vjp = buildVjp(m, { wrt: ['x'] });
    const xv = randn([4, 50], 3, 1, 0.1);
    const s = randn([4, 50], 4);
    const r = await runOnnx(vjp.model, { x: xv, [vjp.seed]: s });
    const y = r['y0']!.data;
    const g = r['grad:x']!.data;
    let dropped = 0;
    for (let i = 0; i < xv.size; i++) {
      const factor = y[i]! / xv.data[i]!;
      if (factor === 0) dropped++;
      else assert.ok(Math.abs(factor - 1 / (1 - ratio)) < 1e-5, `kept element scaled by ${factor}`);
      assert.ok(Math.abs(g[i]! - s.data[i]! * factor) <= 1e-5 * (1 + Math.abs(g[i]!)), `element ${i}: grad ${g[i]}, expected ${s.data[i]! * factor}`);
    }
    assert.ok(dropped > 0.1 * xv.size && dropped < xv.size, `dropped ${dropped} of ${xv.size}`);
  }
});

test('Expand: the gradient is summed over the broadcast axes', async (t) => {
  await check(t, opModel('Expand', [x([3, 1]), i64('shape', [2, 3, 4])]));
  await check(t, opModel('Expand', [x([2, 1, 4]), i64('shape', [3, 1])]));
});

test('Tile: the gradient is summed over the tiles', async (t) => {
  await check(t, opModel('Tile', [x([2, 3, 4]), i64('reps', [1, 2, 3])]));
  await check(t, opModel('Tile', [x([2, 3]), i64('reps', [3, 1])]));
  const m = opModel('Tile', [x([2, 3, 2]), i64('reps', [2, 1, 2])]);
  await checkSymbolic(t, m);
});

test('Gather on float data: scatter-add to the gathered rows (repeated and negative indices, any axis)', async (t) => {
  await check(t, opModel('Gather', [x([5, 3]), i64('i', [0, 2, 2, -1], [2, 2])], { axis: A.i(0) }));
  await check(t, opModel('Gather', [x([2, 6, 3]), i64('i', [5, 0, -2, 5, 1, 1], [3, 2])], { axis: A.i(1) }));
  await check(t, opModel('Gather', [x([2, 3, 4]), i64('i', [-1], [])], { axis: A.i(2) }));
  await check(t, opModel('Gather', [x([2, 3, 4]), i64('i', [1, 1, 0], [3])], { axis: A.i(-1) }));
  const m = opModel('Gather', [x([2, 6, 3]), i64('i', [5, 0, -2, 5], [2, 2])], { axis: A.i(1) });
  await checkSymbolic(t, m);
});

test('GatherElements: scatter-add along the axis', async (t) => {
  await check(t, opModel('GatherElements', [x([3, 4]), i64('i', [0, 3, 3, -1, 1, 1, 2, 0], [2, 4])], { axis: A.i(1) }));
});

test('Reshape / Flatten / Identity pass the gradient back reshaped', async (t) => {
  await check(t, opModel('Reshape', [x([2, 3, 4]), i64('s', [0, -1])]));
  await check(t, opModel('Flatten', [x([2, 3, 4, 2])], { axis: A.i(2) } as Record<string, Attr>));
  await check(t, opModel('Identity', [x([2, 3])]));
});
