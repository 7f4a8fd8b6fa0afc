import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseModel } from '../../onnx/proto.js';
import type { Model, TensorData } from '../../onnx/ir.js';
import { hasFixture, fixturePath } from '../../testing/paths.js';
import {
  ARCHITECTURES,
  NetBuilder,
  buildArchitecture,
  countParameters,
  densenet121,
  makeDivisible,
  mobilenetV2,
  resnet18,
  smallCnn,
  moduleScope,
  unqualifiedName,
} from './index.js';

function init(m: Model, name: string): TensorData {
  const t = m.graph.initializers.get(name);
  assert.ok(t, `initializer ${name} missing`);
  return t;
}

function stats(a: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0, min = Infinity, max = -Infinity;
  for (const x of a) { s += x; if (x < min) min = x; if (x > max) max = x; }
  const mean = s / a.length;
  let v = 0;
  for (const x of a) v += (x - mean) ** 2;
  return { mean, std: Math.sqrt(v / a.length), min, max };
}

test('parameter counts equal torchvision\'s published counts at 1000 classes', () => {
  const published: Record<string, number> = {
    resnet18: 11_689_512,
    resnet34: 21_797_672,
    densenet121: 7_978_856,
    densenet169: 14_149_480,
    mobilenet_v2: 3_504_872,
  };
  for (const [name, expected] of Object.entries(published)) {
    const m = buildArchitecture(name, { numClasses: 1000, inChannels: 3 });
    assert.equal(countParameters(m), expected, name);
  }
});

test('every model declares input [batch, C, H, W] (volume models [batch, C, D, H, W]) and output logits [batch, K] at opset 17, IR 8, producer candor', () => {
  for (const [name, build] of Object.entries(ARCHITECTURES)) {
    const m = build({ inChannels: 1, numClasses: 5 });
    assert.equal(m.opsets.get(''), 17, name);
    assert.equal(m.irVersion, 8, name);
    assert.equal(m.producerName, 'candor', name);
    assert.equal(m.graph.inputs.length, 1);
    assert.equal(m.graph.inputs[0]!.name, 'input');
    const shape = m.graph.inputs[0]!.shape!;
    assert.deepEqual(shape.slice(0, 2), ['batch', 1], name);
    if (name === 'small_cnn') assert.deepEqual(shape.slice(2), [64, 64]);
    else if (name.includes('3d')) assert.deepEqual(shape.slice(2), ['depth', 'height', 'width'], name);
    else assert.deepEqual(shape.slice(2), ['height', 'width'], name);
    assert.deepEqual(m.graph.outputs, [{ name: 'logits', elemType: 1, shape: ['batch', 5] }], name);
    assert.ok(m.graph.nodes.some((n) => n.outputs.includes('logits')), name);
  }
  assert.deepEqual(resnet18({ inputSize: [96, 128] }).graph.inputs[0]!.shape, ['batch', 3, 96, 128]);
  assert.deepEqual(ARCHITECTURES['r3d_18']!({ inputShape3d: [16, 32, 32] } as never).graph.inputs[0]!.shape, ['batch', 1, 16, 32, 32]);
});

