/**
 * The work queue's scaling and cost (`npm run bench:queue`, also in `npm run bench`): the explain units of
 * the default audit — the main maps of its seven methods on its 100-image sample, in chunks of 8 images:
 * 91 units — computed
 *   - directly in this process, one after another (1 thread): the units' own time;
 *   - on the queue (a real redis-server on a free port) by 1 worker with 1 thread, 1 worker with 2 threads,
 *     and 2 workers with 1 thread each (this machine has 2 cores);
 * each queue run on an empty Redis and an empty store, the workers started, waiting and warmed up (one
 * small unit each) before the clock starts; every figure the best of BENCH_QUEUE_REPEAT (2) runs. Prints units/s, the 2-worker scaling, and the queue's overhead per unit: (queue wall time with
 * 1 worker − the units' direct time) / units, also as a share of a unit's mean time.
 * Options (env): BENCH_QUEUE_N=100 (sample images), BENCH_QUEUE_METHODS=saliency,… (default: the audit's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditContext } from '../src/audit/context.js';
import { AUDIT_TEST_IDS } from '../src/audit/tests.js';
import { predictedClasses } from '../src/audit/predictions.js';
import { DEFAULT_AUDIT_METHODS } from '../src/cli/audit.js';
import { candorVersion } from '../src/train/card.js';
import { QueueExecutor } from '../src/queue/coordinator.js';
import { ContentStore } from '../src/queue/store.js';
import { ModelCache, modelKey, runUnit, type MapsUnit } from '../src/queue/units.js';
import { repoRoot } from '../src/testing/paths.js';
import { redisSkip, startRedis } from '../src/testing/redis-server.js';
import { getMethod } from '../src/explain/registry.js';

if (redisSkip) {
  console.log(`\nqueue benchmark skipped: ${redisSkip}`);
  process.exit(0);
}
const N = Number(process.env.BENCH_QUEUE_N ?? 100);
const METHODS = (process.env.BENCH_QUEUE_METHODS ?? DEFAULT_AUDIT_METHODS).split(',');
const version = candorVersion();
const dir = mkdtempSync(join(tmpdir(), 'candor-queue-bench-'));

// The default audit's sample, targets and method options, as the audit draws them.
const ctx = await AuditContext.create({ data: 'pneumoniamnist', methods: METHODS, n: N, nRandomization: 24, nStability: 24, shortcut: 'corner:8', epochs: { randomLabels: 60, shortcut: 2 }, tests: [...AUDIT_TEST_IDS], seed: 0, threads: 1, quiet: true }, version);
const { subject, sample } = ctx;
const targets = await predictedClasses(ctx, subject.id, subject.model, sample);
type Planned = { method: string; from: number; to: number; options: Record<string, unknown> };
const planned: Planned[] = [];
for (const m of METHODS) {
  const chunk = getMethod(m).batchCoupled ? N : 8;
  for (let i = 0; i < sample.indices.length; i += chunk) planned.push({ method: m, from: i, to: Math.min(sample.indices.length, i + chunk), options: ctx.methodOptions(m, 'main') });
}
async function unitsIn(store: ContentStore): Promise<MapsUnit[]> {
  const model = await modelKey(store, subject.model);
  const out: MapsUnit[] = [];
  for (const p of planned) out.push({ kind: 'maps', model, multiLabel: false, images: await store.putTensor(sample.images.slice0(p.from, p.to)), targets: targets.slice(p.from, p.to), method: p.method, options: JSON.parse(JSON.stringify(p.options)) as Record<string, unknown> });
  return out;
}
console.log(`\ncandor work-queue benchmark — the default audit's explain units: ${METHODS.join(', ')} on ${sample.indices.length} images, chunks of 8: ${planned.length} units`);

// 1. Directly, in this process (the best of REPEAT runs, as the queue runs below).
const REPEAT = Number(process.env.BENCH_QUEUE_REPEAT ?? 2);
const directStore = await ContentStore.open(join(dir, 'direct'));
const models = new ModelCache(directStore, 1);
const units = await unitsIn(directStore);
let direct = Infinity;
let perMethod = new Map<string, number>();
for (let r = 0; r < REPEAT; r++) {
  const times = new Map<string, number>();
  const t0 = performance.now();
  for (const u of units) {
    const t = performance.now();
    await runUnit(u, directStore, models);
    times.set(u.method, (times.get(u.method) ?? 0) + (performance.now() - t) / 1000);
  }
  const s = (performance.now() - t0) / 1000;
  if (s < direct) [direct, perMethod] = [s, times];
}
await models.dispose();
console.log(`direct, 1 thread: ${direct.toFixed(1)} s (${(units.length / direct).toFixed(2)} units/s; ${[...perMethod].map(([m, s]) => `${m} ${s.toFixed(1)} s`).join(', ')})`);

function startWorker(url: string, store: string, threads: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'worker', '--queue', url, '--store', store, '--threads', String(threads)], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => d.toString().includes('waiting for units') && resolve(proc));
    proc.once('exit', (c) => reject(new Error(`worker exited with ${c}`)));
  });
}

async function onQueue(workers: number, threads: number): Promise<{ wall: number; compute: number }> {
  const redis = await startRedis();
  const storeDir = mkdtempSync(join(dir, `store-${workers}x${threads}-`));
  const store = await ContentStore.open(storeDir);
  const procs = await Promise.all(Array.from({ length: workers }, () => startWorker(redis.url, storeDir, threads)));
  const qunits = await unitsIn(store);
  const ex = await QueueExecutor.connect({ url: redis.url, store, version, log: () => {} });
  // Warm-up, off the clock: a worker forks its unit process and loads onnxruntime and the model on its
  // first unit (once per worker's life). One small unit per worker, each slower to start than to hand out.
  const w0 = performance.now();
  await Promise.all(Array.from({ length: workers }, async (_, i) => ex.run({ ...qunits[0]!, images: await store.putTensor(sample.images.slice0(i, i + 1)), targets: targets.slice(i, i + 1) })));
  warmups.push((performance.now() - w0) / 1000);
  const c0 = ex.computeSeconds;
  const t = performance.now();
  await Promise.all(qunits.map((u) => ex.run(u)));
  const s = (performance.now() - t) / 1000;
  const compute = ex.computeSeconds - c0;
  await ex.close();
  for (const p of procs) p.kill('SIGKILL');
  await redis.stop();
  return { wall: s, compute };
}

const runs: [string, number][] = [];
const warmups: number[] = [];
let oneWorker = { wall: Infinity, compute: 0 };
for (const [w, th] of [[1, 1], [1, 2], [2, 1]] as const) {
  let s = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    const q = await onQueue(w, th);
    s = Math.min(s, q.wall);
    if (w === 1 && th === 1 && q.wall < oneWorker.wall) oneWorker = q;
  }
  runs.push([`${w} worker${w > 1 ? 's' : ''} × ${th} thread${th > 1 ? 's' : ''}`, s]);
  console.log(`queue, ${runs.at(-1)![0]}: ${s.toFixed(1)} s (${(units.length / s).toFixed(2)} units/s)`);
}
const one = runs[0]![1];
const two = runs[2]![1];
// Overhead: the 1-worker run's wall time beyond what the worker itself measured computing the units
// (the same process, so no difference of process or warm-up), and also against the direct run.
const overhead = (oneWorker.wall - oneWorker.compute) / units.length;
const overheadDirect = (one - direct) / units.length;
const mean = oneWorker.compute / units.length;
console.log(`scaling: 2 workers × 1 thread = ${(one / two).toFixed(2)}× the units/s of 1 worker × 1 thread (bar ≥ 1.7×); ${(runs[1]![1] / two).toFixed(2)}× that of 1 worker × 2 threads`);
console.log(`a fresh worker's first unit (forking its unit process, loading onnxruntime and the model; once per worker, off the clock above): ${Math.max(...warmups).toFixed(1)} s at most`);
console.log(`queue overhead (1 worker): ${(overhead * 1000).toFixed(1)} ms a unit beyond the worker's own compute time = ${((100 * overhead) / mean).toFixed(1)} % of a unit's mean compute time (${(1000 * mean).toFixed(0)} ms) (bar ≤ 5 %); against the direct run in this process: ${(overheadDirect * 1000).toFixed(1)} ms = ${((100 * overheadDirect) / (direct / units.length)).toFixed(1)} %`);
await subject.model.dispose();
rmSync(dir, { recursive: true, force: true });
