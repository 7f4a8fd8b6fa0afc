/**
 * The CAM family against independent references: a hand-built graph whose Grad-CAM is known in
 * closed form; PyTorch's golden activation and gradient of the small CNN's `features.8` (class 1),
 * from which the CAMs are recomputed here with plain loops following pytorch-grad-cam's code
 * (`get_cam_weights`, `np.maximum(cam, 0)`, `scale_cam_image` with cv2.resize's bilinear); a
 * Grad-CAM++ case worked by hand; Eigen-CAM against a power iteration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../tensor/tensor.js';
import { DataType, type Model as IRModel, type TensorData } from '../../onnx/ir.js';
import { inferShapes } from '../../onnx/shape-inference.js';
import { Model } from '../../runtime/model.js';
import { loadModel, nodeOrt } from '../../runtime/node.js';
import { readNpyFileSync } from '../../io/files.js';
import { fixturePath } from '../../testing/paths.js';
import { relativeError } from '../../testing/gradcheck.js';
import { camFromTensors, type CamMethod } from './base.js';
import { gradCam } from './gradcam.js';
import { gradCamPlusPlus, gradCamPlusPlusMethod } from './gradcampp.js';
import { xGradCam } from './xgradcam.js';
import { layerCam } from './layercam.js';
import { hiResCam } from './hirescam.js';
import { eigenCam, eigenCamMethod, firstComponentProjection } from './eigencam.js';

// ---------- independent reference pieces (pytorch-grad-cam's numpy code, as loops) ----------

/** scale_cam_image for one image: img − min, / (1e-7 + max). */
function refScale(m: number[]): number[] {
  const lo = Math.min(...m);
  const s = m.map((v) => v - lo);
  const hi = Math.max(...s);
  return s.map((v) => v / (1e-7 + hi));
}

/** cv2.resize INTER_LINEAR on float data: src = (dst + 0.5)·(in/out) − 0.5, clamped to the border. */
function refResize(m: number[], h: number, w: number, H: number, W: number): number[] {
  const coord = (d: number, n: number, N: number): [number, number, number] => {
    let s = (d + 0.5) * (n / N) - 0.5;
    if (s < 0) s = 0;
    let i0 = Math.floor(s);
    if (i0 >= n - 1) return [n - 1, n - 1, 0];
    const f = s - i0;
    return [i0, i0 + 1, f];
  };
  const out: number[] = [];
  for (let y = 0; y < H; y++) {
    const [y0, y1, fy] = coord(y, h, H);
    for (let x = 0; x < W; x++) {
      const [x0, x1, fx] = coord(x, w, W);
      const top = m[y0 * w + x0]! * (1 - fx) + m[y0 * w + x1]! * fx;
      const bot = m[y1 * w + x0]! * (1 - fx) + m[y1 * w + x1]! * fx;
      out.push(top * (1 - fy) + bot * fy);
    }
  }
  return out;
}

/** pytorch-grad-cam's whole pipeline for one layer and one image, from the pre-ReLU cam. */
function refPipeline(cam: number[], h: number, w: number, H: number, W: number): { raw: number[]; map: number[] } {
  const raw = cam.map((v) => Math.max(v, 0));
  const perLayer = refResize(refScale(raw), h, w, H, W).map((v) => Math.max(v, 0));
  return { raw, map: refScale(perLayer) };
}

type RefMethod = 'gradcam' | 'gradcampp' | 'xgradcam' | 'layercam' | 'hirescam';

