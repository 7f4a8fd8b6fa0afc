/**
 * Deletion / insertion and faithfulness correlation on volumes [N, C, D, H, W] (issue 15): the batched metrics
 * equal a direct evaluation written voxel by voxel by (z, y, x) coordinates, one forward pass per perturbed
 * volume, on the r3d_18-layout fixture; the 3-D blur baseline equals the product of 1-D blurs of a separable
 * volume; ROAD (2-D imputation) refuses volumes in one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../runtime/node.js';
import { readNpzFileSync } from '../io/files.js';
import { Tensor } from '../tensor/tensor.js';
import { deletionCurve, insertionCurve, stepCounts } from './faithfulness.js';
import { gaussianBlurNd } from './blur.js';
import { road } from './road.js';

const FIX = (f: string) => fileURLToPath(new URL(`../explain/fixtures/${f}`, import.meta.url));

test('3-D blur baseline: a separable volume blurs to the product of its 1-D blurs', () => {
  const [D, H, W] = [5, 7, 9];
  const a = Array.from({ length: D }, (_, i) => Math.sin(i));
  const b = Array.from({ length: H }, (_, i) => Math.cos(0.7 * i) + 2);
  const c = Array.from({ length: W }, (_, i) => (i % 3) - 1);
  const vol = new Float64Array(D * H * W);
  for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) vol[(z * H + y) * W + x] = a[z]! * b[y]! * c[x]!;
  const blurred = gaussianBlurNd(vol, 1, [D, H, W], 1.3);
  const one = (v: number[]) => Array.from(gaussianBlurNd(v, 1, [v.length], 1.3));
  const [A, B, C] = [one(a), one(b), one(c)];
  let worst = 0;
  for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) worst = Math.max(worst, Math.abs(blurred[(z * H + y) * W + x]! - A[z]! * B[y]! * C[x]!));
  assert.ok(worst < 1e-12, `${worst}`);
});

test('deletion and insertion on volumes equal voxel-by-voxel perturbation with one forward pass per step', async (t) => {
  const fx = readNpzFileSync(FIX('volume_fixtures.npz'));
  const x = fx.get('input') as Tensor;
  const [n, c, D, H, W] = x.shape as [number, number, number, number, number];
  const V = D * H * W;
  const maps = fx.get('cam_gradcam_layer3') as Tensor; // [N, D, H, W]
  const model = loadModel(FIX('r3d_small.onnx'), { threads: 2 });
  try {
    const targets = [0, 2];
    const del = await deletionCurve(model, x, maps, targets, { steps: 8, baseline: -1, score: 'logit', batchSize: 5 });
    const ins = await insertionCurve(model, x, maps, targets, { steps: 8, baseline: 0.25, score: 'logit', batchSize: 5 });
    const counts = stepCounts(V, { steps: 8 });
    let worst = 0;
    for (let i = 0; i < n; i++) {
      // rank voxels by (value desc, then z, y, x) — written with coordinates, not flat offsets
      const coords: [number, number, number, number][] = [];
      for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) coords.push([maps.data[i * V + (z * H + y) * W + xx]!, z, y, xx]);
      coords.sort((p, q) => q[0] - p[0] || p[1] - q[1] || p[2] - q[2] || p[3] - q[3]);
      for (const [mode, curve, fill] of [['deletion', del, -1], ['insertion', ins, 0.25]] as const) {
        for (let s = 0; s < counts.length; s++) {
          const v = new Float32Array(c * V);
          for (let ch = 0; ch < c; ch++) for (let q = 0; q < V; q++) v[ch * V + q] = mode === 'deletion' ? x.data[(i * c + ch) * V + q]! : fill;
          for (const [, z, y, xx] of coords.slice(0, counts[s]!)) {
            for (let ch = 0; ch < c; ch++) {
              const at = ch * V + (z * H + y) * W + xx;
              v[at] = mode === 'deletion' ? fill : x.data[(i * c + ch) * V + (z * H + y) * W + xx]!;
            }
          }
          const lg = await model.forward(new Tensor(v, [1, c, D, H, W]));
          worst = Math.max(worst, Math.abs(lg.data[targets[i]!]! - curve.curves[i]![s]!));
        }
      }
    }
    t.diagnostic(`max |Δ logit| ${worst.toExponential(1)} over 2 volumes × 9 steps × deletion/insertion`);
    assert.ok(worst < 1e-4, `${worst}`);
    await assert.rejects(road(model, x, maps, targets), /ROAD's noisy linear imputation uses the 8 neighbours of a pixel in a 2-D image/);
  } finally {
    await model.dispose();
  }
});
