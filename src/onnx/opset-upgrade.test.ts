import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { type Attr, type Dim, type Model, type Node, type TensorData, A, DataType, defaultOpset } from './ir.js';
import { parseModel, serializeModel } from './proto.js';
import { MIN_SUPPORTED_OPSET, upgradeOpset } from './opset-upgrade.js';
import { fixturePath } from '../testing/paths.js';

// ---------- helpers ----------

/** Deterministic uniform [-2, 2) data. */
function randomData(n: number, seed = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}

interface In {
  name: string;
  dims: number[];
  /** Declared shape (default: dims); null declares an unknown rank. */
  declared?: Dim[] | null;
}

function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, name = `${opType}_0`): Node {
  return { opType, domain: '', name, inputs, outputs, attrs };
}

function tinyModel(opset: number, nodes: Node[], inputs: In[], outputs: string[], inits: TensorData[] = [], outTypes: Record<string, number> = {}): Model {
  return {
    irVersion: 7,
    opsets: new Map([['', opset]]),
    producerName: 'test',
    producerVersion: '0',
    graph: {
      name: 'g',
      nodes,
      inputs: inputs.map((i) => ({ name: i.name, elemType: DataType.FLOAT, shape: i.declared === undefined ? i.dims : i.declared })),
      outputs: outputs.map((o) => ({ name: o, elemType: outTypes[o] ?? DataType.FLOAT, shape: null })),
      initializers: new Map(inits.map((t) => [t.name, t])),
      valueInfo: new Map(),
    },
    passthrough: {},
  };
}

const f32 = (name: string, dims: number[], values: number[]): TensorData => ({ name, dataType: DataType.FLOAT, dims, data: Float32Array.from(values) });

async function run(model: Model, inputs: In[], seed = 1): Promise<Map<string, { dims: readonly number[]; data: number[] }>> {
  const session = await ort.InferenceSession.create(serializeModel(model));
  const feeds: Record<string, ort.Tensor> = {};
  inputs.forEach((i, k) => {
    feeds[i.name] = new ort.Tensor('float32', randomData(i.dims.reduce((a, b) => a * b, 1), seed + k), i.dims);
  });
  const res = await session.run(feeds);
  const out = new Map<string, { dims: readonly number[]; data: number[] }>();
  for (const o of model.graph.outputs) {
    const t = res[o.name]!;
    out.set(o.name, { dims: t.dims, data: Array.from(t.data as ArrayLike<number | bigint>, Number) });
  }
  await session.release();
  return out;
}

function assertClose(a: Map<string, { dims: readonly number[]; data: number[] }>, b: typeof a, tol = 1e-6): void {
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [name, x] of a) {
    const y = b.get(name)!;
    assert.deepEqual([...y.dims], [...x.dims], `${name}: shape`);
    for (let i = 0; i < x.data.length; i++) {
      const d = Math.abs(x.data[i]! - y.data[i]!);
      assert.ok(d <= tol * Math.max(1, Math.abs(x.data[i]!)), `${name}[${i}]: ${x.data[i]} vs ${y.data[i]}`);
    }
  }
}

/**
 * Runs `model` at its old opset and upgraded to 17 on the same random inputs; they must agree.
 * Returns the upgraded model for further checks.
 */
async function assertUpgradePreserves(model: Model, inputs: In[], tol = 1e-6, target = 17): Promise<Model> {
  const before = serializeModel(model);
  const up = upgradeOpset(model, target, { source: 'tiny.onnx' });
  assert.deepEqual(serializeModel(model), before, 'the argument must not be modified');
  assert.equal(defaultOpset(up), target);
  assert.ok(up.irVersion >= 8);
  assertClose(await run(model, inputs), await run(up, inputs), tol);
  return up;
}

const ops = (m: Model): string[] => m.graph.nodes.map((n) => n.opType);

// ---------- real exports ----------

test('small_cnn opset 11 upgraded to 17 gives the same logits as the original and as the upgraded opset-13 export', async () => {
  const m11 = parseModel(readFileSync(fixturePath('models/small_cnn_opset11.onnx')), { source: 'small_cnn_opset11.onnx' });
  const m13 = parseModel(readFileSync(fixturePath('models/small_cnn_opset13.onnx')), { source: 'small_cnn_opset13.onnx' });
  const inputs: In[] = [{ name: 'input', dims: [3, 1, 64, 64] }];
  const up11 = await assertUpgradePreserves(m11, inputs);
  const up13 = upgradeOpset(m13);
  assert.equal(defaultOpset(up13), 17);
  assertClose(await run(up11, inputs), await run(up13, inputs), 1e-5);
});

