/**
 * Explanation methods (`npm run bench`): milliseconds per image at batch 8 for each method on the
 * models of ../shared/peer-times.json, against Captum / pytorch-grad-cam's time there, with the
 * same options (IG: gray = zeros baseline, riemann_right 32 steps; black = −1, gausslegendre 50;
 * SmoothGrad: 50 samples, noise std 0.15; CAMs at the last conv stage).
 * Methods without a peer time (GradientSHAP, Guided Backprop, feature ablation, RISE, Faster-Score-CAM)
 * are timed too. Score-CAM rows also print the forward passes run per image (identical masks share one).
 * Beside each time: the floor, the arithmetic the method needs (in forward passes, see WORK) at this
 * CPU's MatMul peak measured in the same run, and the speed-up over the peer that the floor allows:
 * where that is below 3×, no implementation of the method by direct convolution can reach 3× here.
 * 'floor/candor' > 1 means candor did less arithmetic than the direct method (incremental occlusion).
 * Options (env): BENCH_EXPLAIN_MODELS=small_cnn,resnet18 BENCH_EXPLAIN_METHODS=scorecam,gradcam
 *                BENCH_THREADS=2 BENCH_REPEATS=3 BENCH_SCORECAM_BATCH=256
 */
import { readFileSync } from 'node:fs';
import { Model } from '../src/runtime/model.js';
import { nodeOrt } from '../src/runtime/node.js';
import { buildArchitecture } from '../src/train/arch/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../src/tensor/rng.js';
import { forwardFlopsPerImage } from '../src/onnx/flops.js';
import { matmulPeak } from './peak.js';
import { sharedPath } from '../src/testing/paths.js';
import type { Attribution } from '../src/explain/types.js';
import { saliency } from '../src/explain/saliency.js';
import { inputXGradient } from '../src/explain/input-x-gradient.js';
import { smoothGrad } from '../src/explain/smoothgrad.js';
import { integratedGradients } from '../src/explain/integrated-gradients.js';
import { gradCam } from '../src/explain/cam/gradcam.js';
import { gradCamPlusPlus } from '../src/explain/cam/gradcampp.js';
import { xGradCam } from '../src/explain/cam/xgradcam.js';
import { layerCam } from '../src/explain/cam/layercam.js';
import { hiResCam } from '../src/explain/cam/hirescam.js';
import { occlusion } from '../src/explain/occlusion.js';
import { scoreCam } from '../src/explain/cam/scorecam.js';
import { gradientShap } from '../src/explain/gradient-shap.js';
import { guidedBackprop } from '../src/explain/guided-backprop.js';
import { guidedGradCam } from '../src/explain/guided-gradcam.js';
import { featureAblation } from '../src/explain/feature-ablation.js';
import { rise } from '../src/explain/rise.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const N = 8;
const peers = JSON.parse(readFileSync(sharedPath('peer-times.json'), 'utf8')) as { ms_per_image: Record<string, Record<string, number>> };

const MODELS = [
  { name: 'small_cnn', arch: 'small_cnn', c: 1, size: 64, layer: 'features.8' },
  { name: 'resnet18', arch: 'resnet18', c: 3, size: 64, layer: 'layer4' },
  { name: 'densenet121', arch: 'densenet121', c: 3, size: 96, layer: 'features.denseblock4' },
  { name: 'mobilenet_v2', arch: 'mobilenet_v2', c: 3, size: 64, layer: 'features.18' },
];