/** The pre-ReLU CAM of one image from A, G [K,h,w] (flat), each method as pytorch-grad-cam writes it. */
function refCam(method: RefMethod, A: ArrayLike<number>, G: ArrayLike<number>, K: number, hw: number): number[] {
  const at = (c: number, p: number) => A[c * hw + p]!;
  const gt = (c: number, p: number) => G[c * hw + p]!;
  const cam = new Array<number>(hw).fill(0);
  for (let c = 0; c < K; c++) {
    let sumA = 0;
    for (let p = 0; p < hw; p++) sumA += at(c, p);
    let wc = 0;
    if (method === 'gradcam') {
      for (let p = 0; p < hw; p++) wc += gt(c, p);
      wc /= hw;
    } else if (method === 'xgradcam') {
      for (let p = 0; p < hw; p++) wc += (gt(c, p) * at(c, p)) / (sumA + 1e-7);
    } else if (method === 'gradcampp') {
      for (let p = 0; p < hw; p++) {
        const g = gt(c, p);
        const aij = g !== 0 ? g ** 2 / (2 * g ** 2 + sumA * g ** 3 + 0.000001) : 0;
        wc += Math.max(g, 0) * aij;
      }
    }
    for (let p = 0; p < hw; p++) {
      if (method === 'layercam') cam[p]! += Math.max(gt(c, p), 0) * at(c, p);
      else if (method === 'hirescam') cam[p]! += gt(c, p) * at(c, p);
      else cam[p]! += wc * at(c, p);
    }
  }
  return cam;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// ---------- a graph whose Grad-CAM is known by hand ----------

/** x [N,1,4,4] → Conv 1×1 (2 channels) → 'feat' → GlobalAveragePool → Flatten → Gemm (3 classes). */
function handModel(convW: number[], convB: number[], fcW: number[], fcB: number[]): Model {
  const f32 = (name: string, dims: number[], v: number[]): TensorData => ({ name, dataType: DataType.FLOAT, dims, data: Float32Array.from(v) });
  const ir: IRModel = {
    irVersion: 8,
    opsets: new Map([['', 17]]),
    producerName: 'candor-test',
    producerVersion: '',
    graph: {
      name: 'hand',
      nodes: [
        { opType: 'Conv', domain: '', name: 'conv', inputs: ['x', 'cw', 'cb'], outputs: ['feat'], attrs: { kernel_shape: { type: 'ints', value: [1, 1] } } },
        { opType: 'GlobalAveragePool', domain: '', name: 'gap', inputs: ['feat'], outputs: ['pooled'], attrs: {} },
        { opType: 'Flatten', domain: '', name: 'flat', inputs: ['pooled'], outputs: ['flat'], attrs: {} },
        { opType: 'Gemm', domain: '', name: 'fc', inputs: ['flat', 'fw', 'fb'], outputs: ['logits'], attrs: { transB: { type: 'int', value: 1 } } },
      ],
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['N', 1, 4, 4] }],
      outputs: [],
      initializers: new Map([
        ['cw', f32('cw', [2, 1, 1, 1], convW)],
        ['cb', f32('cb', [2], convB)],
        ['fw', f32('fw', [3, 2], fcW)],
        ['fb', f32('fb', [3], fcB)],
      ]),
      valueInfo: new Map(),
    },
    passthrough: {},
  };
  const inf = inferShapes(ir.graph);
  ir.graph.outputs = [{ name: 'logits', elemType: DataType.FLOAT, shape: inf.info.get('logits')!.shape }];
  return Model.fromIR(ir, nodeOrt, { source: 'hand' });
}

test('Grad-CAM on Conv → GlobalAveragePool → Gemm equals the closed form Σ_k (fc[c,k]/hw)·A_k', async () => {
  const convW = [2, -1];
  const convB = [0.5, 1];
  const fcW = [1, -2, -3, 0.5, 0.25, -1]; // [3 classes, 2 channels]; rows chosen so the CAM is not constant
  const model = handModel(convW, convB, fcW, [0, 0, 0]);
  const n = 2;
  const x = Tensor.from(Array.from({ length: n * 16 }, (_, i) => Math.sin(i * 1.7) * 2), [n, 1, 4, 4]);
  const targets = [0, 1];
  for (const layer of [undefined, 'feat']) {
    const r = await gradCam(model, x, targets, { layer });
    assert.deepEqual(r.map.shape, [n, 4, 4]);
    assert.equal(r.signed, false);
    assert.deepEqual(r.targets, targets);
    for (let i = 0; i < n; i++) {
      const c = targets[i]!;
      // dy_c/dA_k(p) = fc[c,k]/16 everywhere, so Grad-CAM's weight is fc[c,k]/16.
      const cam = Array.from({ length: 16 }, (_, p) => {
        const xv = x.data[i * 16 + p]!;
        return [0, 1].reduce((s, k) => s + (fcW[c * 2 + k]! / 16) * (convW[k]! * xv + convB[k]!), 0);
      });
      const ref = refPipeline(cam, 4, 4, 4, 4);
      const raw = (r.extra!.raw as Tensor).data.subarray(i * 16, (i + 1) * 16);
      assert.ok(maxAbsDiff(raw, ref.raw) < 1e-6, `raw ${[...raw]} vs ${ref.raw}`);
      const d = maxAbsDiff(r.map.data.subarray(i * 16, (i + 1) * 16), ref.map);
      assert.ok(d < 1e-6, `image ${i}: map max |Δ| ${d}`);
      assert.ok(Math.max(...ref.map) > 0.99 && Math.max(...ref.raw) > 0.1, 'the hand case has a non-trivial CAM');
    }
  }
  await model.dispose();
});

