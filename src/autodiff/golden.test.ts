/**
 * The engine against PyTorch autograd: the goldens in the repository (src/testing/shared/models/golden, read through fixturePath) hold PyTorch's inputs, logits,
 * input gradients of logit 1, and the activation and gradient of the last conv stage
 * (features.8 for the small CNN, layer3 for the ResNet), for real torch.onnx.export files at
 * opset 11, 13 and 17 (the last with unfused BatchNormalization).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNpyFileSync as readNpyFile } from '../io/files.js';
import { loadModel } from '../runtime/node.js';
import { fixturePath } from '../testing/paths.js';
import { relativeError } from '../testing/gradcheck.js';
import type { Tensor } from '../tensor/tensor.js';

const cases = [
  { file: 'small_cnn_opset11.onnx', golden: 'small_cnn', layer: 'features.8' },
  { file: 'small_cnn_opset13.onnx', golden: 'small_cnn', layer: 'features.8' },
  { file: 'tiny_resnet_opset17.onnx', golden: 'tiny_resnet', layer: 'layer3' },
];

const TOL = 1e-4;

for (const c of cases) {
  test(`${c.file}: logits, input gradient and ${c.layer} activation/gradient match PyTorch autograd`, async (t) => {
    const g = (n: string) => readNpyFile(fixturePath(`models/golden/${c.golden}_${n}.npy`)) as Tensor;
    const x = g('input');
    const model = loadModel(fixturePath(`models/${c.file}`), { batchSize: 8 });
    const n = x.shape[0]!;
    const r = await model.vjp(x, { seed: model.oneHot(Array(n).fill(1)), layers: [c.layer] });
    const errLogits = relativeError(r.logits.data, g('logits').data as Float32Array);
    const errGrad = relativeError(r.inputGrad!.data, g('grad_input_class1').data as Float32Array);
    const act = r.activations.get(c.layer)!;
    const errAct = relativeError(act.data, g('layer_activation').data as Float32Array);
    const errLayerGrad = relativeError(r.layerGrads.get(c.layer)!.data, g('layer_grad_class1').data as Float32Array);
    assert.deepEqual(r.inputGrad!.shape, x.shape);
    assert.deepEqual(act.shape, g('layer_activation').shape);
    const msg = `logits ${errLogits.toExponential(2)}, grad ${errGrad.toExponential(2)}, act ${errAct.toExponential(2)}, layer grad ${errLayerGrad.toExponential(2)}`;
    t.diagnostic(msg);
    assert.ok(errLogits <= TOL, msg);
    assert.ok(errGrad <= TOL, msg);
    assert.ok(errAct <= TOL, msg);
    assert.ok(errLayerGrad <= TOL, msg);
    // forward() agrees with the VJP graph's logits (onnxruntime may fuse differently: float32 rounding)
    const logits = await model.forward(x);
    assert.ok(relativeError(logits.data, r.logits.data) <= 1e-5);
    await model.dispose();
  });
}