type Run = (m: Model, x: Tensor, layer: string) => Promise<Attribution>;
const METHODS: Record<string, Run> = {
  saliency: (m, x) => saliency(m, x, 1, { batchSize: 64 }),
  inputxgradient: (m, x) => inputXGradient(m, x, 1),
  ig_gray_riemann_right_32: (m, x) => integratedGradients(m, x, 1, { steps: 32, method: 'riemann_right', baseline: 'zeros', batchSize: 64 }),
  ig_black_gausslegendre_50: (m, x) => integratedGradients(m, x, 1, { steps: 50, method: 'gausslegendre', baseline: 'black', batchSize: 64 }),
  // no peer time: IG to a 1 % convergence delta (ig-adaptive.ts), steps chosen per image
  ig_black_adaptive_1pct: (m, x) => integratedGradients(m, x, 1, { tolerance: 0.01, baseline: 'black', batchSize: 64 }),
  smoothgrad_50: (m, x) => smoothGrad(m, x, 1, { samples: 50, stdev: 0.15, batchSize: 64 }),
  gradcam: (m, x, layer) => gradCam(m, x, 1, { layer }),
  gradcampp: (m, x, layer) => gradCamPlusPlus(m, x, 1, { layer }),
  xgradcam: (m, x, layer) => xGradCam(m, x, 1, { layer }),
  layercam: (m, x, layer) => layerCam(m, x, 1, { layer }),
  hirescam: (m, x, layer) => hiResCam(m, x, 1, { layer }),
  scorecam: (m, x, layer) => scoreCam(m, x, 1, { layer, batchSize: SCORECAM_BATCH }),
  // incremental inference where it saves arithmetic ('auto'), and the same by direct computation
  occlusion_8_4: (m, x) => occlusion(m, x, 1, { window: 8, strides: 4, fill: 0, batchSize: 256 }),
  occlusion_8_4_direct: (m, x) => occlusion(m, x, 1, { window: 8, strides: 4, fill: 0, batchSize: 256, incremental: false }),
  // no peer time
  scorecam_top128: (m, x, layer) => scoreCam(m, x, 1, { layer, batchSize: SCORECAM_BATCH, topChannels: 128 }),
  gradientshap_50: (m, x) => gradientShap(m, x, 1, { samples: 50, stdev: 0.09, batchSize: 64 }),
  guidedbackprop: (m, x) => guidedBackprop(m, x, 1),
  guidedgradcam: (m, x, layer) => guidedGradCam(m, x, 1, { layer }),
  featureablation_grid8: (m, x) => featureAblation(m, x, 1, { mask: 'grid', cell: 8, batchSize: 256 }),
  rise_1000: (m, x) => rise(m, x, 1, { masks: 1000, batchSize: 256 }),
};
/**
 * Arithmetic per image in forward passes F (forwardFlopsPerImage). An input gradient costs a forward
 * plus a backward whose input-gradient convolutions have the forward's FLOPs (2F; the weight
 * gradients are not needed); a CAM needs one forward and a backward through the head only (≥ F).
 * Score-CAM: one forward per channel plus one (candor skips identical masks; the floor does not).
 */
const WORK: Record<string, (channels: number) => number> = {
  saliency: () => 2,
  inputxgradient: () => 2,
  ig_gray_riemann_right_32: () => 2 * 32,
  ig_black_gausslegendre_50: () => 2 * 50,
  smoothgrad_50: () => 2 * 50,
  gradcam: () => 1,
  gradcampp: () => 1,
  xgradcam: () => 1,
  layercam: () => 1,
  hirescam: () => 1,
  scorecam: (channels) => channels + 1,
  occlusion_8_4: () => 15 * 15 + 1, // the direct method's arithmetic: the incremental one is printed beside it
  occlusion_8_4_direct: () => 15 * 15 + 1,
  scorecam_top128: () => 128 + 1,
  gradientshap_50: () => 2 * 50,
  guidedbackprop: () => 2,
  guidedgradcam: () => 2,
};
/** "incremental, 79 % MACs" or "direct" from an occlusion's `extra.passes`. */
const incrementalShare = (how: string) => (how.startsWith('incremental') ? `incremental, ${/(\d+) %/.exec(how)?.[1]} % of the MACs` : 'direct');
const SCORECAM_BATCH = Number(process.env.BENCH_SCORECAM_BATCH ?? 256);
const onlyMethods = process.env.BENCH_EXPLAIN_METHODS?.split(',');