// ---------- PyTorch golden: small CNN, features.8, class 1 ----------

const golden = (name: string) => readNpyFileSync(fixturePath(`models/golden/small_cnn_${name}.npy`)) as Tensor;

const explainers = { gradcam: gradCam, gradcampp: gradCamPlusPlus, xgradcam: xGradCam, layercam: layerCam, hirescam: hiResCam } as const;

test('Grad-CAM, Grad-CAM++, XGrad-CAM, LayerCAM, HiResCAM on the small CNN match CAMs recomputed from PyTorch’s features.8 activation and gradient (≤ 1e-4)', async (t) => {
  const x = golden('input');
  const A = golden('layer_activation');
  const G = golden('layer_grad_class1');
  const [n, K, h, w] = A.shape as [number, number, number, number];
  const [H, W] = [x.shape[2]!, x.shape[3]!];
  const hw = h * w;
  const model = loadModel(fixturePath('models/small_cnn_opset13.onnx'));
  for (const [name, explain] of Object.entries(explainers)) {
    const r = await explain(model, x, 1, { layer: 'features.8' });
    assert.deepEqual(r.map.shape, [n, H, W]);
    assert.deepEqual((r.extra!.raw as Tensor).shape, [n, h, w]);
    let mapErr = 0;
    let rawErr = 0;
    for (let i = 0; i < n; i++) {
      const a = A.data.subarray(i * K * hw, (i + 1) * K * hw);
      const g = G.data.subarray(i * K * hw, (i + 1) * K * hw);
      const ref = refPipeline(refCam(name as RefMethod, a, g, K, hw), h, w, H, W);
      mapErr = Math.max(mapErr, maxAbsDiff(r.map.data.subarray(i * H * W, (i + 1) * H * W), ref.map));
      rawErr = Math.max(rawErr, relativeError((r.extra!.raw as Tensor).data.subarray(i * hw, (i + 1) * hw), ref.raw));
    }
    t.diagnostic(`${name}: map max |Δ| ${mapErr.toExponential(2)}, raw relative error ${rawErr.toExponential(2)}`);
    assert.ok(mapErr <= 1e-4, `${name}: map max |Δ| ${mapErr}`);
    assert.ok(rawErr <= 1e-4, `${name}: raw relative error ${rawErr}`);
  }
  await model.dispose();
});

// ---------- Grad-CAM++ by hand ----------

