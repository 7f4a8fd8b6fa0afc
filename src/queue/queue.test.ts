/**
 * The work queue with real parts: Debian's redis-server on a free port, `candor worker` processes, BullMQ.
 * A small audit run on the queue by three workers — one killed (SIGKILL) while it trains a sanity-check
 * model, one unit made to fail once — writes the same report, byte for byte in its maps and models, as
 * the same audit in one process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { runAudit } from '../audit/run.js';
import { candorVersion } from '../train/card.js';
import { repoRoot } from '../testing/paths.js';
import { freePort, redisSkip, startRedis } from '../testing/redis-server.js';
import { startS3 } from '../testing/s3-server.js';
import { checkReachable, queueName, redisOptions } from './connection.js';
import { ContentStore, MissingBlob, sha256 } from './store.js';
import { unitId, type Unit } from './units.js';
import { Tensor } from '../tensor/tensor.js';

/** A store's contract, on a folder and on S3: keys are SHA-256, writing twice is a no-op, a corrupt blob is removed. */
async function storeContract(s: ContentStore, corrupt: (hash: string) => Promise<void>): Promise<void> {
  const bytes = new TextEncoder().encode('a map');
  const k = await s.put(bytes);
  assert.equal(k, sha256(bytes));
  assert.equal(await s.put(bytes), k);
  assert.deepEqual(await s.get(k), bytes);
  const t = new Tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
  assert.deepEqual(Array.from((await s.getTensor(await s.putTensor(t))).data), [1, 2, 3, 4, 5, 6]);
  await corrupt(k);
  await assert.rejects(s.get(k), (e: Error) => e instanceof MissingBlob && /was corrupt/.test(e.message));
  assert.equal(await s.has(k), false, 'a corrupt blob is removed (its unit is computed again)');
  await assert.rejects(s.get('0'.repeat(64)), MissingBlob);
  await assert.rejects(s.get('../etc/passwd'), /not a SHA-256/);
}