test('a model already at or above the target keeps its opset and nodes', () => {
  const m = parseModel(readFileSync(fixturePath('models/tiny_resnet_opset17.onnx')));
  const up = upgradeOpset(m, 13);
  assert.equal(defaultOpset(up), 17);
  assert.deepEqual(ops(up), ops(m));
  assert.notEqual(up, m);
});

// ---------- Softmax family (13: one axis instead of the flattened tail) ----------

test('Softmax-11 axis=1 on [2,3,4,5] (normalises over 3·4·5 values) is preserved at opset 17', async () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 3, 4, 5] }];
  const m = tinyModel(11, [node('Softmax', ['x'], ['y'], { axis: A.i(1) })], inputs, ['y']);
  const up = await assertUpgradePreserves(m, inputs);
  assert.deepEqual(ops(up), ['Flatten', 'Softmax', 'Shape', 'Reshape']);
  // The old and new semantics really differ here: a plain Softmax-13 axis=1 gives other values.
  const naive = tinyModel(17, [node('Softmax', ['x'], ['y'], { axis: A.i(1) })], inputs, ['y']);
  const a = (await run(m, inputs)).get('y')!.data;
  const b = (await run(naive, inputs)).get('y')!.data;
  assert.ok(a.some((v, i) => Math.abs(v - b[i]!) > 1e-3));
});

test('LogSoftmax-11 and Hardmax-11 with the default axis (1) on a 4-D input of unknown rank are preserved', async () => {
  for (const op of ['LogSoftmax', 'Hardmax', 'Softmax']) {
    const inputs: In[] = [{ name: 'x', dims: [2, 3, 4, 5], declared: null }];
    const m = tinyModel(11, [node(op, ['x'], ['y'])], inputs, ['y']);
    const up = await assertUpgradePreserves(m, inputs);
    assert.ok(ops(up).includes('Flatten'), op);
  }
});

test('Softmax-11 with a negative axis (-2) on [2,3,4,5] is preserved', async () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 3, 4, 5] }];
  const m = tinyModel(11, [node('Softmax', ['x'], ['y'], { axis: A.i(-2) })], inputs, ['y']);
  await assertUpgradePreserves(m, inputs);
});

test('Softmax-11 over the last axis, or with only size-1 dims after the axis, stays a single Softmax', async () => {
  for (const [dims, axis] of [
    [[2, 7], 1],
    [[2, 7, 1, 1], 1],
    [[2, 3, 5], -1],
  ] as const) {
    const inputs: In[] = [{ name: 'x', dims: [...dims] }];
    const m = tinyModel(11, [node('Softmax', ['x'], ['y'], { axis: A.i(axis) })], inputs, ['y']);
    const up = await assertUpgradePreserves(m, inputs);
    assert.deepEqual(ops(up), ['Softmax']);
  }
});

test('Softmax-11 whose input rank is only known through shape inference (after Flatten) stays a single Softmax', async () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 3, 4], declared: ['N', 3, 4] }];
  const m = tinyModel(11, [node('Flatten', ['x'], ['f']), node('Softmax', ['f'], ['y'])], inputs, ['y']);
  const up = await assertUpgradePreserves(m, inputs);
  assert.deepEqual(ops(up), ['Flatten', 'Softmax']);
});

// ---------- axes / split attributes → inputs (13) ----------

test('Squeeze-11 and Unsqueeze-11 with axes attributes are preserved at opset 17', async () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 1, 3, 1] }];
  const m = tinyModel(
    11,
    [
      node('Squeeze', ['x'], ['s'], { axes: A.ints([1]) }, 'sq'),
      node('Unsqueeze', ['s'], ['u'], { axes: A.ints([0, -1]) }, 'unsq'),
      node('Squeeze', ['x'], ['all']), // no axes: every size-1 dim
    ],
    inputs,
    ['u', 'all'],
  );
  const up = await assertUpgradePreserves(m, inputs);
  assert.equal(up.graph.nodes[0]!.inputs.length, 2);
  assert.equal(up.graph.nodes[2]!.inputs.length, 1);
  assert.ok(up.graph.nodes.every((n) => !n.attrs['axes']));
});

