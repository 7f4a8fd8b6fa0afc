/**
 * Channels-last (Keras / tf2onnx) models: recognised, given a channels-first input, and explained
 * exactly as PyTorch autograd differentiates the original NHWC graph
 * (src/runtime/fixtures/nhwc_cnn.*, scripts/make-nhwc-fixture.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { readNpzFileSync } from '../io/files.js';
import { loadModel } from '../runtime/node.js';
import { parseModel } from './proto.js';
import { isChannelsLast } from './channels-last.js';
import { relativeError } from '../testing/gradcheck.js';
import { gradCam } from '../explain/cam/gradcam.js';
import { saliency } from '../explain/saliency.js';
import { Tensor } from '../tensor/tensor.js';
import { buildArchitecture } from '../train/arch/index.js';

const fixture = (f: string) => fileURLToPath(new URL(`../runtime/fixtures/${f}`, import.meta.url));
const golden = readNpzFileSync(fixture('nhwc_cnn_golden.npz')) as Map<string, Tensor>;

/** [N, H, W, C] → [N, C, H, W] */
function toNchw(t: Tensor): Tensor {
  const [n, h, w, c] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((i * c + k) * h + y) * w + x] = t.data[((i * h + y) * w + x) * c + k]!;
  return new Tensor(out, [n, c, h, w]);
}

test('a tf2onnx-style NHWC input (Rescaling on NHWC, then Transpose 0,3,1,2) is channels-last; NCHW models are not', () => {
  const nhwc = parseModel(readFileSync(fixture('nhwc_cnn.onnx')));
  assert.equal(isChannelsLast(nhwc.graph, 'input_1'), true);
  const nchw = buildArchitecture('small-cnn', { inChannels: 1, numClasses: 2, inputSize: 64 });
  assert.equal(isChannelsLast(nchw.graph, 'input'), false);
  // An [N, H, W, C]-shaped input that is not transposed to NCHW (a Conv reads it directly) is left alone.
  const odd = parseModel(readFileSync(fixture('nhwc_cnn.onnx')));
  odd.graph.nodes = odd.graph.nodes.filter((n) => n.opType !== 'Transpose');
  const conv = odd.graph.nodes.find((n) => n.opType === 'Conv')!;
  conv.inputs[0] = odd.graph.nodes.find((n) => n.opType === 'Sub')!.outputs[0]!;
  assert.equal(isChannelsLast(odd.graph, 'input_1'), false);
  // A Shape of the NHWC input (tf2onnx's dynamic reshapes) does not stop the detection.
  const shaped = parseModel(readFileSync(fixture('nhwc_cnn.onnx')));
  shaped.graph.nodes.push({ opType: 'Shape', domain: '', name: 'shape_of_input', inputs: ['input_1'], outputs: ['input_shape'], attrs: {} });
  assert.equal(isChannelsLast(shaped.graph, 'input_1'), true);
});

test('an NHWC model takes [N, C, H, W] images and matches PyTorch: logits, input gradient, conv activation and gradient', async (t) => {
  const model = loadModel(fixture('nhwc_cnn.onnx'));
  assert.equal(model.channelsLast, true);
  assert.equal(model.outputActivation, 'softmax'); // the logits are the Softmax's input (./output-head.test.ts)
  assert.deepEqual(model.inputShape.slice(1), [1, 32, 32]);
  const x = toNchw(golden.get('input')!);
  const n = x.shape[0]!;
  const layer = model.resolveLayer();
  const r = await model.vjp(x, { seed: model.oneHot(Array(n).fill(1)), layers: [layer] });
  const errs = {
    logits: relativeError(r.logits.data, golden.get('logits')!.data as Float32Array),
    inputGrad: relativeError(r.inputGrad!.data, toNchw(golden.get('grad_input_class1')!).data as Float32Array),
    activation: relativeError(r.activations.get(layer)!.data, golden.get('layer_activation')!.data as Float32Array),
    layerGrad: relativeError(r.layerGrads.get(layer)!.data, golden.get('layer_grad_class1')!.data as Float32Array),
  };
  t.diagnostic(`layer ${layer}: ${JSON.stringify(errs)}`);
  for (const [k, e] of Object.entries(errs)) assert.ok(e < 1e-5, `${k}: relative error ${e}`);
  // The explainers see an ordinary NCHW model: maps are [N, H, W] over the image.
  const s = await saliency(model, x, 1);
  assert.deepEqual(s.map.shape, [n, 32, 32]);
  const cam = await gradCam(model, x, 1, {});
  assert.deepEqual(cam.map.shape, [n, 32, 32]);
  await model.dispose();
});

test("inputLayout 'nchw' keeps the file's input (and then NCHW images are refused with the expected shape)", async () => {
  const model = loadModel(fixture('nhwc_cnn.onnx'), { inputLayout: 'nchw' });
  assert.equal(model.channelsLast, false);
  await assert.rejects(model.forward(toNchw(golden.get('input')!)), /expects|shape/);
  await model.dispose();
});