test('the content store in a folder keys blobs by their SHA-256, writes them once, and refuses a corrupt or missing one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-store-'));
  try {
    const s = await ContentStore.open(dir);
    assert.equal((await ContentStore.open(dir)).id, s.id, 'a store keeps its id');
    await storeContract(s, async (k) => writeFileSync(join(dir, 'blobs', k.slice(0, 2), k.slice(2)), 'a nap'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the content store on S3 (s3://bucket/prefix, an S3-compatible server on 127.0.0.1) keeps the same contract, and a wrong bucket is one clear line', async () => {
  const s3 = await startS3();
  const env = s3.env;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const s = await ContentStore.open('s3://candor-store/runs/a');
    assert.equal(s.location, 's3://candor-store/runs/a');
    assert.equal((await ContentStore.open('s3://candor-store/runs/a/')).id, s.id, 'a store keeps its id');
    assert.notEqual((await ContentStore.open('s3://candor-store/runs/b')).id, s.id, 'another prefix is another store');
    await storeContract(s, async (k) => {
      await (s.backend as { write(n: string, b: Uint8Array): Promise<void> }).write(`blobs/${k.slice(0, 2)}/${k.slice(2)}`, new TextEncoder().encode('a nap'));
    });
    await assert.rejects(ContentStore.open('s3://no-such-bucket'), /--store s3:\/\/no-such-bucket: cannot read the bucket \(NoSuchBucket/);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await s3.stop();
  }
});

test('unit ids are equal for equal units whatever the key order, and differ with the version or any field', () => {
  const a: Unit = { kind: 'maps', model: 'm', multiLabel: false, images: 'i', targets: [0, 1], method: 'saliency', options: { seed: 0, steps: 8 } };
  const b: Unit = { options: { steps: 8, seed: 0 }, method: 'saliency', targets: [0, 1], images: 'i', multiLabel: false, model: 'm', kind: 'maps' };
  assert.equal(unitId('1', a), unitId('1', b));
  assert.notEqual(unitId('1', a), unitId('2', a));
  assert.notEqual(unitId('1', a), unitId('1', { ...a, targets: [1, 0] }));
  assert.match(unitId('1', a), /^maps-[0-9a-f]{16}$/);
});

test('a wrong --queue URL is one clear line, quickly', async () => {
  assert.throws(() => redisOptions('http://localhost:6379'), /redis:\/\/HOST:PORT/);
  assert.throws(() => redisOptions('localhost:6379'), /redis:\/\/HOST:PORT|not a URL/);
  const port = await freePort();
  const t0 = performance.now();
  await assert.rejects(checkReachable(`redis://127.0.0.1:${port}`, 2000), new RegExp(`cannot reach Redis \\(ECONNREFUSED\\).*redis-server`));
  assert.ok(performance.now() - t0 < 3000);
});

interface Spawned {
  proc: ChildProcess;
  log: string[];
}

function startWorker(url: string, store: string, env: Record<string, string>): Spawned {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'worker', '--queue', url, '--store', store, '--threads', '1'], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const read = (d: Buffer) => log.push(...d.toString().split('\n').filter(Boolean));
  proc.stdout!.on('data', read);
  proc.stderr!.on('data', read);
  return { proc, log };
}

const stopped = (p: ChildProcess) => new Promise<number | null>((resolve) => (p.exitCode !== null || p.signalCode ? resolve(p.exitCode) : p.once('exit', (c) => resolve(c))));

test('an audit on the queue with three workers, one killed mid-unit and one unit failing once, equals the single-process audit byte for byte', { skip: redisSkip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-queue-'));
  const redis = await startRedis();
  const workers: Spawned[] = [];
  const opts = {
    data: 'pneumoniamnist',
    methods: ['saliency', 'gradcam', 'smoothgrad'],
    n: 12,
    nRandomization: 4,
    nStability: 4,
    shortcut: 'corner:8',
    epochs: { randomLabels: 2, shortcut: 1 },
    trainLimit: 300,
    tests: ['overview', 'performance', 'model-randomization', 'data-randomization', 'shortcut', 'faithfulness', 'stability', 'agreement'],
    seed: 0,
    threads: 1,
    quiet: true,
    force: false,
  };
  try {
    const ref = await runAudit({ ...opts, cacheDir: join(dir, 'cache-ref'), out: join(dir, 'ref') });

    const store = join(dir, 'store');
    const name = queueName(candorVersion());
    const connection = redisOptions(redis.url);
    const events = new QueueEvents(name, { connection });
    await events.waitUntilReady();
    const stalled: string[] = [];
    events.on('stalled', ({ jobId }) => stalled.push(jobId));
    const env = { CANDOR_QUEUE_LOCK_MS: '3000', CANDOR_TEST_FAIL_FIRST_ATTEMPT: 'training the shortcut model' };
    for (let i = 0; i < 3; i++) workers.push(startWorker(redis.url, store, env));
    // SIGKILL the first worker seen training the random-label model, while it holds that unit.
    let killed: Spawned | undefined;
    const watch = setInterval(() => {
      if (killed) return;
      const w = workers.find((x) => x.log.some((l) => l.includes('training the random-labels model')));
      if (w) {
        killed = w;
        w.proc.kill('SIGKILL');
      }
    }, 50);
    let res;
    try {
      res = await runAudit({ ...opts, cacheDir: join(dir, 'cache-queue'), out: join(dir, 'queued'), queue: redis.url, store });
    } finally {
      clearInterval(watch);
    }
    assert.ok(killed, 'a worker was killed while it held a unit');
    assert.ok(stalled.length >= 1, `the killed worker's unit was recovered as stalled (stalled: ${stalled.join(', ')})`);
    const all = workers.flatMap((w) => w.log).join('\n');
    assert.match(all, /injected failure/, 'the shortcut-model unit failed on its first attempt');

    // Nothing lost, nothing left: every job completed, none failed or waiting.
    const queue = new Queue(name, { connection });
    const counts = await queue.getJobCounts('completed', 'failed', 'wait', 'active', 'delayed');
    assert.equal(counts.failed, 0);
    assert.equal((counts.wait ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0), 0);
    assert.ok(counts.completed! > 20, `units completed: ${counts.completed}`);
    const shortcutJobs = (await queue.getJobs(['completed'])).filter((j) => j.name === 'sanity-model');
    assert.equal(shortcutJobs.length, 2, 'each sanity-check model trained as one unit');
    await queue.close();
    await events.close();

    // The same report: every section's numbers and every verdict, the maps' bytes, the sanity models' bytes.
    const a = JSON.parse(readFileSync(join(ref.out, 'results.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(res.out, 'results.json'), 'utf8'));
    const unpath = (s: unknown) => JSON.parse(JSON.stringify(s).replaceAll(join(dir, 'cache-ref'), 'CACHE').replaceAll(join(dir, 'cache-queue'), 'CACHE'));
    assert.deepEqual(unpath(b.sections), unpath(a.sections));
    assert.deepEqual(b.checklist, a.checklist);
    const maps = readdirSync(join(ref.out, 'maps')).sort();
    assert.deepEqual(readdirSync(join(res.out, 'maps')).sort(), maps);
    for (const f of maps) assert.ok(readFileSync(join(ref.out, 'maps', f)).equals(readFileSync(join(res.out, 'maps', f))), `maps/${f} byte for byte`);
    const models = readdirSync(join(dir, 'cache-ref', 'models')).filter((f) => f.endsWith('.onnx')).sort();
    assert.equal(models.length, 2);
    for (const f of models) assert.ok(readFileSync(join(dir, 'cache-ref', 'models', f)).equals(readFileSync(join(dir, 'cache-queue', 'models', f))), `${f} byte for byte`);

    // SIGTERM: a worker finishes (here: has no unit) and exits cleanly.
    const alive = workers.filter((w) => w !== killed);
    for (const w of alive) w.proc.kill('SIGTERM');
    const codes = await Promise.all(alive.map((w) => stopped(w.proc)));
    assert.deepEqual(codes, alive.map(() => 0));
  } finally {
    for (const w of workers) w.proc.kill('SIGKILL');
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
