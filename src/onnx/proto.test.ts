import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseModel, serializeModel } from './proto.js';
import { defaultOpset } from './ir.js';
import { fixturePath } from '../testing/paths.js';

test('parses a torch.onnx.export model: opset, inputs, initializers, nodes', () => {
  const m = parseModel(readFileSync(fixturePath('models/small_cnn_opset13.onnx')), { source: 'small_cnn' });
  assert.equal(defaultOpset(m), 13);
  assert.equal(m.graph.inputs[0]!.name, 'input');
  assert.ok(m.graph.nodes.some((n) => n.opType === 'Conv'));
  assert.ok(m.graph.initializers.size > 0);
  for (const t of m.graph.initializers.values()) {
    assert.equal(t.data.length, t.dims.reduce((a, b) => a * b, 1), t.name);
  }
});

test('serialize then parse gives back the same graph and weights', () => {
  const m = parseModel(readFileSync(fixturePath('models/tiny_resnet_opset17.onnx')));
  const m2 = parseModel(serializeModel(m));
  assert.equal(m2.graph.nodes.length, m.graph.nodes.length);
  assert.deepEqual(m2.graph.nodes.map((n) => n.opType), m.graph.nodes.map((n) => n.opType));
  assert.deepEqual(m2.graph.nodes.map((n) => n.attrs), m.graph.nodes.map((n) => n.attrs));
  for (const [k, t] of m.graph.initializers) assert.deepEqual(m2.graph.initializers.get(k)!.data, t.data, k);
  assert.deepEqual(m2.graph.inputs, m.graph.inputs);
});

test('garbage bytes give an error that names the source', () => {
  assert.throws(() => parseModel(new Uint8Array([1, 2, 3, 250, 251]), { source: 'x.onnx' }), /x\.onnx/);
});

test('an INT64_MAX attribute (Slice ends) survives a write and read', () => {
  const m = parseModel(readFileSync(fixturePath('models/small_cnn_opset13.onnx')));
  const node = m.graph.nodes[0]!;
  node.attrs['big'] = { type: 'int', value: 9223372036854775807 };
  node.attrs['bigs'] = { type: 'ints', value: [1, 9223372036854775807, -9223372036854775808] };
  const back = parseModel(serializeModel(m)).graph.nodes[0]!;
  assert.equal(back.attrs['big']!.value, 2 ** 63);
  assert.deepEqual(back.attrs['bigs']!.value, [1, 2 ** 63, -(2 ** 63)]);
});