test('small CNN has the initializer names and shapes of the shared torch export (folded BN aside)', { skip: !hasFixture('models/small_cnn_opset13.onnx') }, () => {
  const ref = parseModel(readFileSync(fixturePath('models/small_cnn_opset13.onnx')));
  const refShapes = new Map([...ref.graph.initializers.values()].map((t) => [t.name, t.dims]));
  // the export folded features.1 (BatchNorm) into features.0, whose tensors lost their names
  const conv0 = ref.graph.nodes.find((n) => n.name === '/features/features.0/Conv')!;
  refShapes.set('features.0.weight', refShapes.get(conv0.inputs[1]!)!);
  refShapes.set('features.0.bias', refShapes.get(conv0.inputs[2]!)!);
  refShapes.delete(conv0.inputs[1]!);
  refShapes.delete(conv0.inputs[2]!);

  const plain = smallCnn({ inChannels: 1, batchNorm: false });
  assert.deepEqual(new Map([...plain.graph.initializers.values()].map((t) => [t.name, t.dims])), refShapes);
  // node names, op types and graph wiring are those of the export
  assert.deepEqual(plain.graph.nodes.map((n) => [n.name, n.opType, n.outputs]), ref.graph.nodes.map((n) => [n.name, n.opType, n.outputs]));
  assert.ok(plain.graph.nodes.some((n) => n.name.startsWith('/features/features.8/')));

  const withBn = smallCnn({ inChannels: 1 });
  for (const s of ['weight', 'bias', 'running_mean', 'running_var']) assert.deepEqual(init(withBn, `features.1.${s}`).dims, [16]);
  for (const [k, dims] of refShapes) assert.deepEqual(init(withBn, k).dims, dims, k);
  assert.ok(withBn.graph.nodes.some((n) => n.name === '/features/features.1/BatchNormalization'));
  assert.equal(countParameters(withBn), countParameters(plain) + 32);
});

test('small CNN: the Linear after Flatten is sized for the declared input', () => {
  const m = smallCnn({ inChannels: 1, inputSize: [48, 80], numClasses: 3 });
  assert.deepEqual(init(m, 'classifier.2.weight').dims, [64, 64 * 6 * 10]);
  assert.deepEqual(m.graph.inputs[0]!.shape, ['batch', 1, 48, 80]);
  assert.throws(() => smallCnn({ inputSize: 4 }), /at least 8/);
});

test('torchvision module paths: ResNet blocks, DenseNet layers, MobileNetV2 inverted residuals', () => {
  const r = resnet18();
  const names = new Set(r.graph.nodes.map((n) => n.name));
  for (const n of [
    '/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu', '/maxpool/MaxPool',
    '/layer1/layer1.0/relu/Relu', '/layer1/layer1.0/Add', '/layer1/layer1.0/relu_1/Relu',
    '/layer2/layer2.0/downsample/downsample.0/Conv', '/layer2/layer2.0/downsample/downsample.1/BatchNormalization',
    '/layer4/layer4.1/conv1/Conv', '/avgpool/GlobalAveragePool', '/Flatten', '/fc/Gemm',
  ]) assert.ok(names.has(n), n);
  assert.ok(r.graph.nodes.some((n) => n.outputs.includes('/layer4/layer4.1/relu_1/Relu_output_0')));
  for (const p of ['layer4.1.conv1.weight', 'layer4.1.bn1.running_mean', 'layer3.0.downsample.0.weight', 'layer3.0.downsample.1.running_var', 'fc.bias']) init(r, p);
  assert.ok(!r.graph.initializers.has('layer1.0.downsample.0.weight'), 'layer1.0 has no downsample');

  const d = densenet121();
  const dn = new Set(d.graph.nodes.map((n) => n.name));
  for (const n of [
    '/features/conv0/Conv', '/features/norm0/BatchNormalization', '/features/relu0/Relu', '/features/pool0/MaxPool',
    '/features/denseblock1/denselayer1/norm1/BatchNormalization', '/features/denseblock1/denselayer2/Concat',
    '/features/denseblock1/denselayer6/conv2/Conv', '/features/denseblock1/Concat',
    '/features/transition1/pool/AveragePool', '/features/transition3/conv/Conv', '/features/norm5/BatchNormalization',
    '/Relu', '/GlobalAveragePool', '/Flatten', '/classifier/Gemm',
  ]) assert.ok(dn.has(n), n);
  assert.deepEqual(init(d, 'features.denseblock2.denselayer12.conv1.weight').dims, [128, 128 + 11 * 32, 1, 1]);
  assert.deepEqual(init(d, 'features.transition1.conv.weight').dims, [128, 256, 1, 1]);
  assert.deepEqual(init(d, 'features.norm5.weight').dims, [1024]);
  assert.deepEqual(init(d, 'classifier.weight').dims, [2, 1024]);

  const mb = mobilenetV2();
  const mn = new Set(mb.graph.nodes.map((n) => n.name));
  for (const n of [
    '/features/features.0/features.0.0/Conv', '/features/features.0/features.0.2/Clip',
    '/features/features.1/conv/conv.0/conv.0.0/Conv', '/features/features.1/conv/conv.1/Conv',
    '/features/features.2/conv/conv.1/conv.1.0/Conv', '/features/features.2/conv/conv.3/BatchNormalization',
    '/features/features.3/Add', '/features/features.18/features.18.0/Conv', '/classifier/classifier.1/Gemm',
  ]) assert.ok(mn.has(n), n);
  assert.ok(!mn.has('/features/features.2/Add'), 'stride-2 block has no residual');
  const dw = mb.graph.nodes.find((n) => n.name === '/features/features.2/conv/conv.1/conv.1.0/Conv')!;
  assert.deepEqual(dw.attrs.group, { type: 'int', value: 96 });
  assert.deepEqual(init(mb, 'features.2.conv.1.0.weight').dims, [96, 1, 3, 3]);
  assert.deepEqual(init(mb, 'features.18.0.weight').dims, [1280, 320, 1, 1]);
  const clip = mb.graph.nodes.find((n) => n.opType === 'Clip')!;
  const consts = clip.inputs.slice(1).map((i) => mb.graph.nodes.find((n) => n.outputs[0] === i)!);
  assert.deepEqual(consts.map((c) => c.opType), ['Constant', 'Constant']);
  assert.deepEqual(consts.map((c) => (c.attrs.value!.value as TensorData).data[0]), [0, 6]);
});