test('ReduceSum-11 with axes (keepdims 0 and 1) and without axes is preserved at opset 17', async () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 3, 4] }];
  const m = tinyModel(
    11,
    [
      node('ReduceSum', ['x'], ['a'], { axes: A.ints([0, 2]), keepdims: A.i(0) }, 'r1'),
      node('ReduceSum', ['x'], ['b'], { axes: A.ints([-1]) }, 'r2'),
      node('ReduceSum', ['x'], ['c'], { keepdims: A.i(0) }, 'r3'),
    ],
    inputs,
    ['a', 'b', 'c'],
  );
  await assertUpgradePreserves(m, inputs);
});

test('Split-11 with a split attribute, and without, is preserved at opset 17', async () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 6] }];
  const m = tinyModel(
    11,
    [node('Split', ['x'], ['a', 'b'], { axis: A.i(1), split: A.ints([1, 5]) }, 's1'), node('Split', ['x'], ['c', 'd', 'e'], { axis: A.i(-1) }, 's2')],
    inputs,
    ['a', 'b', 'c', 'd', 'e'],
  );
  const up = await assertUpgradePreserves(m, inputs);
  assert.equal(up.graph.nodes[0]!.inputs.length, 2);
});

// ---------- Pad-10, Slice-9, Clip-10, TopK-9 ----------

test('Pad-10 (pads and value attributes; constant, reflect and edge modes) is preserved at opset 17', async () => {
  const inputs: In[] = [{ name: 'x', dims: [1, 2, 4, 5] }];
  const m = tinyModel(
    10,
    [
      node('Pad', ['x'], ['a'], { pads: A.ints([0, 0, 1, 2, 0, 0, 2, 1]), value: A.f(1.5) }, 'p1'),
      node('Pad', ['x'], ['b'], { pads: A.ints([0, 0, 1, 2, 0, 0, 2, 1]) }, 'p2'),
      node('Pad', ['x'], ['c'], { pads: A.ints([0, 0, 2, 1, 0, 0, 1, 3]), mode: A.s('reflect') }, 'p3'),
      node('Pad', ['x'], ['d'], { pads: A.ints([0, 0, 2, 0, 0, 0, 0, 3]), mode: A.s('edge') }, 'p4'),
      node('Pad', ['x'], ['e'], { pads: A.ints([0, 0, -1, 1, 0, 0, 1, -2]) }, 'p5'),
    ],
    inputs,
    ['a', 'b', 'c', 'd', 'e'],
  );
  await assertUpgradePreserves(m, inputs);
});

test('Slice-9 (starts/ends/axes attributes, huge ends, negative indices) is preserved at opset 17', async () => {
  const inputs: In[] = [{ name: 'x', dims: [3, 4, 6] }];
  const m = tinyModel(
    9,
    [
      node('Slice', ['x'], ['a'], { starts: A.ints([1, -4]), ends: A.ints([1e15, -1]), axes: A.ints([1, 2]) }, 's1'),
      node('Slice', ['x'], ['b'], { starts: A.ints([0, 1, 2]), ends: A.ints([2, 3, 2147483647]) }, 's2'),
    ],
    inputs,
    ['a', 'b'],
  );
  await assertUpgradePreserves(m, inputs);
});

test('Slice-9 ends of INT64_MAX (read from protobuf as the double 2^63) become an INT64_MAX input, not a wrapped INT64_MIN', () => {
  const m = tinyModel(9, [node('Slice', ['x'], ['y'], { starts: A.ints([1]), ends: A.ints([9223372036854775807]), axes: A.ints([0]) })], [{ name: 'x', dims: [4] }], ['y']);
  const up = upgradeOpset(m);
  const ends = up.graph.initializers.get(up.graph.nodes[0]!.inputs[2]!)!;
  assert.deepEqual(Array.from(ends.data as BigInt64Array), [9223372036854775807n]);
});

