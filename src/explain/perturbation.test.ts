/**
 * Perturbation methods against independent references:
 *  - occlusion on a linear model (Flatten → Gemm) equals the closed form: for a linear f,
 *    f(x) − f(x with window = fill) = Σ_window w_t·(x − fill), averaged per pixel over the covering
 *    windows (Captum's sum / count);
 *  - occlusion on the small CNN reproduces, at a few pixels, the mean over the covering windows of
 *    y_t(x) − y_t(occluded x), with the occluded images built and run here one by one;
 *  - Score-CAM weights on Conv 1×1 → GAP → Gemm computed by hand (logits on x ⊙ M_k, softmax over
 *    channels; the paper variant's probability increase over the zero image);
 *  - Faster-Score-CAM with N = all channels equals Score-CAM;
 *  - Ablation-CAM weights (y − y_k)/y by hand on the same graph (zero and pytorch-grad-cam's
 *    min − 1e7 ablation), and the cut-out tail of the small CNN reproduces its logits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { DataType, type Model as IRModel, type Node, type TensorData } from '../onnx/ir.js';
import { inferShapes } from '../onnx/shape-inference.js';
import { Model } from '../runtime/model.js';
import { loadModel, nodeOrt } from '../runtime/node.js';
import { readNpyFileSync } from '../io/files.js';
import { hasFixture, fixturePath } from '../testing/paths.js';
import { maxAbsDiff, randn } from '../testing/gradcheck.js';
import { occlusion } from './occlusion.js';
import { scoreCam, scoreCamMask } from './cam/scorecam.js';
import { ablationCam } from './cam/ablationcam.js';
import { tailModel } from './cam/tail.js';

const f32 = (name: string, dims: number[], v: ArrayLike<number>): TensorData => ({ name, dataType: DataType.FLOAT, dims, data: Float32Array.from(v) });

function irModel(name: string, inputShape: (number | string)[], nodes: Node[], inits: TensorData[], out: string): Model {
  const ir: IRModel = {
    irVersion: 8,
    opsets: new Map([['', 17]]),
    producerName: 'candor-test',
    producerVersion: '',
    graph: { name, nodes, inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: inputShape }], outputs: [], initializers: new Map(inits.map((t) => [t.name, t])), valueInfo: new Map() },
    passthrough: {},
  };
  const inf = inferShapes(ir.graph);
  ir.graph.outputs = [{ name: out, elemType: DataType.FLOAT, shape: inf.info.get(out)!.shape }];
  return Model.fromIR(ir, nodeOrt, { source: name });
}

// ---------------- occlusion ----------------

test('occlusion on a linear model equals the closed form Σ_window w·(x − fill), averaged over covering windows', async () => {
  const [N, C, H, W, K] = [2, 2, 7, 8, 3];
  const D = C * H * W;
  const w = randn([K, D], 1).data;
  const b = [0.3, -0.2, 0.1];
  const model = irModel('linear', ['N', C, H, W], [
    { opType: 'Flatten', domain: '', name: 'flat', inputs: ['x'], outputs: ['f'], attrs: {} },
    { opType: 'Gemm', domain: '', name: 'fc', inputs: ['f', 'w', 'b'], outputs: ['y'], attrs: { transB: { type: 'int', value: 1 } } },
  ], [f32('w', [K, D], w), f32('b', [K], b)], 'y');
  const x = randn([N, C, H, W], 2);
  const [kh, kw, sh, sw, fill] = [3, 2, 2, 3, 0.5];
  const targets = [2, 0];
  const progress: number[] = [];
  const r = await occlusion(model, x, targets, { window: [kh, kw], strides: [sh, sw], fill, batchSize: 5, onProgress: (d) => progress.push(d) });
  assert.deepEqual(r.attributions!.shape, [N, C, H, W]);
  assert.deepEqual(r.map.shape, [N, H, W]);
  assert.equal(r.signed, true);
  assert.ok(progress.length > 0 && progress.at(-1) === r.extra!.windows as number * N);

  // independent closed form: enumerate windows the Captum way, in float64
  const expected = new Float64Array(N * C * H * W);
  let uncovered = 0;
  for (let n = 0; n < N; n++) {
    const t = targets[n]!;
    const sum = new Float64Array(H * W);
    const cnt = new Float64Array(H * W);
    for (let y0 = 0; y0 + kh <= H; y0 += sh) {
      for (let x0 = 0; x0 + kw <= W; x0 += sw) {
        let d = 0;
        for (let c = 0; c < C; c++) for (let i = y0; i < y0 + kh; i++) for (let j = x0; j < x0 + kw; j++) {
          const idx = c * H * W + i * W + j;
          d += w[t * D + idx]! * (x.data[n * D + idx]! - fill);
        }
        for (let i = y0; i < y0 + kh; i++) for (let j = x0; j < x0 + kw; j++) { sum[i * W + j]! += d; cnt[i * W + j]! += 1; }
      }
    }
    for (let p = 0; p < H * W; p++) {
      if (n === 0 && cnt[p] === 0) uncovered++;
      for (let c = 0; c < C; c++) expected[n * D + c * H * W + p] = cnt[p]! ? sum[p]! / cnt[p]! : 0;
    }
  }
  assert.ok(uncovered > 0, 'the test geometry leaves some pixels uncovered (Captum: NaN, here 0)');
  assert.deepEqual(r.extra!.uncovered, [uncovered, uncovered]);
  // float32 logits of magnitude ~10: absolute tolerance 1e-4
  assert.ok(maxAbsDiff(r.attributions!.data, expected) < 1e-4, `max diff ${maxAbsDiff(r.attributions!.data, expected)}`);
  for (let n = 0; n < N; n++) for (let p = 0; p < H * W; p++) {
    assert.ok(Math.abs(r.map.data[n * H * W + p]! - C * expected[n * D + p]!) < 2e-4);
  }
});

test('occlusion rejects a window larger than the image', async () => {
  const model = irModel('lin2', ['N', 1, 4, 4], [
    { opType: 'Flatten', domain: '', name: 'flat', inputs: ['x'], outputs: ['f'], attrs: {} },
    { opType: 'Gemm', domain: '', name: 'fc', inputs: ['f', 'w', 'b'], outputs: ['y'], attrs: { transB: { type: 'int', value: 1 } } },
  ], [f32('w', [2, 16], randn([2, 16], 3).data), f32('b', [2], [0, 0])], 'y');
  await assert.rejects(occlusion(model, randn([1, 1, 4, 4], 4), 0, { window: 5 }), /larger than the image/);
});

const CNN = 'models/small_cnn_opset13.onnx';
const CNN_IN = 'models/golden/small_cnn_input.npy';

test('occlusion 8×8 / stride 4 on the small CNN reproduces hand-run windows at a few pixels', { skip: !hasFixture(CNN) || !hasFixture(CNN_IN) }, async () => {
  const model = loadModel(fixturePath(CNN));
  const all = readNpyFileSync(fixturePath(CNN_IN)) as Tensor;
  const x = new Tensor(Float32Array.from(all.data.subarray(0, 2 * 64 * 64)), [2, 1, 64, 64]);
  const r = await occlusion(model, x, 'pred', { window: 8, strides: 4, fill: 0 });
  assert.deepEqual(r.attributions!.shape, [2, 1, 64, 64]);
  assert.deepEqual(r.map.shape, [2, 64, 64]);
  assert.equal(r.extra!.windows, 15 * 15);
  const K = model.numClasses;
  const base = await model.forward(x, { batchSize: 1 });
  for (const [n, i, j] of [[0, 0, 0], [0, 30, 17], [1, 63, 63], [1, 9, 40]] as const) {
    const t = r.targets[n]!;
    const starts = (p: number) => [...Array(15).keys()].map((q) => q * 4).filter((s) => s <= p && p < s + 8);
    let sum = 0;
    let cnt = 0;
    for (const y0 of starts(i)) for (const x0 of starts(j)) {
      const img = Float32Array.from(x.data.subarray(n * 4096, (n + 1) * 4096));
      for (let a = y0; a < y0 + 8; a++) for (let b = x0; b < x0 + 8; b++) img[a * 64 + b] = 0;
      const y = await model.forward(new Tensor(img, [1, 1, 64, 64]), { batchSize: 1 });
      sum += base.data[n * K + t]! - y.data[t]!;
      cnt++;
    }
    const want = sum / cnt;
    const got = r.map.data[n * 4096 + i * 64 + j]!;
    assert.ok(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `(${n},${i},${j}): ${got} vs ${want}`);
  }
  await model.dispose();
});

// ---------------- Score-CAM ----------------

/** x [N,1,4,4] → Conv 1×1 (2 channels) → 'feat' → GlobalAveragePool → Flatten → Gemm (3 classes). */
function handCam(convW: number[], convB: number[], fcW: number[], fcB: number[]): Model {
  return irModel('hand', ['N', 1, 4, 4], [
    { opType: 'Conv', domain: '', name: 'conv', inputs: ['x', 'cw', 'cb'], outputs: ['feat'], attrs: { kernel_shape: { type: 'ints', value: [1, 1] } } },
    { opType: 'GlobalAveragePool', domain: '', name: 'gap', inputs: ['feat'], outputs: ['pooled'], attrs: {} },
    { opType: 'Flatten', domain: '', name: 'flat', inputs: ['pooled'], outputs: ['flat'], attrs: {} },
    { opType: 'Gemm', domain: '', name: 'fc', inputs: ['flat', 'fw', 'fb'], outputs: ['logits'], attrs: { transB: { type: 'int', value: 1 } } },
  ], [f32('cw', [2, 1, 1, 1], convW), f32('cb', [2], convB), f32('fw', [3, 2], fcW), f32('fb', [3], fcB)], 'logits');
}