test('Grad-CAM++ weights follow α = G²/(2G² + ΣA·G³ + 1e-6), w = Σ ReLU(G)·α (worked by hand)', () => {
  // channel 0: A = [1, 3], G = [2, −1]: ΣA = 4; α₀ = 4/(8 + 4·8) = 0.1 → 2·0.1; pixel 1 has G < 0 → 0. w₀ = 0.2
  // channel 1: A = [0.5, 0.5], G = [0, 1]: ΣA = 1; α = 0 where G = 0; α₁ = 1/(2 + 1) → w₁ = 1/3
  const a = Float32Array.from([1, 3, 0.5, 0.5]);
  const g = Float32Array.from([2, -1, 0, 1]);
  const wts = gradCamPlusPlusMethod.channelWeights!({ a, g, k: 2, spatial: [1, 2], voxels: 2, logit: 0, options: {} });
  assert.ok(Math.abs(wts[0]! - 4 / (40 + 1e-6) * 2) < 1e-12 && Math.abs(wts[0]! - 0.2) < 1e-7);
  assert.ok(Math.abs(wts[1]! - 1 / (3 + 1e-6)) < 1e-12 && Math.abs(wts[1]! - 1 / 3) < 1e-6);
  const { map, raw } = camFromTensors(gradCamPlusPlusMethod, [{ activations: new Tensor(a, [1, 2, 1, 2]), grads: new Tensor(g, [1, 2, 1, 2]) }], [0], [1, 2]);
  // cam = 0.2·[1, 3] + (1/3)·[0.5, 0.5]
  assert.ok(maxAbsDiff(raw[0]!.data, [0.2 + 1 / 6, 0.6 + 1 / 6]) < 1e-6);
  assert.ok(maxAbsDiff(map.data, [0, 1]) < 1e-6);
});

// ---------- Eigen-CAM ----------

/** Independent reference: power iteration on XᵀX for the centred [hw, K] matrix, projection X·v. */
function refEigenProjection(a: ArrayLike<number>, K: number, hw: number): number[] {
  const X: number[][] = Array.from({ length: hw }, (_, p) => Array.from({ length: K }, (_, c) => a[c * hw + p]!));
  for (let c = 0; c < K; c++) {
    const mean = X.reduce((s, row) => s + row[c]!, 0) / hw;
    for (const row of X) row[c]! -= mean;
  }
  let v = Array.from({ length: K }, (_, c) => 1 + 0.01 * c);
  for (let it = 0; it < 3000; it++) {
    const xv = X.map((row) => row.reduce((s, r, c) => s + r * v[c]!, 0));
    const next = Array.from({ length: K }, (_, c) => X.reduce((s, row, p) => s + row[c]! * xv[p]!, 0));
    const norm = Math.hypot(...next);
    v = next.map((e) => e / norm);
  }
  return X.map((row) => row.reduce((s, r, c) => s + r * v[c]!, 0));
}

test('Eigen-CAM: the first-component projection matches a power iteration up to sign, and the sign follows the activations', () => {
  // Rank-one-plus-noise activations: every channel a positive multiple of a bump peaking at pixel 6.
  const K = 5;
  const hw = 12;
  const bump = Array.from({ length: hw }, (_, p) => Math.exp(-((p - 6) ** 2) / 4));
  const a = Float32Array.from({ length: K * hw }, (_, i) => (0.5 + (i / hw) | 0) * bump[i % hw]! + 0.01 * Math.sin(i * 3.1));
  const proj = firstComponentProjection(a, K, hw);
  const ref = refEigenProjection(a, K, hw);
  const sign = Math.sign(ref.reduce((s, r, p) => s + r * proj[p]!, 0));
  assert.ok(maxAbsDiff(proj, ref.map((r) => r * sign)) < 1e-6 * Math.max(...ref.map(Math.abs)));
  // oriented toward the activations: the peak of the bump is the map's maximum
  let best = 0;
  for (let p = 1; p < hw; p++) if (proj[p]! > proj[best]!) best = p;
  assert.equal(best, 6);
  // the [hw,hw] Gram path (hw ≤ K) agrees with the [K,K] path
  const wide = Float32Array.from({ length: 20 * 4 }, (_, i) => Math.cos(i * 0.37) + (i % 4 === 1 ? 2 : 0));
  const p1 = firstComponentProjection(wide, 20, 4);
  const r1 = refEigenProjection(wide, 20, 4);
  const s1 = Math.sign(r1.reduce((s, r, p) => s + r * p1[p]!, 0));
  assert.ok(maxAbsDiff(p1, r1.map((r) => r * s1)) < 1e-6 * Math.max(...r1.map(Math.abs)));
});

