import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { parseModel, serializeModel } from '../../onnx/proto.js';
import type { Model } from '../../onnx/ir.js';
import { Rng } from '../../tensor/rng.js';
import { hasFixture, fixturePath } from '../../testing/paths.js';
import { densenet121, densenet169, mobilenetV2, resnet18, resnet34, smallCnn } from './index.js';

async function session(m: Model): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(serializeModel(m), { graphOptimizationLevel: 'all' });
}

function randomInput(shape: number[], seed = 0): ort.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new ort.Tensor('float32', new Rng(seed).fillNormal(new Float32Array(n)), shape);
}

async function logits(s: ort.InferenceSession, x: ort.Tensor): Promise<ort.Tensor> {
  const out = await s.run({ input: x });
  return out.logits!;
}

/** Runs batches of 1, 2 and 3 and checks the logits are finite, [N, K], and do not depend on the batch. */
async function checkRuns(m: Model, chw: [number, number, number], k: number): Promise<void> {
  const s = await session(m);
  try {
    const x3 = randomInput([3, ...chw], 1);
    const per = chw[0] * chw[1] * chw[2];
    const ys: Float32Array[] = [];
    for (const n of [1, 2, 3]) {
      const x = new ort.Tensor('float32', (x3.data as Float32Array).slice(0, n * per), [n, ...chw]);
      const y = await logits(s, x);
      assert.deepEqual(y.dims, [n, k]);
      const d = y.data as Float32Array;
      assert.ok(d.every(Number.isFinite), `non-finite logits at batch ${n}`);
      ys.push(d);
    }
    // the first image's logits agree across batch sizes; distinct images give distinct logits
    for (const d of ys) for (let j = 0; j < k; j++) assert.ok(Math.abs(d[j]! - ys[0]![j]!) <= 1e-4 * (1 + Math.abs(ys[0]![j]!)));
    assert.notDeepEqual(Array.from(ys[2]!.slice(0, k)), Array.from(ys[2]!.slice(k, 2 * k)));
  } finally {
    await s.release();
  }
}

test('resnet18 runs in onnxruntime at 3×64×64 with a symbolic batch', async () => {
  await checkRuns(resnet18({ numClasses: 2 }), [3, 64, 64], 2);
});

test('resnet34 runs in onnxruntime at 3×32×48 (any H, W)', async () => {
  await checkRuns(resnet34({ numClasses: 4 }), [3, 32, 48], 4);
});

test('densenet121 runs in onnxruntime at 3×64×64 with 2 classes', async () => {
  await checkRuns(densenet121({ numClasses: 2 }), [3, 64, 64], 2);
});

test('densenet169 runs in onnxruntime at 1×32×32', async () => {
  await checkRuns(densenet169({ numClasses: 3, inChannels: 1 }), [1, 32, 32], 3);
});

test('mobilenet_v2 runs in onnxruntime at 3×64×64, also at width 0.5', async () => {
  await checkRuns(mobilenetV2({ numClasses: 2 }), [3, 64, 64], 2);
  await checkRuns(mobilenetV2({ numClasses: 2, widthMult: 0.5 }), [3, 40, 56], 2);
});

test('small CNN runs in onnxruntime at 1×64×64', async () => {
  await checkRuns(smallCnn({ inChannels: 1, numClasses: 2 }), [1, 64, 64], 2);
});

test('a numeric inputSize is declared in the graph and enforced by onnxruntime', async () => {
  const s = await session(mobilenetV2({ inputSize: 32 }));
  try {
    assert.deepEqual((await logits(s, randomInput([2, 3, 32, 32]))).dims, [2, 2]);
    await assert.rejects(logits(s, randomInput([2, 3, 40, 40])));
  } finally {
    await s.release();
  }
});