test('Clip-10 (min and max, min only, none) is preserved at opset 17', async () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 3, 4] }];
  const m = tinyModel(
    10,
    [
      node('Clip', ['x'], ['a'], { min: A.f(-0.5), max: A.f(0.75) }, 'c1'),
      node('Clip', ['x'], ['b'], { min: A.f(0) }, 'c2'),
      node('Clip', ['x'], ['c'], { max: A.f(0.25) }, 'c3'),
      node('Clip', ['x'], ['d'], {}, 'c4'),
    ],
    inputs,
    ['a', 'b', 'c', 'd'],
  );
  await assertUpgradePreserves(m, inputs);
});

test('TopK-9 (k attribute) is preserved at opset 17', async () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 7] }];
  const m = tinyModel(9, [node('TopK', ['x'], ['v', 'i'], { k: A.i(3) })], inputs, ['v', 'i'], [], { i: DataType.INT64 });
  await assertUpgradePreserves(m, inputs);
});

// ---------- Upsample / Resize ----------

test('Upsample-9 (scales input; nearest and linear) becomes Resize with the same output', async () => {
  const inputs: In[] = [{ name: 'x', dims: [1, 2, 3, 4] }];
  for (const mode of ['nearest', 'linear']) {
    const m = tinyModel(9, [node('Upsample', ['x', 'sc'], ['y'], { mode: A.s(mode) })], inputs, ['y'], [f32('sc', [4], [1, 1, 2, 3])]);
    const up = await assertUpgradePreserves(m, inputs);
    assert.deepEqual(ops(up), ['Resize'], mode);
  }
});

test('Upsample-7 (scales attribute) becomes Resize with the same output', async () => {
  const inputs: In[] = [{ name: 'x', dims: [1, 2, 3, 4] }];
  for (const mode of ['nearest', 'linear']) {
    const m = tinyModel(7, [node('Upsample', ['x'], ['y'], { mode: A.s(mode), scales: A.floats([1, 1, 2, 2]) })], inputs, ['y']);
    const up = await assertUpgradePreserves(m, inputs);
    assert.deepEqual(ops(up), ['Resize'], mode);
  }
});

test('Resize-10 (asymmetric; nearest and linear; up-, down- and mixed sampling, non-integer factors) is preserved at opset 17', async () => {
  const inputs: In[] = [{ name: 'x', dims: [1, 2, 5, 8] }];
  for (const mode of ['nearest', 'linear']) {
    for (const scales of [
      [1, 1, 2, 1.5],
      [1, 1, 0.5, 0.5],
      [1, 1, 0.6, 0.7],
      [1, 1, 1.7, 0.4],
    ]) {
      const m = tinyModel(10, [node('Resize', ['x', 'sc'], ['y'], { mode: A.s(mode) })], inputs, ['y'], [f32('sc', [4], scales)]);
      await assertUpgradePreserves(m, inputs);
    }
  }
});

test('Resize-10 nearest reads scales from a Constant node, and refuses non-constant scales', async () => {
  const inputs: In[] = [{ name: 'x', dims: [1, 1, 5, 8] }];
  const m = tinyModel(
    10,
    [node('Constant', [], ['sc'], { value: A.t(f32('v', [4], [1, 1, 0.6, 1.5])) }, 'c'), node('Resize', ['x', 'sc'], ['y'], {}, 'r')],
    inputs,
    ['y'],
  );
  await assertUpgradePreserves(m, inputs);
  const dyn = tinyModel(10, [node('Abs', ['s'], ['sc']), node('Resize', ['x', 'sc'], ['y'], {}, 'resize7')], [...inputs, { name: 's', dims: [4] }], ['y']);
  assert.throws(() => upgradeOpset(dyn, 17, { source: 'dyn.onnx' }), /dyn\.onnx: op Resize \(node 'resize7'\).*non-constant scales/);
});