test('Score-CAM weights on Conv 1×1 → GAP → Gemm, by hand (pytorch-grad-cam and paper variants)', async () => {
  const convW = [2, -1];
  const convB = [0.5, 1];
  const fcW = [1, -2, -3, 0.5, 0.25, -1];
  const fcB = [0.1, 0, -0.1];
  const model = handCam(convW, convB, fcW, fcB);
  const x = randn([2, 1, 4, 4], 7);
  const targets = [0, 2];
  const r = await scoreCam(model, x, targets, { layer: 'feat' });
  const rp = await scoreCam(model, x, targets, { layer: 'feat', variant: 'paper' });
  const logitsOf = (img: number[]): number[] => {
    const pooled = [0, 1].map((k) => img.reduce((s, v) => s + convW[k]! * v + convB[k]!, 0) / 16);
    return [0, 1, 2].map((t) => fcW[t * 2]! * pooled[0]! + fcW[t * 2 + 1]! * pooled[1]! + fcB[t]!);
  };
  const prob = (l: number[], t: number) => Math.exp(l[t]!) / l.reduce((s, v) => s + Math.exp(v), 0);
  for (let n = 0; n < 2; n++) {
    const xi = Array.from(x.data.subarray(n * 16, n * 16 + 16));
    const t = targets[n]!;
    const A = [0, 1].map((k) => xi.map((v) => convW[k]! * v + convB[k]!));
    // feature map = input size: align-corners upsampling is the identity; min–max normalise
    const M = A.map((a) => { const lo = Math.min(...a), hi = Math.max(...a); return a.map((v) => (v - lo) / (hi - lo + 1e-8)); });
    const s = M.map((m) => logitsOf(xi.map((v, p) => v * m[p]!))[t]!);
    const z = Math.exp(s[0]!) + Math.exp(s[1]!);
    const wts = s.map((v) => Math.exp(v) / z);
    const got = (r.extra!['weights:feat'] as Tensor).data.subarray(n * 2, n * 2 + 2);
    assert.ok(maxAbsDiff(got, wts) < 1e-5, `image ${n}: ${[...got]} vs ${wts}`);
    const cam = xi.map((_, p) => Math.max(0, wts[0]! * A[0]![p]! + wts[1]! * A[1]![p]!));
    assert.ok(maxAbsDiff((r.extra!.raw as Tensor).data.subarray(n * 16, n * 16 + 16), cam) < 1e-5);
    // paper: softmax probability on x ⊙ M_k minus that on the zero image, no softmax over channels
    const p0 = prob(logitsOf(xi.map(() => 0)), t);
    const wp = M.map((m) => prob(logitsOf(xi.map((v, q) => v * m[q]!)), t) - p0);
    const gotP = (rp.extra!['weights:feat'] as Tensor).data.subarray(n * 2, n * 2 + 2);
    assert.ok(maxAbsDiff(gotP, wp) < 1e-6, `paper, image ${n}: ${[...gotP]} vs ${wp}`);
  }
  assert.deepEqual(r.map.shape, [2, 4, 4]);
  await model.dispose();
});

