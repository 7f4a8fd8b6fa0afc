/**
 * Output heads: a final Softmax is removed, a sigmoid unit or a raw single logit becomes two logits
 * [−z/2, z/2]; candor's probabilities then equal the file's (PyTorch's) probabilities, and the
 * explained logits and their gradients are PyTorch's (src/runtime/fixtures, scripts/make-nhwc-fixture.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readNpzFileSync } from '../io/files.js';
import { loadModel, modelFromBytes } from '../runtime/node.js';
import { relativeError } from '../testing/gradcheck.js';
import { softmax } from '../train/metrics.js';
import { serializeModel } from './proto.js';
import { Tensor } from '../tensor/tensor.js';
import { buildArchitecture } from '../train/arch/index.js';
import { DataType } from './ir.js';

const fixture = (f: string) => fileURLToPath(new URL(`../runtime/fixtures/${f}`, import.meta.url));

/** [N, H, W, C] → [N, C, H, W] for C = 1 */
const nchw = (t: Tensor) => new Tensor(t.data as Float32Array, [t.shape[0]!, 1, t.shape[1]!, t.shape[2]!]);

for (const [name, activation] of [['nhwc_cnn', 'softmax'], ['nhwc_binary', 'sigmoid']] as const) {
  test(`a Keras-style ${activation} head: logits and their input gradient are PyTorch's, softmax(logits) is the file's output`, async (t) => {
    const golden = readNpzFileSync(fixture(`${name}_golden.npz`)) as Map<string, Tensor>;
    const model = loadModel(fixture(`${name}.onnx`));
    assert.equal(model.outputActivation, activation);
    assert.equal(model.numClasses, 2);
    const x = nchw(golden.get('input')!);
    const n = x.shape[0]!;
    const r = await model.vjp(x, { seed: model.oneHot(Array(n).fill(1)) });
    const z = golden.get('logits')!.data as Float32Array;
    const probs = softmax(r.logits.data, 2);
    const p = golden.get('probabilities')!.data as Float32Array;
    const g = golden.get('grad_input_class1')!.data as Float32Array;
    // Binary: logits [−z/2, z/2], probabilities [1 − σ(z), σ(z)], and the class-1 logit's gradient is half of z's.
    const binary = activation === 'sigmoid';
    const wantLogits = binary ? Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 ? 0.5 : -0.5) * z[i >> 1]!) : z;
    const wantProbs = binary ? Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 ? p[i >> 1]! : 1 - p[i >> 1]!)) : p;
    const wantGrad = binary ? g.map((v) => v / 2) : g;
    const errs = {
      logits: relativeError(r.logits.data, wantLogits),
      probabilities: relativeError(probs, wantProbs),
      inputGrad: relativeError(r.inputGrad!.data, wantGrad),
    };
    t.diagnostic(JSON.stringify(errs));
    for (const [k, e] of Object.entries(errs)) assert.ok(e < 1e-5, `${k}: relative error ${e}`);
    await model.dispose();
  });
}

test("outputHead 'keep' leaves the file's output; a raw single logit becomes two; a plain logits model is untouched", async () => {
  const kept = loadModel(fixture('nhwc_cnn.onnx'), { outputHead: 'keep' });
  const x = new Tensor(new Float32Array(2 * 32 * 32).fill(100), [2, 1, 32, 32]);
  const p = (await kept.forward(x)).data;
  assert.ok(Math.abs(p[0]! + p[1]! - 1) < 1e-6, 'the kept output is the softmax');
  assert.equal(kept.outputActivation, 'softmax');
  await kept.dispose();

  const plain = buildArchitecture('small-cnn', { inChannels: 1, numClasses: 2, inputSize: 64, seed: 1 });
  const m = modelFromBytes(serializeModel(plain));
  assert.equal(m.outputActivation, 'none');
  assert.equal(m.ir.graph.nodes.length, plain.graph.nodes.length);

  // One raw output: the small CNN's logit difference z = l1 − l0 as the only output.
  const single = buildArchitecture('small-cnn', { inChannels: 1, numClasses: 2, inputSize: 64, seed: 1 });
  const g = single.graph;
  const out = g.outputs[0]!.name;
  const renamed = `${out}_two`;
  for (const n of g.nodes) n.outputs = n.outputs.map((o) => (o === out ? renamed : o));
  g.initializers.set('diff', { name: 'diff', dataType: DataType.FLOAT, dims: [2, 1], data: new Float32Array([-1, 1]) });
  g.nodes.push({ opType: 'MatMul', domain: '', name: 'to_single', inputs: [renamed, 'diff'], outputs: [out], attrs: {} });
  g.outputs[0] = { ...g.outputs[0]!, shape: ['batch', 1] };
  const s = modelFromBytes(serializeModel(single));
  assert.equal(s.outputActivation, 'single-logit');
  assert.equal(s.numClasses, 2);
  const img = new Tensor(Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i)), [3, 1, 64, 64]);
  const two = await m.forward(img);
  const got = await s.forward(img);
  for (let i = 0; i < 3; i++) {
    const zi = two.data[2 * i + 1]! - two.data[2 * i]!;
    assert.ok(Math.abs(got.data[2 * i + 1]! - zi / 2) < 1e-5 && Math.abs(got.data[2 * i]! + zi / 2) < 1e-5, `image ${i}`);
  }
  await m.dispose();
  await s.dispose();
});
