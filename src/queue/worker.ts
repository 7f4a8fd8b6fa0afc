/**
 * `candor worker`: takes units from the queue of its candor version until stopped. One unit at a time
 * (run it once per core group with --threads, or one per machine); the units run in a child process
 * (./processor.ts) while this process keeps the job's lock. SIGTERM or Ctrl-C finishes the unit in hand
 * and stops; a second signal stops at once, and the unit goes back to the queue when its lock expires.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { fileURLToPath } from 'node:url';
import { candorVersion } from '../train/card.js';
import { checkReachable, displayUrl, queueName, redisOptions, WORKER_KEY_PREFIX, workerHost } from './connection.js';
import type { JobData } from './coordinator.js';
import { ContentStore } from './store.js';
import { describeUnit, type UnitResult } from './units.js';

export interface WorkerOptions {
  url: string;
  store: string;
  /** onnxruntime intra-op threads per unit (default: every core). */
  threads?: number;
  log: (line: string) => void;
  /** How long a unit's lock lasts without renewal (ms; default 30 s; the tests shorten it). */
  lockMs?: number;
}

export async function runWorker(o: WorkerOptions): Promise<{ stop: (force?: boolean) => Promise<void>; closed: Promise<void> }> {
  const version = candorVersion();
  await checkReachable(o.url);
  const store = await ContentStore.open(o.store);
  process.env.CANDOR_STORE = store.location;
  if (o.threads) process.env.CANDOR_THREADS = String(o.threads);
  const here = fileURLToPath(import.meta.url);
  const processor = here.replace(/worker\.(ts|js)$/, (_m, ext: string) => `processor.${ext}`);
  const connection = redisOptions(o.url);
  const lockMs = o.lockMs ?? 30_000;
  const name = queueName(version);
  const worker = new Worker<JobData, UnitResult>(name, processor, { connection, concurrency: 1, lockDuration: lockMs, stalledInterval: Math.max(1000, lockMs / 2), maxStalledCount: 3 });
  const redis = new Redis(connection);
  const key = `${WORKER_KEY_PREFIX}${workerHost()}`;
  const beat = () => void redis.set(key, JSON.stringify({ version, host: workerHost(), threads: o.threads ?? null, seen: new Date().toISOString() }), 'EX', 30).catch(() => {});
  beat();
  const beating = setInterval(beat, 10_000);
  let down = false;
  const onError = (e: Error) => {
    if (down) return;
    down = true;
    o.log(`worker: lost Redis at ${displayUrl(o.url)} (${(e as NodeJS.ErrnoException).code ?? e.message}); waiting for it to come back…`);
  };
  worker.on('error', onError);
  redis.on('error', onError);
  redis.on('ready', () => {
    if (down) o.log(`worker: Redis is back`);
    down = false;
  });
  const started = new Map<string, number>();
  worker.on('active', (job) => {
    started.set(job.id!, performance.now());
    o.log(`worker: ${describeUnit(job.data.unit)} (job ${job.id}, attempt ${job.attemptsMade + 1})`);
  });
  const took = (id: string | undefined) => {
    const t0 = id === undefined ? undefined : started.get(id);
    if (id !== undefined) started.delete(id);
    return t0 === undefined ? '' : ` after ${((performance.now() - t0) / 1000).toFixed(2)} s`;
  };
  worker.on('completed', (job) => o.log(`worker: done${took(job.id)} (job ${job.id})`));
  worker.on('failed', (job, err) => o.log(`worker: ${job ? `job ${job.id}` : 'a job'} failed${took(job?.id)}: ${err.message}`));
  await worker.waitUntilReady();
  o.log(`worker: candor ${version} on ${displayUrl(o.url)} (queue ${name}), store ${store.location}, ${o.threads ?? 'all'} threads; waiting for units`);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let stopping = false;
  const stop = async (force = false) => {
    if (stopping && !force) return;
    stopping = true;
    o.log(force ? 'worker: stopping now (the unit in hand goes back to the queue)' : 'worker: finishing the unit in hand, then stopping (signal again to stop now)');
    await worker.close(force);
    clearInterval(beating);
    await redis.del(key).catch(() => {});
    redis.disconnect();
    resolveClosed();
  };
  return { stop, closed };
}