test('Score-CAM masks: align-corners bilinear upsampling 2×2 → 3×3, then min–max', () => {
  const out = new Float64Array(9);
  scoreCamMask([0, 2, 4, 10], 2, 2, 3, 3, out);
  const up = [0, 1, 2, 2, 4, 6, 4, 7, 10];
  assert.ok(maxAbsDiff(out, up.map((v) => v / (10 + 1e-8))) < 1e-12);
});

test('Faster-Score-CAM with topChannels = all channels equals Score-CAM; topChannels = 1 keeps the most varied channel', { skip: !hasFixture(CNN) || !hasFixture(CNN_IN) }, async () => {
  const model = loadModel(fixturePath(CNN));
  const all = readNpyFileSync(fixturePath(CNN_IN)) as Tensor;
  const x = new Tensor(Float32Array.from(all.data.subarray(0, 2 * 4096)), [2, 1, 64, 64]);
  const full = await scoreCam(model, x, 'pred');
  const K = (full.extra![`weights:${full.extra!.layers}`] as Tensor).shape[1]!;
  const topAll = await scoreCam(model, x, 'pred', { topChannels: K });
  assert.deepEqual([...topAll.map.data], [...full.map.data]);
  const top1 = await scoreCam(model, x, 'pred', { topChannels: 1 });
  const w1 = (top1.extra![`weights:${top1.extra!.layers}`] as Tensor).data;
  for (let n = 0; n < 2; n++) {
    const row = [...w1.subarray(n * K, (n + 1) * K)];
    assert.equal(row.filter((v) => v !== 0).length, 1);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  }
  await model.dispose();
});