test('dropout: inference mode is deterministic and equals no dropout; stochastic mode varies run to run', async () => {
  const x = randomInput([4, 3, 32, 32], 2);
  const none = await session(mobilenetV2({ seed: 1 }));
  const inf = await session(mobilenetV2({ seed: 1, dropout: 'inference' }));
  const sto = await session(mobilenetV2({ seed: 1, dropout: 'stochastic', dropoutRate: 0.5 }));
  try {
    const y0 = (await logits(none, x)).data as Float32Array;
    const y1 = (await logits(inf, x)).data as Float32Array;
    for (let i = 0; i < y0.length; i++) assert.ok(Math.abs(y0[i]! - y1[i]!) < 1e-5);
    const a = (await logits(sto, x)).data as Float32Array;
    const b = (await logits(sto, x)).data as Float32Array;
    assert.ok(a.every(Number.isFinite));
    assert.notDeepEqual(Array.from(a), Array.from(b));
  } finally {
    await Promise.all([none.release(), inf.release(), sto.release()]);
  }
});

function readNpy(path: string): { shape: number[]; data: Float32Array } {
  const buf = readFileSync(path);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString('latin1');
  assert.match(header, /'descr': '<f4'/);
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const bytes = buf.subarray(10 + headerLen);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { shape, data };
}

test('small CNN with the shared export\'s weights reproduces PyTorch\'s logits and features.8 activation',
  { skip: !hasFixture('models/golden/small_cnn_logits.npy') },
  async () => {
    const ref = parseModel(readFileSync(fixturePath('models/small_cnn_opset13.onnx')));
    const m = smallCnn({ inChannels: 1, batchNorm: false });
    const conv0 = ref.graph.nodes.find((n) => n.name === '/features/features.0/Conv')!;
    const rename = new Map([[conv0.inputs[1]!, 'features.0.weight'], [conv0.inputs[2]!, 'features.0.bias']]);
    for (const t of ref.graph.initializers.values()) {
      const name = rename.get(t.name) ?? t.name;
      assert.ok(m.graph.initializers.has(name), name);
      m.graph.initializers.set(name, { ...t, name });
    }
    m.graph.outputs.push({ name: '/features/features.8/Relu_output_0', elemType: 1, shape: ['batch', 64, 16, 16] });
    const input = readNpy(fixturePath('models/golden/small_cnn_input.npy'));
    const want = readNpy(fixturePath('models/golden/small_cnn_logits.npy'));
    const act = readNpy(fixturePath('models/golden/small_cnn_layer_activation.npy'));
    const s = await session(m);
    try {
      const out = await s.run({ input: new ort.Tensor('float32', input.data, input.shape) });
      const got = out.logits!.data as Float32Array;
      assert.deepEqual(out.logits!.dims, want.shape);
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - want.data[i]!) < 1e-4 * (1 + Math.abs(want.data[i]!)), `logit ${i}: ${got[i]} vs ${want.data[i]}`);
      const a = out['/features/features.8/Relu_output_0']!.data as Float32Array;
      let maxErr = 0;
      for (let i = 0; i < a.length; i++) maxErr = Math.max(maxErr, Math.abs(a[i]! - act.data[i]!));
      assert.ok(maxErr < 1e-4, `features.8 max error ${maxErr}`);
    } finally {
      await s.release();
    }
  });

test('stochastic dropout stays random at every onnxruntime optimisation level, and runs keep the batch symbolic', async () => {
  const m = serializeModel(smallCnn({ inChannels: 1, dropout: 'stochastic', dropoutRate: 0.5 }));
  const x = randomInput([3, 1, 64, 64], 5);
  for (const level of ['disabled', 'basic', 'extended', 'all'] as const) {
    const s = await ort.InferenceSession.create(m, { graphOptimizationLevel: level });
    try {
      const a = (await logits(s, x)).data as Float32Array;
      const b = (await logits(s, x)).data as Float32Array;
      assert.notDeepEqual(Array.from(a), Array.from(b), level);
      assert.deepEqual((await logits(s, randomInput([1, 1, 64, 64]))).dims, [1, 2]);
    } finally {
      await s.release();
    }
  }
});
