import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, modelFromBytes } from './node.js';
import { fixturePath } from '../testing/paths.js';
import { randn, relativeError } from '../testing/gradcheck.js';
import { serializeModel } from '../onnx/proto.js';
import { buildArchitecture } from '../train/arch/index.js';

const CNN = fixturePath('models/small_cnn_opset13.onnx');

test('forward and vjp give the same answers whatever the batch size', async () => {
  const x = randn([5, 1, 64, 64], 2);
  const big = loadModel(CNN, { batchSize: 64 });
  const small = loadModel(CNN, { batchSize: 2 });
  const seed = big.oneHot([0, 1, 1, 0, 1]);
  const a = await big.vjp(x, { seed, layers: ['features.8'] });
  const b = await small.vjp(x, { seed, layers: ['features.8'] });
  assert.ok(relativeError(b.inputGrad!.data, a.inputGrad!.data) < 1e-6);
  assert.ok(relativeError(b.layerGrads.get('features.8')!.data, a.layerGrads.get('features.8')!.data) < 1e-6);
  assert.ok(relativeError((await small.forward(x)).data, (await big.forward(x)).data) < 1e-6);
  await big.dispose();
  await small.dispose();
});

test('layers resolve by module path, tensor name and automatically', () => {
  const m = loadModel(CNN);
  assert.equal(m.resolveLayer('features.8'), '/features/features.8/Relu_output_0');
  assert.equal(m.resolveLayer('/features/features.8/Relu_output_0'), '/features/features.8/Relu_output_0');
  // automatic: the last 4-D activation before flatten
  assert.equal(m.resolveLayer(), '/features/features.9/MaxPool_output_0');
  const r = buildArchitecture('resnet18', { numClasses: 2 });
  const rm = modelFromBytes(serializeModel(r), { source: 'resnet18' });
  assert.equal(rm.resolveLayer('layer4'), rm.resolveLayer('layer4.1'));
  assert.match(rm.resolveLayer('layer4'), /^\/layer4\/layer4\.1\/relu_1\/Relu_output_0$/);
  assert.equal(rm.resolveLayer(), rm.resolveLayer('layer4'));
});

test('an unknown layer lists the layers that exist', () => {
  const m = loadModel(CNN);
  assert.throws(() => m.resolveLayer('features.99'), /no layer 'features\.99'.*features\.8/);
});

test('wrong input shape, wrong seed shape and out-of-range targets are clear errors', async () => {
  const m = loadModel(CNN);
  await assert.rejects(m.forward(randn([1, 3, 64, 64], 1)), /expects .*dim 1 should be 1/);
  await assert.rejects(m.forward(randn([1, 1, 32, 32], 1)), /dim 2 should be 64/);
  assert.throws(() => m.oneHot([2]), /target 2 is out of range \(the model has 2 classes: 0\.\.1\)/);
  await assert.rejects(m.vjp(randn([2, 1, 64, 64], 1), { seed: m.oneHot([1]) }), /seed has shape \[1,2\], expected \[2, 2\]/);
});

test('a missing model file is named', () => {
  assert.throws(() => loadModel('/nonexistent/m.onnx'), /\/nonexistent\/m\.onnx: no such model file/);
});

test('a fully convolutional model with symbolic H×W is differentiated at the size given', async () => {
  const m = modelFromBytes(serializeModel(buildArchitecture('resnet18', { numClasses: 2, seed: 1 })));
  for (const hw of [32, 48]) {
    const x = randn([2, 3, hw, hw], hw);
    const r = await m.vjp(x, { seed: m.oneHot([0, 1]) });
    assert.deepEqual(r.inputGrad!.shape, [2, 3, hw, hw]);
  }
});
