/**
 * Training throughput (`npm run bench`): images/s of candor's fit loop (training graph + Adam in
 * TypeScript + running statistics), batch 128, 64×64, the best epoch after the first (session
 * start-up and first-step allocations excluded; the machine is shared, so the best of several
 * epochs), against PyTorch's figure in ../shared/peer-times.json (Adam, batch 128, 2 threads), and
 * where that epoch's time went: batch assembly, the onnxruntime call (forward + backward), the
 * optimiser step. The floor: a training step needs about 3 forward passes of arithmetic per image (forward,
 * input gradients, weight gradients; the stem's input gradient is skipped, so slightly less), and at this
 * CPU's MatMul peak measured in the same run that caps images/s and the speed-up over PyTorch.
 * Options (env): BENCH_TRAIN_MODELS=small_cnn,resnet18 BENCH_TRAIN_BATCHES=6 BENCH_TRAIN_EPOCHS=3
 * BENCH_THREADS=2 BENCH_TRAIN_CONV_GEMM=0 (keep onnxruntime's Conv, for comparison)
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { fit } from '../src/train/fit.js';
import { createOptimizer } from '../src/train/optim.js';
import { constant } from '../src/train/schedule.js';
import { buildArchitecture } from '../src/train/arch/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../src/tensor/rng.js';
import { sharedPath } from '../src/testing/paths.js';
import { forwardFlopsPerImage } from '../src/onnx/flops.js';
import { inferShapes } from '../src/onnx/shape-inference.js';
import { matmulPeak } from './peak.js';
import type { OrtSessionApi } from '../src/runtime/session.js';
import type { SingleLabelDataset } from '../src/data/dataset.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const BATCHES = Number(process.env.BENCH_TRAIN_BATCHES ?? 6);
const EPOCHS = Math.max(2, Number(process.env.BENCH_TRAIN_EPOCHS ?? 3));
const CONV_GEMM = process.env.BENCH_TRAIN_CONV_GEMM !== '0';
const BS = 128;
const peers = JSON.parse(readFileSync(sharedPath('peer-times.json'), 'utf8')) as { training_images_per_second: Record<string, number> };
const only = process.env.BENCH_TRAIN_MODELS?.split(',');

console.log(`\ncandor training benchmark — ${THREADS} threads, batch ${BS}, 64×64, Adam; images/s of the best of epochs 2–${EPOCHS} (${BATCHES} batches each)${CONV_GEMM ? '' : ', Conv kept'}`);
const peak = await matmulPeak(THREADS);
console.log(`practical peak (MatMul in onnxruntime, this run): ${peak.toFixed(0)} GFLOP/s; ceiling = 3 forwards per image at that peak`);
const rows: string[][] = [['model', 'candor img/s', 'PyTorch img/s', 'speed-up', 'ms/batch: data', 'onnxruntime', 'optimizer', 'ceiling img/s', 'max speed-up', '% peak']];
for (const [arch, c] of [['small_cnn', 1], ['resnet18', 3]] as const) {
  if (only && !only.includes(arch)) continue;
  const n = BATCHES * BS;
  const rng = new Rng(1);
  const ds: SingleLabelDataset = {
    task: 'single',
    images: new Tensor(Float32Array.from({ length: n * c * 64 * 64 }, () => rng.uniform(-1, 1)), [n, c, 64, 64]),
    labels: Int32Array.from({ length: n }, (_, i) => i % 2),
    classNames: ['a', 'b'],
    source: 'random',
  };
  const model = buildArchitecture(arch, { inChannels: c, numClasses: 2, inputSize: 64, seed: 1, dropout: 'inference' });
  const r = await fit(model, ds, undefined, ort as unknown as OrtSessionApi, {
    epochs: EPOCHS,
    ...(CONV_GEMM ? {} : { convGemm: false as const }),
    batchSize: BS,
    threads: THREADS,
    optimizer: (p) => createOptimizer(p, { type: 'Adam', lr: 1e-3 }),
    learningRate: constant(1e-3),
  });
  const best = r.history.slice(1).reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
  const ips = best.imagesPerSecond;
  const peer = peers.training_images_per_second[arch];
  const ms = (s: number) => ((1000 * s) / BATCHES).toFixed(0);
  const F = forwardFlopsPerImage(model.graph, inferShapes(model.graph));
  const ceiling = (peak * 1e9) / (3 * F);
  rows.push([
    arch,
    ips.toFixed(0),
    peer?.toFixed(0) ?? '-',
    peer ? `${(ips / peer).toFixed(1)}×` : '-',
    ms(best.timing.data),
    ms(best.timing.graph),
    ms(best.timing.optimizer),
    ceiling.toFixed(0),
    peer ? `${(ceiling / peer).toFixed(1)}×` : '-',
    `${((100 * ips) / ceiling).toFixed(0)}%`,
  ]);
}
const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((cell, i) => (i ? cell.padStart(w[i]!) : cell.padEnd(w[i]!))).join('  '));
