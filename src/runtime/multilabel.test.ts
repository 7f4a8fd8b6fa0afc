/**
 * Multi-label heads (scripts/make-multilabel-fixture.py: a PyTorch CNN exported with one sigmoid per label):
 * recognised and said so, the sigmoid removed so each label's logit is explained, probabilities σ(z_k),
 * and each label's input gradient equal to float64 autograd's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readNpzFileSync } from '../io/files.js';
import { loadModel } from './node.js';
import { repoRoot } from '../testing/paths.js';
import { relativeError } from '../testing/gradcheck.js';
import { Tensor } from '../tensor/tensor.js';

const FIX = join(repoRoot, 'src/runtime/fixtures');

test('a head of K sigmoids is read as multi-label: logits z_k, probabilities σ(z_k), per-label gradients as float64 autograd', async () => {
  const model = loadModel(join(FIX, 'multilabel_cnn.onnx'));
  assert.equal(model.multiLabel, true);
  assert.equal(model.outputActivation, 'sigmoid-multilabel');
  assert.equal(model.numClasses, 4);
  assert.match(model.adaptations().join(' '), /4 independent sigmoids \(multi-label\).*σ\(z_k\)/);
  const g = readNpzFileSync(join(FIX, 'multilabel_cnn_golden.npz'));
  const x = g.get('input') as Tensor;
  const want = g.get('logits')!.data as Float64Array;
  const logits = await model.forward(x);
  assert.ok(relativeError(logits.data, want) < 1e-5, `logits ${relativeError(logits.data, want)}`);
  const p = model.probabilities(logits);
  p.data.forEach((v, i) => assert.ok(Math.abs(v - 1 / (1 + Math.exp(-want[i]!))) < 1e-5));
  const grads = g.get('grad_input')!;
  const per = x.data.length;
  for (let k = 0; k < 4; k++) {
    const r = await model.vjp(x, { seed: model.oneHot(Array(4).fill(k)) });
    const err = relativeError(r.inputGrad!.data, (grads.data as Float64Array).subarray(k * per, (k + 1) * per));
    assert.ok(err < 1e-4, `label ${k}: ${err}`);
  }
  await model.dispose();
});

test("a card's task says multi-label for a raw-logit head; task 'single' on a sigmoid head is refused", async () => {
  assert.throws(() => loadModel(join(FIX, 'multilabel_cnn.onnx'), { task: 'single' }), /4 independent sigmoids \(multi-label\)/);
  const raw = loadModel(join(repoRoot, 'models/reference/small_cnn_opset13.onnx'), { task: 'multilabel' });
  assert.equal(raw.multiLabel, true);
  assert.match(raw.adaptations().join(' '), /read as multi-label/);
  const p = raw.probabilities(new Tensor(new Float32Array([0, 2]), [1, 2]));
  assert.ok(Math.abs(p.data[0]! - 0.5) < 1e-7 && Math.abs(p.data[1]! - 1 / (1 + Math.exp(-2))) < 1e-7);
  await raw.dispose();
});