test('MobileNetV2 width multiplier rounds channels as torchvision does', () => {
  assert.equal(makeDivisible(32 * 0.5, 8), 16);
  assert.equal(makeDivisible(24 * 0.75, 8), 24);
  assert.equal(makeDivisible(16 * 0.35, 8), 8);
  assert.equal(makeDivisible(1280 * 1.4, 8), 1792);
  const half = mobilenetV2({ widthMult: 0.5, numClasses: 1000 });
  assert.deepEqual(init(half, 'features.0.0.weight').dims, [16, 3, 3, 3]);
  assert.deepEqual(init(half, 'features.18.0.weight').dims, [1280, 160, 1, 1]);
  const wide = mobilenetV2({ widthMult: 1.4 });
  assert.deepEqual(init(wide, 'classifier.1.weight').dims, [2, 1792]);
});

test('weights follow torchvision\'s initialisers and BatchNorm starts as identity', () => {
  const r = resnet18({ numClasses: 10 });
  // kaiming_normal_(fan_out, relu): std = √(2 / (out·k·k))
  const w = stats(init(r, 'layer3.0.conv2.weight').data as Float32Array);
  assert.ok(Math.abs(w.std / Math.sqrt(2 / (256 * 9)) - 1) < 0.02, `std ${w.std}`);
  assert.ok(Math.abs(w.mean) < 0.002);
  // nn.Linear default: U(±1/√fan_in) for weight and bias
  for (const p of ['fc.weight', 'fc.bias']) {
    const s = stats(init(r, p).data as Float32Array);
    assert.ok(s.max <= 1 / Math.sqrt(512) && s.min >= -1 / Math.sqrt(512), p);
  }
  assert.ok(stats(init(r, 'fc.weight').data as Float32Array).max > 0.9 / Math.sqrt(512));
  assert.deepEqual([...init(r, 'layer2.0.bn1.weight').data].slice(0, 3), [1, 1, 1]);
  assert.ok((init(r, 'layer2.0.bn1.bias').data as Float32Array).every((x) => x === 0));
  assert.ok((init(r, 'layer2.0.bn1.running_mean').data as Float32Array).every((x) => x === 0));
  assert.ok((init(r, 'layer2.0.bn1.running_var').data as Float32Array).every((x) => x === 1));

  const d = densenet121({ numClasses: 10 });
  // kaiming_normal_ default (fan_in): std = √(2 / (in·k·k)); classifier bias 0
  const dw = stats(init(d, 'features.denseblock3.denselayer1.conv1.weight').data as Float32Array);
  assert.ok(Math.abs(dw.std / Math.sqrt(2 / 256) - 1) < 0.03, `std ${dw.std}`);
  assert.ok((init(d, 'classifier.bias').data as Float32Array).every((x) => x === 0));
  assert.ok(stats(init(d, 'classifier.weight').data as Float32Array).max <= 1 / Math.sqrt(1024));

  const mb = mobilenetV2({ numClasses: 100 });
  const lw = stats(init(mb, 'classifier.1.weight').data as Float32Array);
  assert.ok(Math.abs(lw.std / 0.01 - 1) < 0.03, `std ${lw.std}`);
  assert.ok((init(mb, 'classifier.1.bias').data as Float32Array).every((x) => x === 0));
  // depthwise: fan_out = out·k·k / … torch uses size(0)·receptive = 960·9 for [960,1,3,3]
  const dws = stats(init(mb, 'features.16.conv.1.0.weight').data as Float32Array);
  assert.ok(Math.abs(dws.std / Math.sqrt(2 / (960 * 9)) - 1) < 0.05, `std ${dws.std}`);

  const s = smallCnn({ inChannels: 1 });
  const c0 = stats(init(s, 'features.0.weight').data as Float32Array);
  assert.ok(c0.max <= 1 / 3 && c0.min >= -1 / 3);
  const b4 = stats(init(s, 'features.4.bias').data as Float32Array);
  assert.ok(b4.max <= 1 / Math.sqrt(144) && b4.min >= -1 / Math.sqrt(144));
});