test('intermediate targets: Upsample-7 → 9 and 10, Upsample-9 → 11 (empty roi tensor), Resize-10 → 12, BatchNormalization-9 training → 13', async () => {
  const inputs: In[] = [{ name: 'x', dims: [1, 2, 3, 4] }];
  const up7 = tinyModel(7, [node('Upsample', ['x'], ['y'], { scales: A.floats([1, 1, 2, 3]) })], inputs, ['y']);
  assert.deepEqual(ops(await assertUpgradePreserves(up7, inputs, 1e-6, 9)), ['Upsample']);
  assert.deepEqual(ops(await assertUpgradePreserves(up7, inputs, 1e-6, 10)), ['Resize']);
  const up9 = tinyModel(9, [node('Upsample', ['x', 'sc'], ['y'], { mode: A.s('linear') })], inputs, ['y'], [f32('sc', [4], [1, 1, 2, 1.5])]);
  const r11 = await assertUpgradePreserves(up9, inputs, 1e-6, 11);
  assert.equal(r11.graph.initializers.get(r11.graph.nodes[0]!.inputs[1]!)!.dims[0], 0);
  const rs10 = tinyModel(10, [node('Resize', ['x', 'sc'], ['y'])], inputs, ['y'], [f32('sc', [4], [1, 1, 0.7, 1.5])]);
  await assertUpgradePreserves(rs10, inputs, 1e-6, 12);
  const [bn, bnIn] = bnModel(9, {}, ['rm', 'rv', 'sm', 'sv']);
  const bn13 = await assertUpgradePreserves(bn, bnIn, 1e-6, 13);
  assert.equal(bn13.graph.nodes[0]!.outputs.length, 5);
});

test("Resize-11 nearest with 'tf_half_pixel_for_nn' (removed at 13) is preserved at opset 17", async () => {
  const inputs: In[] = [{ name: 'x', dims: [1, 1, 5, 7] }];
  for (const nearest of ['floor', 'round_prefer_floor']) {
    const m = tinyModel(
      11,
      [node('Resize', ['x', 'roi', 'sc'], ['y'], { mode: A.s('nearest'), coordinate_transformation_mode: A.s('tf_half_pixel_for_nn'), nearest_mode: A.s(nearest) })],
      inputs,
      ['y'],
      [f32('roi', [0], []), f32('sc', [4], [1, 1, 1.6, 2.5])],
    );
    await assertUpgradePreserves(m, inputs);
  }
});

// ---------- Dropout, BatchNormalization ----------

test('Dropout-10 (inference) becomes Identity with the same output', async () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 3] }];
  const m = tinyModel(10, [node('Dropout', ['x'], ['d', 'mask'], { ratio: A.f(0.3) }), node('Relu', ['d'], ['y'])], inputs, ['y']);
  const up = await assertUpgradePreserves(m, inputs);
  assert.deepEqual(ops(up), ['Identity', 'Relu']);
  assert.deepEqual(up.graph.nodes[0]!.outputs, ['d']);
});

test('Dropout-10 whose mask is used gives an error naming the node and the model', () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 3] }];
  const m = tinyModel(10, [node('Dropout', ['x'], ['d', 'mask'], {}, 'drop1')], inputs, ['d', 'mask'], [], { mask: DataType.BOOL });
  assert.throws(() => upgradeOpset(m, 17, { source: 'drop.onnx' }), /drop\.onnx.*Dropout.*drop1.*mask/);
});

function bnModel(opset: number, attrs: Record<string, Attr>, extraOutputs: string[] = []): [Model, In[]] {
  const inputs: In[] = [{ name: 'x', dims: [2, 3, 4, 4] }];
  const c = 3;
  const r = (seed: number, off = 0) => Array.from(randomData(c, seed), (v) => v + off);
  const m = tinyModel(
    opset,
    [node('BatchNormalization', ['x', 'g', 'b', 'mean', 'var'], ['y', ...extraOutputs], attrs)],
    inputs,
    ['y'],
    [f32('g', [c], r(11)), f32('b', [c], r(12)), f32('mean', [c], r(13)), f32('var', [c], r(14, 3))],
  );
  return [m, inputs];
}

test('BatchNormalization-7 and -8 with spatial=1 are preserved at opset 17', async () => {
  for (const opset of [7, 8]) {
    const [m, inputs] = bnModel(opset, { spatial: A.i(1), epsilon: A.f(1e-3), momentum: A.f(0.9) });
    const up = await assertUpgradePreserves(m, inputs);
    assert.equal(up.graph.nodes[0]!.attrs['spatial'], undefined);
  }
});