const only = process.env.BENCH_EXPLAIN_MODELS?.split(',');
console.log(`\ncandor explanation benchmark — ${THREADS} threads, batch ${N}, ms per image (best of ≥ ${REPEATS} runs and ≥ 2 s after a warm-up) vs Captum / pytorch-grad-cam`);
const peak = await matmulPeak(THREADS);
console.log(`practical peak (MatMul in onnxruntime, this run): ${peak.toFixed(0)} GFLOP/s; floor = the method's arithmetic at that peak`);
for (const spec of MODELS.filter((s) => !only || only.includes(s.name))) {
  const ir = buildArchitecture(spec.arch, { inChannels: spec.c, numClasses: 2, inputSize: spec.size, seed: 1 });
  const model = Model.fromIR(ir, nodeOrt, { threads: THREADS, batchSize: 64, source: spec.name });
  const rng = new Rng(2);
  const x = new Tensor(Float32Array.from({ length: N * spec.c * spec.size * spec.size }, () => rng.uniform(-1, 1)), [N, spec.c, spec.size, spec.size]);
  const F = forwardFlopsPerImage(model.ir.graph, model.inferred);
  const rows: string[][] = [['method', 'candor ms/img', 'peer ms/img', 'speed-up', 'floor ms/img', 'max speed-up', 'floor/candor']];
  for (const [name, run] of Object.entries(METHODS).filter(([k]) => !onlyMethods || onlyMethods.includes(k))) {
    const first = await run(model, x, spec.layer);
    const adaptive = Array.isArray(first.extra?.steps) ? (first.extra.steps as number[]) : undefined;
    const deltaMax = (a: Attribution) => Math.max(...(a.extra!.delta as number[]).map(Math.abs)).toExponential(1);
    const passes = typeof first.extra?.forwardPasses === 'number'
      ? ` (${(first.extra.forwardPasses / N).toFixed(0)} of ${((first.extra.channels as number) / N).toFixed(0)} passes/img)`
      : adaptive
        ? ` (${(adaptive.reduce((a, b) => a + b, 0) / N).toFixed(1)} grad evals/img, |delta| ≤ ${deltaMax(first)})`
        : name.startsWith('ig_') ? ` (|delta| ≤ ${deltaMax(first)})`
          : typeof first.extra?.passes === 'string' ? ` (${incrementalShare(first.extra.passes)})` : '';
    let best = Infinity;
    // At least REPEATS runs and at least 2 s of them: the fast methods' best of 3 was often a noisy one.
    const until = performance.now() + 2000;
    for (let r = 0; r < REPEATS || performance.now() < until; r++) {
      const t0 = performance.now();
      await run(model, x, spec.layer);
      best = Math.min(best, performance.now() - t0);
    }
    const ours = best / N;
    const peer = peers.ms_per_image[spec.name]?.[name];
    const channels = typeof first.extra?.channels === 'number' ? first.extra.channels / N : 0;
    const work = adaptive ? 2 * (adaptive.reduce((a, b) => a + b, 0) / N) : WORK[name]?.(channels);
    const floor = work !== undefined ? (work * F) / (peak * 1e6) : undefined;
    rows.push([
      name + passes,
      ours.toFixed(2),
      peer?.toFixed(1) ?? '-',
      peer ? `${(peer / ours).toFixed(1)}×` : '-',
      floor?.toFixed(2) ?? '-',
      peer && floor ? `${(peer / floor).toFixed(1)}×` : '-',
      floor ? `${(floor / ours).toFixed(2)}` : '-',
    ]);
  }
  await model.dispose();
  console.log(`\n${spec.name} (${spec.c}×${spec.size}×${spec.size}, layer ${spec.layer}; F = ${(F / 1e6).toFixed(0)} MFLOP per forward)`);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log('  ' + r.map((c, i) => (i ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  '));
}
