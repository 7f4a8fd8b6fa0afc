/**
 * Engine benchmark (`npm run bench`): per model, images/s of forward and of the VJP
 * (input gradient; input + one layer), their ratio, and the forward pass's GFLOP/s against
 * a practical peak measured in the same run (a large MatMul in onnxruntime). The Captum
 * `saliency` time (forward + backward of one logit, PyTorch 1.13, 2 threads, batch 8) in
 * ../shared/peer-times.json is the yardstick for the VJP.
 *
 * Transformers: the zoo's ViT, DeiT and Swin (src/autodiff/fixtures/zoo, 32×32), and with
 * BENCH_ZOO_FULL=DIR the full-size ViT-Ti/16 and Swin-T at 224×224 that `scripts/make-zoo.py --bench DIR`
 * writes (Debian's python3-torch; not committed: 23 and 113 MB). The bar for them is vjp/fwd ≤ 2.5.
 *
 * Options (env): BENCH_MODELS=small_cnn,resnet18 BENCH_BATCH=8 BENCH_SECONDS=2 BENCH_THREADS=2
 */
import { readFileSync, existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { Tensor } from '../src/tensor/tensor.js';
import { Model } from '../src/runtime/model.js';
import { nodeOrt } from '../src/runtime/node.js';
import { buildArchitecture } from '../src/train/arch/index.js';
import { forwardFlopsPerImage } from '../src/onnx/flops.js';
import { Rng } from '../src/tensor/rng.js';
import { repoRoot, sharedPath } from '../src/testing/paths.js';
import { join } from 'node:path';
import type { Model as IRModel } from '../src/onnx/ir.js';
import { matmulPeak } from './peak.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const BATCH = Number(process.env.BENCH_BATCH ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

interface Spec {
  name: string;
  peer?: string;
  build: () => IRModel;
  input: number[];
  layer: string;
}

const SPECS: Spec[] = [
  { name: 'small_cnn', peer: 'small_cnn', build: () => buildArchitecture('small-cnn', { inChannels: 1, numClasses: 2, seed: 1, inputSize: 64 }), input: [1, 64, 64], layer: 'features.8' },
  { name: 'resnet18', peer: 'resnet18', build: () => buildArchitecture('resnet18', { inChannels: 3, numClasses: 2, seed: 1, inputSize: 64 }), input: [3, 64, 64], layer: 'layer4' },
  { name: 'densenet121', peer: 'densenet121', build: () => buildArchitecture('densenet121', { inChannels: 3, numClasses: 2, seed: 1, inputSize: 96 }), input: [3, 96, 96], layer: 'features.denseblock4' },
  { name: 'mobilenet_v2', peer: 'mobilenet_v2', build: () => buildArchitecture('mobilenet_v2', { inChannels: 3, numClasses: 2, seed: 1, inputSize: 64 }), input: [3, 64, 64], layer: 'features.18' },
];

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up (session creation, allocation)
  await fn();
  const times: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end || times.length < 3) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!; // median ms
}

/** Median of t(b)/t(a) over back-to-back pairs (warm), for ≥ SECONDS and at least 5 pairs. */
async function pairedRatio(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<number> {
  await a();
  await b();
  const ratios: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end || ratios.length < 5) {
    const t0 = performance.now();
    await a();
    const t1 = performance.now();
    await b();
    ratios.push((performance.now() - t1) / (t1 - t0));
  }
  ratios.sort((p, q) => p - q);
  return ratios[Math.floor(ratios.length / 2)]!;
}

function randomBatch(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((p, q) => p * q, 1);
  return new Tensor(Float32Array.from({ length: n }, () => rng.uniform(-1, 1)), shape);
}