// ---------------- Ablation-CAM ----------------

test('Ablation-CAM weights (y − y_k)/y on Conv 1×1 → GAP → Gemm, by hand', async () => {
  const convW = [2, -1];
  const convB = [0.5, 1];
  const fcW = [1, -2, -3, 0.5, 0.25, -1];
  const fcB = [0.1, 0, -0.1];
  const model = handCam(convW, convB, fcW, fcB);
  const x = randn([2, 1, 4, 4], 11);
  const targets = [1, 2];
  const rz = await ablationCam(model, x, targets, { layer: 'feat', ablation: 'zero' });
  const rp = await ablationCam(model, x, targets, { layer: 'feat' });
  for (let n = 0; n < 2; n++) {
    const xi = Array.from(x.data.subarray(n * 16, n * 16 + 16));
    const t = targets[n]!;
    const A = [0, 1].map((k) => xi.map((v) => convW[k]! * v + convB[k]!));
    const mean = A.map((a) => a.reduce((s, v) => s + v, 0) / 16);
    const y = fcW[t * 2]! * mean[0]! + fcW[t * 2 + 1]! * mean[1]! + fcB[t]!;
    // channel k replaced by the constant v: y_k = y + fc[t,k]·(v − mean_k)
    const wz = [0, 1].map((k) => (y - (y + fcW[t * 2 + k]! * (0 - mean[k]!))) / y);
    const gotZ = (rz.extra!['weights:feat'] as Tensor).data.subarray(n * 2, n * 2 + 2);
    assert.ok(maxAbsDiff(gotZ, wz) < 1e-4 * Math.max(1, ...wz.map(Math.abs)), `zero, image ${n}: ${[...gotZ]} vs ${wz}`);
    const mn = Math.min(...A.flat());
    assert.notEqual(mn, 0);
    const wp = [0, 1].map((k) => (y - (y + fcW[t * 2 + k]! * (mn - 1e7 - mean[k]!))) / y);
    const gotP = (rp.extra!['weights:feat'] as Tensor).data.subarray(n * 2, n * 2 + 2);
    // the ablation value is ~1e7 in float32: relative tolerance 1e-5
    for (let k = 0; k < 2; k++) assert.ok(Math.abs(gotP[k]! - wp[k]!) <= 1e-5 * Math.abs(wp[k]!), `pytorch-grad-cam, image ${n}: ${[...gotP]} vs ${wp}`);
    const cam = xi.map((_, p) => Math.max(0, wz[0]! * A[0]![p]! + wz[1]! * A[1]![p]!));
    assert.ok(maxAbsDiff((rz.extra!.raw as Tensor).data.subarray(n * 16, n * 16 + 16), cam) < 1e-4);
  }
  await model.dispose();
});

test('Ablation-CAM on the small CNN: the tail after the layer reproduces the logits; shapes', { skip: !hasFixture(CNN) || !hasFixture(CNN_IN) }, async () => {
  const model = loadModel(fixturePath(CNN));
  const all = readNpyFileSync(fixturePath(CNN_IN)) as Tensor;
  const x = new Tensor(Float32Array.from(all.data.subarray(0, 2 * 4096)), [2, 1, 64, 64]);
  const layer = model.resolveLayer(undefined);
  const v = await model.vjp(x, { seed: model.oneHot([0, 0]), layers: [layer], inputGrad: false });
  const tail = tailModel(model, layer);
  assert.deepEqual(tail.frontier, []);
  const lt = await tail.run(v.activations.get(layer)!, []);
  assert.ok(maxAbsDiff(lt.data, v.logits.data) < 1e-4);
  const r = await ablationCam(model, x, 'pred');
  assert.deepEqual(r.map.shape, [2, 64, 64]);
  const k = v.activations.get(layer)!.shape[1]!;
  assert.deepEqual((r.extra![`weights:${r.extra!.layers}`] as Tensor).shape, [2, k]);
  await tail.dispose();
  await model.dispose();
});