test('BatchNormalization-9 with statistics outputs (training mode: batch statistics) is preserved with training_mode=1', async () => {
  const [m, inputs] = bnModel(9, { momentum: A.f(0.8) }, ['rm', 'rv', 'sm', 'sv']);
  const up = await assertUpgradePreserves(m, inputs);
  assert.equal(up.graph.nodes[0]!.attrs['training_mode']?.value, 1);
  assert.equal(up.graph.nodes[0]!.outputs.length, 3);
  const [m2] = bnModel(9, {}, ['rm', 'rv', 'sm', 'sv']);
  m2.graph.outputs.push({ name: 'rm', elemType: DataType.FLOAT, shape: null }, { name: 'rv', elemType: DataType.FLOAT, shape: null });
  await assertUpgradePreserves(m2, inputs, 1e-5);
});

test('BatchNormalization with used saved_mean / saved_var outputs or spatial=0 gives an error', () => {
  const [m] = bnModel(9, {}, ['rm', 'rv', 'sm', 'sv']);
  m.graph.outputs.push({ name: 'sm', elemType: DataType.FLOAT, shape: null });
  assert.throws(() => upgradeOpset(m, 17, { source: 'bn.onnx' }), /bn\.onnx.*BatchNormalization.*sm/);
  const [m2] = bnModel(7, { spatial: A.i(0) });
  assert.throws(() => upgradeOpset(m2, 17, { source: 'bn.onnx' }), /bn\.onnx.*BatchNormalization.*spatial/);
});

// ---------- other rewrites ----------

test('Scatter-9 becomes ScatterElements with the same output', async () => {
  const inputs: In[] = [{ name: 'x', dims: [3, 4] }, { name: 'u', dims: [2, 4] }];
  const idx: TensorData = { name: 'idx', dataType: DataType.INT64, dims: [2, 4], data: BigInt64Array.from([0n, 2n, 1n, 0n, 2n, 1n, 0n, 1n]) };
  const m = tinyModel(9, [node('Scatter', ['x', 'idx', 'u'], ['y'], { axis: A.i(0) })], inputs, ['y'], [idx]);
  const up = await assertUpgradePreserves(m, inputs);
  assert.deepEqual(ops(up), ['ScatterElements']);
});

test('experimental ops removed at opset 10 (ImageScaler, Scale, Affine, ScaledTanh, ParametricSoftplus, Crop, MeanVarianceNormalization-1) are rewritten with the same output', async () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 3, 4, 5] }];
  const cases: [string, Record<string, Attr>][] = [
    ['ImageScaler', { scale: A.f(0.5), bias: A.floats([1, -2, 3]) }],
    ['Scale', { scale: A.f(3) }],
    ['Affine', { alpha: A.f(2), beta: A.f(-1) }],
    ['ScaledTanh', { alpha: A.f(2), beta: A.f(0.7) }],
    ['ParametricSoftplus', { alpha: A.f(2), beta: A.f(0.7) }],
    ['Crop', { border: A.ints([1, 0, 2, 1]) }],
    ['Crop', { border: A.ints([1, 2, 0, 0]) }],
    ['Crop', { border: A.ints([1, 1, 0, 0]), scale: A.ints([2, 3]) }],
    ['MeanVarianceNormalization', {}],
    ['MeanVarianceNormalization', { across_channels: A.i(1) }],
    ['MeanVarianceNormalization', { normalize_variance: A.i(0) }],
    ['MeanVarianceNormalization', { across_channels: A.i(1), normalize_variance: A.i(0) }],
  ];
  for (const [op, attrs] of cases) {
    const m = tinyModel(8, [node(op, ['x'], ['y'], attrs)], inputs, ['y']);
    const up = await assertUpgradePreserves(m, inputs, 1e-5);
    assert.ok(!ops(up).includes(op) || op === 'MeanVarianceNormalization', op);
  }
});

test('RoiAlign-10 (default output_half_pixel coordinates, changed at 16) is preserved at opset 17', async () => {
  const inputs: In[] = [{ name: 'x', dims: [1, 2, 8, 8] }];
  const rois = f32('rois', [2, 4], [0.3, 0.7, 5.2, 4.1, 1, 2, 7.5, 6]);
  const idx: TensorData = { name: 'idx', dataType: DataType.INT64, dims: [2], data: BigInt64Array.from([0n, 0n]) };
  const m = tinyModel(10, [node('RoiAlign', ['x', 'rois', 'idx'], ['y'], { output_height: A.i(3), output_width: A.i(2), sampling_ratio: A.i(2) })], inputs, ['y'], [rois, idx]);
  const up = await assertUpgradePreserves(m, inputs, 1e-5);
  assert.equal(up.graph.nodes[0]!.attrs['coordinate_transformation_mode']?.value, 'output_half_pixel');
});