async function main(): Promise<void> {
  const peers = JSON.parse(readFileSync(sharedPath('peer-times.json'), 'utf8')) as { ms_per_image: Record<string, Record<string, number>> };
  const only = process.env.BENCH_MODELS?.split(',');
  console.log(`candor engine benchmark — ${THREADS} threads, batch ${BATCH}, median of ≥${SECONDS}s per figure, onnxruntime-node ${ort.env.versions.node}`);
  const peak = await matmulPeak(THREADS, SECONDS);
  console.log(`practical peak (best of 512³/1536³/2048³ MatMul in onnxruntime): ${peak.toFixed(1)} GFLOP/s\n`);
  const header = ['model', 'fwd img/s', 'vjp(x) img/s', 'vjp(x+L) img/s', 'vjp/fwd', 'vjp+L/fwd', 'fwd GFLOP/s', '% peak', 'Captum ms/img', 'candor ms/img', 'speed-up'];
  const rows: string[][] = [];
  const specs = SPECS.filter((s) => !only || only.includes(s.name));
  if (existsSync(sharedPath('models/tiny_resnet_opset17.onnx')) && (!only || only.includes('tiny_resnet'))) {
    specs.push({ name: 'tiny_resnet (torch export)', build: () => Model.fromBytes(readFileSync(sharedPath('models/tiny_resnet_opset17.onnx')), nodeOrt).ir, input: [3, 64, 64], layer: 'layer3' });
  }
  const zoo = (dir: string, name: string, input: number[], layer: string) => {
    const file = join(dir, `${name}.onnx`);
    if (existsSync(file) && (!only || only.includes(name))) specs.push({ name, build: () => Model.fromBytes(readFileSync(file), nodeOrt).ir, input, layer });
  };
  const zooDir = join(repoRoot, 'src/autodiff/fixtures/zoo');
  zoo(zooDir, 'vit', [3, 32, 32], 'encoder.layers.encoder_layer_1.ln_1');
  zoo(zooDir, 'deit', [3, 32, 32], 'blocks.1.norm1');
  zoo(zooDir, 'swin', [3, 32, 32], 'features.3');
  if (process.env.BENCH_ZOO_FULL) {
    zoo(process.env.BENCH_ZOO_FULL, 'vit_ti16_224', [3, 224, 224], 'encoder.layers.encoder_layer_11.ln_1');
    zoo(process.env.BENCH_ZOO_FULL, 'swin_t_224', [3, 224, 224], 'features.7');
  }
  for (const spec of specs) {
    const model = Model.fromIR(spec.build(), nodeOrt, { threads: THREADS, batchSize: BATCH, source: spec.name });
    const x = randomBatch([BATCH, ...spec.input], 7);
    const seed = model.oneHot(Array(BATCH).fill(1));
    const fwd = await timeIt(() => model.forward(x));
    const vjpX = await timeIt(() => model.vjp(x, { seed }));
    const vjpL = await timeIt(() => model.vjp(x, { seed, layers: [spec.layer] }));
    // The ratio from interleaved runs (forward, VJP, forward, VJP, …): on a shared machine, load that comes
    // and goes between the two medians above moves their ratio; pairs taken back to back do not.
    const ratioX = await pairedRatio(() => model.forward(x), () => model.vjp(x, { seed }));
    const flops = forwardFlopsPerImage(model.ir.graph, model.inferred);
    const gflops = (flops * BATCH) / (fwd / 1000) / 1e9;
    const peer = spec.peer ? peers.ms_per_image[spec.peer]?.['saliency'] : undefined;
    const ours = vjpX / BATCH;
    rows.push([
      spec.name,
      ((BATCH * 1000) / fwd).toFixed(0),
      ((BATCH * 1000) / vjpX).toFixed(0),
      ((BATCH * 1000) / vjpL).toFixed(0),
      `${(vjpX / fwd).toFixed(2)} (${ratioX.toFixed(2)})`,
      (vjpL / fwd).toFixed(2),
      gflops.toFixed(1),
      ((100 * gflops) / peak).toFixed(0) + '%',
      peer?.toFixed(1) ?? '-',
      ours.toFixed(2),
      peer ? (peer / ours).toFixed(1) + '×' : '-',
    ]);
    console.log(`${spec.name}: ${(flops / 1e6).toFixed(0)} MFLOP/image forward`);
    await model.dispose();
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log('\n' + fmt(header));
  for (const r of rows) console.log(fmt(r));
  console.log('\nvjp(x): logits + input gradient (in brackets: the median ratio of back-to-back forward/VJP pairs); vjp(x+L): also the layer activation and gradient. Captum = saliency (|∂logit/∂x|) from peer-times.json.');
}

await main();
