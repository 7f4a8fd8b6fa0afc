import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { A, DataType, type Model } from '../onnx/ir.js';
import { parseModel } from '../onnx/proto.js';
import { upgradeOpset } from '../onnx/opset-upgrade.js';
import { buildVjp, gradName } from './vjp.js';
import { gradCheck, opModel, randn, runOnnx } from '../testing/gradcheck.js';
import { fixturePath } from '../testing/paths.js';
import type { BackwardRule } from './rule.js';

test('an op without a backward rule is an error naming the op, the node and the model', () => {
  const m = opModel('Det', [{ name: 'x', shape: [2, 3, 3] }]);
  assert.throws(() => buildVjp(m, { wrt: ['x'], source: 'my-model.onnx' }), (e: Error) => {
    assert.match(e.message, /my-model\.onnx/);
    assert.match(e.message, /'Det'/);
    assert.match(e.message, /node 'Det'/);
    assert.match(e.message, /would be needed/);
    assert.match(e.message, /Ops with rules: .*Conv/);
    return true;
  });
});

test('an op of a custom domain is reported, not differentiated as if it were standard', () => {
  const m = opModel('Relu', [{ name: 'x', shape: [2, 3] }]);
  m.graph.nodes[0]!.domain = 'com.microsoft';
  assert.throws(() => buildVjp(m, { wrt: ['x'], source: 'ms.onnx' }), /of domain 'com\.microsoft'/);
});

test('asking for a tensor that does not exist names it', () => {
  const m = opModel('Relu', [{ name: 'x', shape: [2, 3] }]);
  assert.throws(() => buildVjp(m, { wrt: ['nope'], source: 'a.onnx' }), /a\.onnx: no tensor named 'nope'/);
});

test('a rule override replaces the default rule (Guided Backprop ReLU keeps only positive gradients)', async () => {
  const m = opModel('Relu', [{ name: 'x', shape: [1, 6] }]);
  const guided: BackwardRule = (c) => {
    const x = c.node.inputs[0]!;
    const pass = c.b.op('And', [c.b.op('Greater', [x, c.b.float(0)]), c.b.op('Greater', [c.dy[0]!, c.b.float(0)])]);
    return [c.b.op('Where', [pass, c.dy[0]!, c.b.float(0)])];
  };
  const x = new Float32Array([1, 2, -1, 3, -2, 4]);
  const seed = new Float32Array([1, -1, 1, 1, 1, -2]);
  const run = async (rules?: Record<string, BackwardRule>) => {
    const v = buildVjp(m, { wrt: ['x'], rules });
    const r = await runOnnx(v.model, { x: { data: x, shape: [1, 6] } as never, [v.seed]: { data: seed, shape: [1, 6] } as never });
    return Array.from(r[gradName('x')]!.data);
  };
  assert.deepEqual(await run(), [1, -1, 0, 1, 0, -2]);
  assert.deepEqual(await run({ Relu: guided }), [1, 0, 0, 1, 0, 0]);
});

test("torch's integer shape arithmetic (Shape→Gather→Unsqueeze→Concat→Reshape) passes through untouched", async () => {
  // x.view(x.size(0), -1) @ W, as torch.onnx.export writes it, with a symbolic batch.
  const model: Model = {
    irVersion: 8,
    opsets: new Map([['', 17]]),
    producerName: 't',
    producerVersion: '',
    passthrough: {},
    graph: {
      name: 'g',
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 2, 3, 3] }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['batch', 4] }],
      valueInfo: new Map(),
      initializers: new Map([
        ['w', { name: 'w', dataType: DataType.FLOAT, dims: [18, 4], data: randn([18, 4], 1).data }],
        ['zero', { name: 'zero', dataType: DataType.INT64, dims: [], data: new BigInt64Array([0n]) }],
        ['minus1', { name: 'minus1', dataType: DataType.INT64, dims: [1], data: new BigInt64Array([-1n]) }],
        ['ax0', { name: 'ax0', dataType: DataType.INT64, dims: [1], data: new BigInt64Array([0n]) }],
      ]),
      nodes: [
        { opType: 'Shape', domain: '', name: 'shape', inputs: ['x'], outputs: ['s'], attrs: {} },
        { opType: 'Gather', domain: '', name: 'gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: A.i(0) } },
        { opType: 'Unsqueeze', domain: '', name: 'unsq', inputs: ['n', 'ax0'], outputs: ['n1'], attrs: {} },
        { opType: 'Concat', domain: '', name: 'cat', inputs: ['n1', 'minus1'], outputs: ['target'], attrs: { axis: A.i(0) } },
        { opType: 'Reshape', domain: '', name: 'reshape', inputs: ['x', 'target'], outputs: ['flat'], attrs: {} },
        { opType: 'MatMul', domain: '', name: 'mm', inputs: ['flat', 'w'], outputs: ['y'], attrs: {} },
      ],
    },
  };
  const v = buildVjp(model, { wrt: ['x'] });
  const emitted = v.model.graph.nodes.slice(model.graph.nodes.length).map((n) => n.opType);
  assert.ok(!emitted.includes('Gather') && !emitted.includes('Concat'), `no backward nodes for the int subgraph: ${emitted}`);
  for (const batch of [1, 3]) {
    const [r] = await gradCheck(model, { feeds: { x: randn([batch, 2, 3, 3], batch) }, wrt: ['x'], eps: 0.5 });
    assert.ok(r!.relError < 1e-4, JSON.stringify(r));
  }
});

test('models below opset 17 must be upgraded first, and then differentiate', () => {
  const m = parseModel(readFileSync(fixturePath('models/small_cnn_opset11.onnx')), { source: 'cnn11.onnx' });
  assert.throws(() => buildVjp(m, { wrt: ['input'], source: 'cnn11.onnx' }), /cnn11\.onnx: opset 11 is below 17/);
  const v = buildVjp(upgradeOpset(m, 17), { wrt: ['input'], source: 'cnn11.onnx' });
  assert.ok(v.grads.has('input'));
});