test('weights are determined by the seed and by each parameter\'s own name', () => {
  const a = mobilenetV2({ seed: 3 }), b = mobilenetV2({ seed: 3 }), c = mobilenetV2({ seed: 4 });
  for (const [k, t] of a.graph.initializers) assert.deepEqual(b.graph.initializers.get(k)!.data, t.data, k);
  assert.notDeepEqual(init(c, 'features.5.conv.0.0.weight').data, init(a, 'features.5.conv.0.0.weight').data);
  // changing the head does not change the body
  const k10 = mobilenetV2({ seed: 3, numClasses: 10 });
  assert.deepEqual(init(k10, 'features.5.conv.0.0.weight').data, init(a, 'features.5.conv.0.0.weight').data);
  // the same layer gets different weights from different names
  assert.notDeepEqual(init(a, 'features.5.conv.2.weight').data.slice(0, 10), init(a, 'features.6.conv.2.weight').data.slice(0, 10));
});

test('dropout modes: none writes nothing, inference and stochastic write a Dropout node', () => {
  const count = (m: Model) => m.graph.nodes.filter((n) => n.opType === 'Dropout').length;
  assert.equal(count(smallCnn({ inChannels: 1 })), 0);
  assert.equal(count(smallCnn({ inChannels: 1, dropout: 'inference' })), 1);
  const st = smallCnn({ inChannels: 1, dropout: 'stochastic', dropoutRate: 0.3 });
  const node = st.graph.nodes.find((n) => n.opType === 'Dropout')!;
  assert.equal(node.name, '/classifier/classifier.1/Dropout');
  assert.equal(node.inputs.length, 3);
  assert.equal(node.outputs.length, 2, 'the mask output is kept (and consumed) so onnxruntime cannot drop the node');
  const last = st.graph.nodes.filter((n) => n.name.startsWith('/classifier/classifier.1/')).at(-1)!;
  assert.equal(last.opType, 'Mul');
  assert.ok(st.graph.nodes.find((n) => n.name === '/classifier/classifier.2/Gemm')!.inputs.includes(last.outputs[0]!));
  const [ratio, mode] = node.inputs.slice(1).map((i) => st.graph.nodes.find((n) => n.outputs[0] === i)!.attrs.value!.value as TensorData);
  assert.ok(Math.abs(ratio!.data[0] as number - 0.3) < 1e-7);
  assert.equal(mode!.dataType, 9);
  assert.equal(mode!.data[0], 1);
  assert.equal(count(mobilenetV2({ dropout: 'stochastic' })), 1);
  assert.equal(count(resnet18()), 0);
  assert.equal(count(resnet18({ dropout: 'stochastic' })), 1);
  assert.equal(count(densenet121({ dropout: 'inference' })), 1);
  assert.equal(count(densenet121({ dropout: 'inference', dropRate: 0.1 })), 1 + 58);
});

