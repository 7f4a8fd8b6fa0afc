/**
 * Quantus' metrics (`npm run bench:metrics`, part of `npm run bench`): each metric's time on a batch of 16 images
 * of a tutorial-style small CNN (1×64×64, 2 classes, seeded), candor against Quantus 0.6 with the same settings
 * (bench/metrics_peer.py: the same PyTorch model exported to ONNX, the same inputs and gradient maps, 2 threads,
 * the batch in one call). Both sides explain with the plain gradient where a metric re-explains.
 * Peer times: measured in this run when BENCH_PEER=1 (needs Debian's python3-torch and the sources of Quantus and
 * Captum in QUANTUS / CAPTUM), else read from bench/peer-times-metrics.json, which records such a run (rewritten by a
 * BENCH_PEER=1 run). Ratios are meaningful within one run only. IROF: each side segments with its own SLIC
 * (Quantus scikit-image's, candor its own), so the superpixels — and the work — differ.
 * Options (env): BENCH_THREADS=2 BENCH_PEER=1 BENCH_CACHE=dir BENCH_REPEATS=2
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src/runtime/node.js';
import { readNpyFileSync } from '../src/io/files.js';
import { Tensor } from '../src/tensor/tensor.js';
import { explain } from '../src/explain/registry.js';
import type { Model } from '../src/runtime/model.js';
import * as q from '../src/evaluate/quantus/index.js';
import { parameterGroups, randomizeGroups } from '../src/audit/randomize.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2);
const CACHE = join(process.env.BENCH_CACHE ?? join(tmpdir(), 'candor-bench'), 'metrics');
const HERE = fileURLToPath(new URL('.', import.meta.url));
const PEER_FILE = join(HERE, 'peer-times-metrics.json');
const PY = '/usr/bin/python3';

mkdirSync(CACHE, { recursive: true });
if (!existsSync(join(CACHE, 'a.npy'))) {
  const r = spawnSync(PY, [join(HERE, 'metrics_peer.py'), 'export', CACHE], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bench/metrics_peer.py export failed (needs ${PY} with python3-torch)`);
}
type PeerTimes = { quantus: string; torch: string; threads: number; n: number; ms_per_batch: Record<string, number | string>; measured?: string };
let peer: PeerTimes | undefined;
if (process.env.BENCH_PEER === '1') {
  console.log('timing Quantus in this run …');
  const r = spawnSync(PY, [join(HERE, 'metrics_peer.py'), 'time', CACHE, String(THREADS)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (r.status !== 0) throw new Error('bench/metrics_peer.py time failed');
  peer = { ...(JSON.parse(r.stdout) as PeerTimes), measured: new Date().toISOString() };
  writeFileSync(PEER_FILE, JSON.stringify(peer, null, 1) + '\n');
} else if (existsSync(PEER_FILE)) peer = JSON.parse(readFileSync(PEER_FILE, 'utf8')) as PeerTimes;

const model = loadModel(join(CACHE, 'cnn.onnx'), { threads: THREADS });
const x = readNpyFileSync(join(CACHE, 'x.npy')) as Tensor;
const y = Array.from(readNpyFileSync(join(CACHE, 'y.npy')).data as ArrayLike<number | bigint>, Number);
const a = readNpyFileSync(join(CACHE, 'a.npy')) as Tensor;
const grad = async (m: Model, inputs: Tensor, t: readonly number[]) => (await explain(m, inputs, 'gradient', [...t])).attributions!;
const g = (inputs: Tensor, t: readonly number[]) => grad(model, inputs, t);
const randomized = model.derive(randomizeGroups(model.ir, parameterGroups(model.ir), 0), 'randomized');
const quadrants = Array.from({ length: y.length }, () => [1, 0, 0, 1] as const);

const METRICS: [string, () => Promise<unknown>][] = [
  ['faithfulness_estimate', () => q.faithfulnessEstimate(model, x, y, a.data, { featuresInStep: 64 })],
  ['pixel_flipping', () => q.pixelFlipping(model, x, y, a.data, { featuresInStep: 128 })],
  ['region_perturbation', () => q.regionPerturbation(model, x, y, a.data, { patchSize: 8 })],
  ['selectivity', () => q.selectivity(model, x, y, a.data, { patchSize: 8 })],
  ['irof', () => q.irof(model, x, y, a.data)],
  ['infidelity', () => q.infidelity(model, x, y, a.data, { patchSizes: [8] })],
  ['monotonicity_correlation', () => q.monotonicityCorrelation(model, x, y, a.data, { featuresInStep: 256, samples: 5 })],
  ['sensitivity_n', () => q.sensitivityN(model, x, y, a.data, { featuresInStep: 128 })],
  ['non_sensitivity', () => q.nonSensitivity(model, x, y, a.data, { featuresInStep: 64 })],
  ['sufficiency', () => q.sufficiency(model, x, a.data)],
  ['completeness', () => q.completeness(model, x, y, a.data)],
  ['avg_sensitivity', () => q.quantusSensitivity('avg', model, x, a, y, g, { samples: 10 })],
  ['max_sensitivity', () => q.quantusSensitivity('max', model, x, a, y, g, { samples: 10 })],
  ['local_lipschitz', () => q.localLipschitzEstimate(model, x, a, y, g, { samples: 10 })],
  ['continuity', () => q.continuity(model, x, y, g, { steps: 8 })],
  ['consistency', () => q.consistency(model, x, a)],
  ['relative_input_stability', () => q.relativeStability('input', model, x, a, y, g, { samples: 10 })],
  ['relative_output_stability', () => q.relativeStability('output', model, x, a, y, g, { samples: 10 })],
  ['random_logit', () => q.randomLogit(model, x, a, y, g)],
  ['emprt', () => q.efficientMprt(model, x, y, grad, [{ layer: 'all', model: randomized }])],
  ['smprt', () => q.smoothMprt(model, x, y, a, grad, parameterGroups(model.ir).map((_, k) => ({ layer: String(k), model: randomized })), { samples: 5 })],
  ['input_invariance', () => q.inputInvariance(model, x, y, a, grad)],
  ['focus', async () => q.focus(a.data, a.shape, quadrants)],
  ['sparseness', async () => q.sparseness(a.data, y.length)],
  ['complexity', async () => q.complexity(a.data, y.length)],
  ['effective_complexity', async () => q.effectiveComplexity(a.data, y.length)],
];

console.log(`Quantus' metrics on ${y.length} images of a small CNN at 64², ${THREADS} threads; ms per batch (best of ${REPEATS}); peer: ${peer ? `Quantus ${peer.quantus}, torch ${peer.torch}${peer.measured ? `, measured ${peer.measured}` : ''}` : 'none'}`);
console.log(`${'metric'.padEnd(28)}${'candor'.padStart(10)}${'Quantus'.padStart(10)}${'×'.padStart(8)}`);
const ratios: number[] = [];
for (const [name, run] of METRICS) {
  await run();
  let best = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    await run();
    best = Math.min(best, performance.now() - t0);
  }
  const p = peer?.ms_per_batch[name];
  const ratio = typeof p === 'number' ? p / best : undefined;
  if (ratio) ratios.push(ratio);
  console.log(`${name.padEnd(28)}${best.toFixed(1).padStart(10)}${(typeof p === 'number' ? p.toFixed(1) : p ? 'error' : '—').padStart(10)}${(ratio ? ratio.toFixed(1) : '').padStart(8)}`);
}
if (ratios.length) {
  const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
  console.log(`geometric mean of Quantus / candor: ${geo.toFixed(1)}× over ${ratios.length} metrics; slowest relative: ${Math.min(...ratios).toFixed(2)}×`);
}
await randomized.dispose();
await model.dispose();