test('Eigen-CAM on the small CNN: shape [N,H,W] in [0,1], matching the golden features.8 projection', async () => {
  const x = golden('input');
  const A = golden('layer_activation');
  const [n, K, h, w] = A.shape as [number, number, number, number];
  const hw = h * w;
  const model = loadModel(fixturePath('models/small_cnn_opset13.onnx'));
  const r = await eigenCam(model, x, 'pred', { layer: 'features.8' });
  assert.deepEqual(r.map.shape, [n, 64, 64]);
  assert.equal(r.signed, false);
  for (const v of r.map.data) assert.ok(v >= 0 && v <= 1);
  const raw = r.extra!.raw as Tensor;
  for (let i = 0; i < 2; i++) {
    const ref = refEigenProjection(A.data.subarray(i * K * hw, (i + 1) * K * hw), K, hw);
    // candor's sign: positive correlation with Σ_k A_k
    let corr = 0;
    for (let c = 0; c < K; c++) for (let p = 0; p < hw; p++) corr += ref[p]! * A.data[(i * K + c) * hw + p]!;
    const oriented = ref.map((v) => Math.max(v * Math.sign(corr), 0));
    const err = relativeError(raw.data.subarray(i * hw, (i + 1) * hw), oriented);
    assert.ok(err < 1e-3, `image ${i}: relative error ${err}`);
  }
  assert.equal(eigenCamMethod.usesGradients, false);
  await model.dispose();
});

// ---------- several layers; bad layers ----------

test('several layers aggregate as pytorch-grad-cam: per-layer scaled, resized CAMs, maximum(·,0), mean, rescaled', async () => {
  const x = golden('input').slice0(0, 3);
  const model = loadModel(fixturePath('models/small_cnn_opset13.onnx'));
  const layers = ['features.8', 'features.5'];
  const multi = await gradCam(model, x, 1, { layer: layers });
  const singles = await Promise.all(layers.map((l) => gradCam(model, x, 1, { layer: l })));
  assert.deepEqual(multi.map.shape, [3, 64, 64]);
  assert.equal(multi.extra!.layers, layers.join(','));
  for (let i = 0; i < 3; i++) {
    const perLayer = singles.map((s) => {
      const raw = s.extra!.raw as Tensor;
      const [, h, w] = raw.shape as [number, number, number];
      assert.ok(maxAbsDiff((multi.extra![`raw:${layers[singles.indexOf(s)]}`] as Tensor).data, raw.data) < 1e-6);
      return refResize(refScale([...raw.data.subarray(i * h * w, (i + 1) * h * w)]), h, w, 64, 64).map((v) => Math.max(v, 0));
    });
    const ref = refScale(perLayer[0]!.map((v, p) => (v + perLayer[1]![p]!) / 2));
    assert.ok(maxAbsDiff(multi.map.data.subarray(i * 4096, (i + 1) * 4096), ref) < 1e-5);
  }
  await model.dispose();
});

test('a layer that is not 4-D, or does not exist, is a clear error listing the valid layers', async () => {
  const x = golden('input').slice0(0, 1);
  const model = loadModel(fixturePath('models/small_cnn_opset13.onnx'));
  await assert.rejects(gradCam(model, x, 1, { layer: 'classifier.2' }), (e: Error) => {
    assert.match(e.message, /classifier\.2.*cannot be folded to a \[N,K,h,w\] feature map: it is 2-D/);
    assert.match(e.message, /features\.8/);
    assert.match(e.message, /features\.0/);
    return true;
  });
  await assert.rejects(layerCam(model, x, 1, { layer: 'nope' }), /no layer 'nope'.*features\.8/);
  await assert.rejects(gradCam(model, x, 5, { layer: 'features.8' }), /out of range/);
  await model.dispose();
});

// A method with no weighting at all is a programming error, reported by name.
test('a CAM method without a weighting is rejected', () => {
  const bad: CamMethod = { name: 'bad', usesGradients: false };
  const t = new Tensor(new Float32Array(4), [1, 1, 2, 2]);
  assert.throws(() => camFromTensors(bad, [{ activations: t, grads: t }], [0], [2, 2]), /bad: a CAM method must supply/);
});
