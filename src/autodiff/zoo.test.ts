/**
 * The model zoo (scripts/make-zoo.py): real torch.onnx.export files of ViT, DeiT, Swin, ConvNeXt,
 * EfficientNet, RegNet, ShuffleNet, SqueezeNet, MobileNet-V3, Inception, ResNet-50, DenseNet, a 3-D CNN
 * and a Keras-shaped channels-last net, against float64 PyTorch autograd, per image.
 *
 * Weight gradients (of the parameters the export keeps by name) are checked too, summed over the batch.
 * An image passes at relative error ≤ 1e-4; an image at a kink (float64 autograd's own gradient moves
 * under a few-ulp input change) may differ from float64 by at most twice what float32 autograd does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpzFileSync } from '../io/files.js';
import { loadModel } from '../runtime/node.js';
import { repoRoot } from '../testing/paths.js';
import { relativeError } from '../testing/gradcheck.js';
import { Tensor } from '../tensor/tensor.js';

export const ZOO_DIR = process.env.CANDOR_ZOO ?? join(repoRoot, 'src/autodiff/fixtures/zoo');
const TOL = 1e-4;

interface Entry {
  file: string;
  opset: number;
  layer: string;
  input: number[];
}

const index = JSON.parse(readFileSync(join(ZOO_DIR, 'zoo.json'), 'utf8')) as Record<string, Entry>;

/** NHWC → NCHW (the Keras-shaped model is fed channels-first by candor). */
function toNchw(t: Tensor): Tensor {
  const [n, h, w, c] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    out[((i * c + k) * h + y) * w + x] = t.data[((i * h + y) * w + x) * c + k]!;
  }
  return new Tensor(out, [n, c, h, w]);
}

function perImage(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number[] {
  const m = a.length / n;
  return Array.from({ length: n }, (_, i) => relativeError(Array.from({ length: m }, (_, k) => a[i * m + k]!), Array.from({ length: m }, (_, k) => b[i * m + k]!)));
}

for (const [name, e] of Object.entries(index)) {
  test(`zoo ${name} (opset ${e.opset}): logits, input gradient and ${e.layer} activation/gradient equal float64 autograd per image`, async (t) => {
    const g = readNpzFileSync(join(ZOO_DIR, name + '.npz'));
    const get = (k: string) => {
      const v = g.get(k);
      if (!v) throw new Error(`${name}.npz has no '${k}'`);
      return v;
    };
    const nhwc = name.startsWith('keras');
    const x0 = get('input') as Tensor;
    const x = nhwc ? toNchw(x0) : new Tensor(Float32Array.from(x0.data as Float32Array), x0.shape);
    const n = x.shape[0]!;
    const model = loadModel(join(ZOO_DIR, e.file), { batchSize: n });
    const seed = new Tensor(Float32Array.from(get('seed').data as Float64Array), get('seed').shape);
    const weights = [...g.keys()].filter((k) => k.startsWith('wgrad:')).map((k) => k.slice(6));
    const r = await model.vjp(x, { seed, layers: [e.layer], weights });
    const grad = nhwc ? toNchw(new Tensor(Float32Array.from(get('grad_input').data as Float64Array), x0.shape)) : get('grad_input');
    const grad32 = nhwc ? toNchw(new Tensor(Float32Array.from(get('grad_input_f32').data as Float64Array), x0.shape)) : get('grad_input_f32');
    const kink = get('kink').data as Uint8Array;
    const errLogits = relativeError(r.logits.data, get('logits').data as Float64Array);
    const errs = perImage(r.inputGrad!.data, grad.data as ArrayLike<number>, n);
    const errs32 = perImage(grad32.data as ArrayLike<number>, grad.data as ArrayLike<number>, n);
    const act = r.activations.get(e.layer)!;
    const errAct = relativeError(act.data, get('layer_activation').data as Float64Array);
    const errLayerGrad = relativeError(r.layerGrads.get(e.layer)!.data, get('layer_grad').data as Float64Array);
    const msg = `logits ${errLogits.toExponential(2)}, input grad per image ${errs.map((v) => v.toExponential(2)).join(' ')} (float32 autograd ${errs32.map((v) => v.toExponential(2)).join(' ')}; kinks ${[...kink].join('')}), ${e.layer} act ${errAct.toExponential(2)}, grad ${errLayerGrad.toExponential(2)}`;
    t.diagnostic(msg);
    assert.deepEqual(act.shape, get('layer_activation').shape, msg);
    assert.ok(errLogits <= TOL, msg);
    errs.forEach((err, i) => assert.ok(err <= TOL || (kink[i] === 1 && err <= 2 * errs32[i]!), `image ${i}: ${msg}`));
    assert.ok(errAct <= TOL, msg);
    assert.ok(errLayerGrad <= TOL, msg);
    // Weight gradients (what training the sanity-check models needs), summed over the batch.
    // A gradient that is exactly 0 in exact arithmetic (a conv bias before InstanceNorm) is float noise on
    // both sides: there the absolute difference is what counts.
    for (const w of weights) {
      const got = r.weightGrads.get(w)!.data;
      const want = get(`wgrad:${w}`).data as Float64Array;
      const err = relativeError(got, want);
      const abs = Math.sqrt(got.reduce((acc, v, i) => acc + (v - want[i]!) ** 2, 0));
      t.diagnostic(`weight ${w}: relative ${err.toExponential(2)}, absolute ${abs.toExponential(2)}`);
      assert.ok(err <= TOL || abs <= 1e-6, `weight ${w}: relative ${err}, absolute ${abs}`);
    }
    await model.dispose();
  });
}
