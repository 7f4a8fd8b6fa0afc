/**
 * Volumes (`npm run bench:volume`): torchvision's r3d_18 (3-D ResNet-18, one input channel) at 64³ — forward and
 * VJP volumes/s, and each explanation method's ms per volume against Captum / pytorch-grad-cam run the same way
 * (bench/volume_peer.py: same model, same inputs, 2 threads, batching options set).
 *
 * The model (133 MB) is exported by bench/volume_peer.py into BENCH_CACHE (default: the OS temp dir) on first use.
 * Peer times: measured in this run when BENCH_PEER=1 (needs Debian's python3-torch, python3-torchvision and the
 * sources of Captum and pytorch-grad-cam in CAPTUM / PYTORCH_GRAD_CAM), else read from bench/peer-times-3d.json,
 * which records such a run (and is rewritten by a BENCH_PEER=1 run). Ratios are meaningful within one run only.
 * 'below floor': the direct method's floor over candor's time (> 1: less arithmetic than the direct method, i.e.
 * incremental inference). Options (env): BENCH_THREADS=2 BENCH_VOLUMES=2 BENCH_PEER=1 BENCH_CACHE=dir
 * BENCH_VOLUME_METHODS=forward,occlusion_16_16
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src/runtime/node.js';
import { Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../src/tensor/rng.js';
import { forwardFlopsPerImage } from '../src/onnx/flops.js';
import { matmulPeak } from './peak.js';
import { explain } from '../src/explain/registry.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const N = Number(process.env.BENCH_VOLUMES ?? 2);
const CACHE = process.env.BENCH_CACHE ?? join(tmpdir(), 'candor-bench');
const HERE = fileURLToPath(new URL('.', import.meta.url));
const PEER_FILE = join(HERE, 'peer-times-3d.json');
const PY = '/usr/bin/python3';

mkdirSync(CACHE, { recursive: true });
const onnx = join(CACHE, 'r3d18_64.onnx');
if (!existsSync(onnx)) {
  console.log(`exporting torchvision r3d_18 (1 channel, 64³) to ${onnx} …`);
  const r = spawnSync(PY, [join(HERE, 'volume_peer.py'), 'export', onnx], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bench/volume_peer.py export failed (needs ${PY} with python3-torch and python3-torchvision)`);
}

type PeerTimes = { torch: string; threads: number; n: number; ms_per_volume: Record<string, number | string>; measured?: string };
let peer: PeerTimes | undefined;
if (process.env.BENCH_PEER === '1') {
  console.log('timing Captum / pytorch-grad-cam in this run …');
  const r = spawnSync(PY, [join(HERE, 'volume_peer.py'), 'time', String(THREADS), String(N)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('bench/volume_peer.py time failed');
  peer = { ...(JSON.parse(r.stdout) as PeerTimes), measured: new Date().toISOString() };
  writeFileSync(PEER_FILE, JSON.stringify(peer, null, 1) + '\n');
} else if (existsSync(PEER_FILE)) peer = JSON.parse(readFileSync(PEER_FILE, 'utf8')) as PeerTimes;

const model = loadModel(onnx, { threads: THREADS, batchSize: 8 });
const rng = new Rng(2);
const x = new Tensor(Float32Array.from({ length: N * 64 ** 3 }, () => rng.uniform(-1, 1)), [N, 1, 64, 64, 64]);
const F = forwardFlopsPerImage(model.ir.graph, model.inferred);
const peak = await matmulPeak(THREADS);

async function best(run: () => Promise<unknown>, repeats: number): Promise<number> {
  await run();
  let b = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await run();
    b = Math.min(b, performance.now() - t0);
  }
  return b / N;
}

const METHODS: [string, string, Record<string, unknown>, number, number][] = [
  // name, candor method, options, forward-pass equivalents of arithmetic (floor), repeats
  ['forward', '', {}, 1, 3],
  ['saliency', 'saliency', {}, 2, 3],
  ['ig_zeros_gausslegendre_16', 'ig', { steps: 16, method: 'gausslegendre', baseline: 'zeros', batchSize: 8 }, 32, 1],
  ['smoothgrad_8', 'smoothgrad', { samples: 8, stdev: 0.15, batchSize: 8 }, 16, 1],
  ['gradcam', 'gradcam', { layer: 'layer4' }, 1, 3],
  ['gradcampp', 'gradcampp', { layer: 'layer4' }, 1, 3],
  // occlusion: incremental inference ('auto'), the same by direct computation, and 8³ windows (512 a volume)
  // incrementally only — the direct method would take ~5 min a volume; its floor is printed
  ['occlusion_16_16', 'occlusion', { window: 16, strides: 16, batchSize: 8 }, 65, 1],
  ['occlusion_16_16_direct', 'occlusion', { window: 16, strides: 16, batchSize: 8, incremental: false }, 65, 1],
  ['occlusion_8_8', 'occlusion', { window: 8, strides: 8, batchSize: 8 }, 513, 1],
];

console.log(`\ncandor volume benchmark — r3d_18 (1×64×64×64; F = ${(F / 1e9).toFixed(1)} GFLOP per forward), ${THREADS} threads, ${N} volumes; MatMul peak ${peak.toFixed(0)} GFLOP/s this run`);
console.log(peer ? `peer: Captum 0.8 / pytorch-grad-cam on torch ${peer.torch}, ${peer.threads} threads, ${peer.n} volumes (${peer.measured ? `measured ${peer.measured}` : 'recorded'}${process.env.BENCH_PEER === '1' ? ', this run' : ` — ${PEER_FILE}, not this run`})` : 'peer: no times (set BENCH_PEER=1)');
const rows: string[][] = [['method', 'candor ms/vol', 'peer ms/vol', 'speed-up', 'floor ms/vol', 'below floor']];
const only = process.env.BENCH_VOLUME_METHODS?.split(',');
for (const [name, method, opts, work, repeats] of METHODS) {
  if (only && !only.includes(name)) continue;
  let how = '';
  const ms = await best(async () => {
    if (!method) return model.forward(x);
    const r = await explain(model, x, method, 1, opts);
    if (typeof r.extra?.passes === 'string') how = r.extra.passes.startsWith('incremental') ? ` (incremental, ${/(\d+) %/.exec(r.extra.passes)?.[1]} % of the MACs)` : ' (direct)';
    return r;
  }, repeats);
  const p = peer?.ms_per_volume[name];
  rows.push([name + how, ms.toFixed(0), typeof p === 'number' ? p.toFixed(0) : p ? 'fails on 5-D' : '-', typeof p === 'number' ? `${(p / ms).toFixed(2)}×` : '-', ((work * F) / (peak * 1e6)).toFixed(0), `${((work * F) / (peak * 1e6) / ms).toFixed(2)}×`]);
}
const vjp = await best(() => model.vjp(x, { seed: model.oneHot(Array(N).fill(1)) }), 3);
console.log(`forward ${(1000 / Number(rows[1]![1])).toFixed(2)} volumes/s; VJP (logits + input gradient) ${(1000 / vjp).toFixed(2)} volumes/s`);
const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log('  ' + r.map((c, i) => (i ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  '));
for (const [k, v] of Object.entries(peer?.ms_per_volume ?? {})) if (typeof v === 'string') console.log(`  peer ${k}: ${v}`);
await model.dispose();