test('Clip-10 and Pad-10 on a float64 tensor get float64 min/max/constant_value inputs', async () => {
  const m = tinyModel(
    10,
    [node('Cast', ['x'], ['d'], { to: A.i(DataType.DOUBLE) }, 'cast_in'), node('Clip', ['d'], ['c'], { min: A.f(-0.5), max: A.f(0.5) }), node('Pad', ['c'], ['p'], { pads: A.ints([1, 0, 0, 2]), value: A.f(0.25) }), node('Cast', ['p'], ['y'], { to: A.i(DataType.FLOAT) }, 'cast_out')],
    [{ name: 'x', dims: [2, 3] }],
    ['y'],
  );
  const up = upgradeOpset(m);
  const clip = up.graph.nodes.find((n) => n.opType === 'Clip')!;
  assert.equal(up.graph.initializers.get(clip.inputs[1]!)!.dataType, DataType.DOUBLE);
  const pad = up.graph.nodes.find((n) => n.opType === 'Pad')!;
  assert.equal(up.graph.initializers.get(pad.inputs[2]!)!.dataType, DataType.DOUBLE);
  // onnxruntime has no float64 Clip-6, so check the upgraded model against the definition.
  const y = (await run(up, [{ name: 'x', dims: [2, 3] }])).get('y')!;
  const x = randomData(6, 1);
  assert.deepEqual([...y.dims], [3, 5]);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 5; j++) {
      const want = i >= 1 && j < 3 ? Math.fround(Math.min(0.5, Math.max(-0.5, x[(i - 1) * 3 + j]!))) : 0.25;
      assert.equal(y.data[i * 5 + j], want, `y[${i},${j}]`);
    }
  }
});

test('the old-opset real-export ops that did not change (Conv, Gemm, MaxPool, Flatten, Relu…) are kept as they are', () => {
  const m = parseModel(readFileSync(fixturePath('models/small_cnn_opset11.onnx')));
  const up = upgradeOpset(m);
  assert.deepEqual(ops(up), ops(m));
  assert.deepEqual(up.graph.nodes.map((n) => n.attrs), m.graph.nodes.map((n) => n.attrs));
});

// ---------- errors ----------

test('a node of an unsupported domain gives an error naming the op, its domain and the model', () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 3] }];
  const m = tinyModel(11, [{ ...node('FusedGemm', ['x'], ['y']), domain: 'com.microsoft' }], inputs, ['y']);
  m.opsets.set('com.microsoft', 1);
  assert.throws(() => upgradeOpset(m, 17, { source: 'model.onnx' }), /model\.onnx: op FusedGemm .*domain 'com\.microsoft' cannot be upgraded/);
});

test(`models older than opset ${MIN_SUPPORTED_OPSET} and targets beyond 17 give clear errors`, () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 3] }];
  const m = tinyModel(6, [node('Relu', ['x'], ['y'])], inputs, ['y']);
  assert.throws(() => upgradeOpset(m, 17, { source: 'old.onnx' }), /old\.onnx: opset 6 is older than 7/);
  const m2 = tinyModel(11, [node('Relu', ['x'], ['y'])], inputs, ['y']);
  assert.throws(() => upgradeOpset(m2, 18, { source: 'm.onnx' }), /m\.onnx: upgrading to opset 18/);
});

test('a changed op inside an If/Loop body gives an error instead of a silently wrong model', () => {
  const inputs: In[] = [{ name: 'x', dims: [2, 3] }];
  const body = { name: 'body', node: [{ opType: 'Softmax', name: 'inner_softmax', input: ['x'], output: ['z'] }] };
  const m = tinyModel(11, [node('If', ['cond'], ['y'], { then_branch: { type: 'graph', value: body }, else_branch: { type: 'graph', value: body } }, 'if1')], inputs, ['y']);
  assert.throws(() => upgradeOpset(m, 17, { source: 'if.onnx' }), /if\.onnx: op If \(node 'if1'\).*Softmax.*inner_softmax/);
});