test('buildArchitecture accepts aliases and lists valid names on error', () => {
  assert.equal(countParameters(buildArchitecture('MobileNetV2')), countParameters(buildArchitecture('mobilenet_v2')));
  assert.ok(buildArchitecture('small-cnn', { inChannels: 1 }).graph.nodes.length > 0);
  assert.throws(() => buildArchitecture('vgg16'), (e: Error) =>
    /unknown architecture 'vgg16'/.test(e.message) && ['resnet18', 'resnet34', 'densenet121', 'densenet169', 'mobilenet_v2', 'small_cnn'].every((n) => e.message.includes(n)));
  assert.throws(() => resnet18({ numClasses: 0 }), /numClasses/);
});

test('NetBuilder names scopes, repeated module calls and repeated ops as torch.onnx.export does', () => {
  assert.equal(unqualifiedName('layer4.1.conv1'), 'conv1');
  assert.equal(unqualifiedName('layer4.1'), 'layer4.1');
  assert.equal(unqualifiedName('features.0.0'), 'features.0.0');
  assert.equal(unqualifiedName('features.1.conv.0.0'), 'conv.0.0');
  assert.equal(unqualifiedName('features.denseblock1.denselayer1.norm1'), 'norm1');

  assert.equal(moduleScope('layer4.1.conv1'), '/layer4/layer4.1/conv1');
  assert.equal(moduleScope('features.1.conv.0.0'), '/features/features.1/conv/conv.0/conv.0.0');
  assert.equal(moduleScope('features.denseblock1.denselayer1'), '/features/denseblock1/denselayer1');
  assert.equal(moduleScope(''), '');
  for (const m of [resnet18(), mobilenetV2(), densenet121()]) {
    for (const n of m.graph.nodes) {
      if (n.opType !== 'Conv') continue;
      const weight = n.inputs[1]!.replace(/\.weight$/, '');
      assert.equal(n.name, `${moduleScope(weight)}/Conv`);
    }
  }

  const nb = new NetBuilder();
  const x = nb.input('input', ['batch', 4, 8, 8]);
  let y = nb.module('block', () => {
    let t = nb.relu(x, 'act');
    t = nb.relu(t); // functional, in block's scope
    t = nb.relu(t); // again: Relu_1
    return nb.relu(t, 'act'); // the same module again: act_1
  });
  y = nb.conv2d(y, 'head', { outChannels: 2, kernel: 1 });
  assert.deepEqual(nb.graph.nodes.map((n) => n.name), ['/block/act/Relu', '/block/Relu', '/block/Relu_1', '/block/act_1/Relu', '/head/Conv']);
  assert.deepEqual(nb.graph.nodes[3]!.outputs, ['/block/act_1/Relu_output_0']);
  assert.deepEqual(init(nb.build(), 'head.weight').dims, [2, 4, 1, 1]);
  assert.equal(nb.channelsOf(y), 2);
  nb.output(y, 'out', ['batch', 2, 8, 8]);
  assert.deepEqual(nb.graph.nodes[4]!.outputs, ['out']);
});
