/**
 * `candor explain --queue` against the same command without it, with a real redis-server and a real
 * `candor worker`: equal outputs, also when Redis is killed and restarted (empty) in the middle of the
 * run; and the line a coordinator prints when only workers of another candor version are connected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { repoRoot } from '../testing/paths.js';
import { redisSkip, startRedis } from '../testing/redis-server.js';
import { startS3 } from '../testing/s3-server.js';
import { candorVersion } from '../train/card.js';
import { QueueExecutor } from './coordinator.js';
import { redisOptions, WORKER_KEY_PREFIX } from './connection.js';
import { ContentStore } from './store.js';

function candor(args: string[], onLine?: (line: string) => void, env: Record<string, string> = {}): { proc: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const read = (d: Buffer) => {
    out += d.toString();
    if (onLine) for (const l of d.toString().split('\n')) if (l) onLine(l);
  };
  proc.stdout!.on('data', read);
  proc.stderr!.on('data', read);
  return { proc, done: new Promise((resolve) => proc.once('exit', (code) => resolve({ code, out }))) };
}

/** Every .npy and the numbers of explain.json, which must not depend on where the maps were computed. */
function outputs(dir: string): { files: Map<string, Buffer>; json: unknown } {
  const files = new Map(readdirSync(dir).filter((f) => f.endsWith('.npy')).map((f) => [f, readFileSync(join(dir, f))]));
  const j = JSON.parse(readFileSync(join(dir, 'explain.json'), 'utf8')) as { images: unknown; maps: { seconds?: number }[] };
  return { files, json: { images: j.images, maps: j.maps.map(({ seconds: _s, ...m }) => m) } };
}

const ARGS = ['--methods', 'saliency,ig,occlusion,gradcam,scorecam', '--input', 'pneumoniamnist:test:0-6', '--threads', '1', '--opt', 'occlusion.strides=2', '--opt', 'ig.steps=24'];

test('explain --queue writes the same maps and numbers as explain, also when Redis is killed and restarted empty mid-run', { skip: redisSkip, timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-explain-queue-'));
  let redis = await startRedis();
  const port = redis.port;
  let worker: ReturnType<typeof candor> | undefined;
  try {
    const ref = candor(['explain', ...ARGS, '--out', join(dir, 'ref')]);
    assert.equal((await ref.done).code, 0);

    const store = join(dir, 'store');
    let units = 0;
    let restarted: Promise<void> | undefined;
    worker = candor(['worker', '--queue', redis.url, '--store', store, '--threads', '1'], (l) => {
      // After the first unit, Redis dies and comes back empty (no persistence): the jobs are gone.
      if (/^worker: done/.test(l) && ++units === 1) {
        restarted = (async () => {
          await redis.stop();
          await new Promise((r) => setTimeout(r, 1000));
          redis = await startRedis(port);
        })();
      }
    });
    const run = candor(['explain', ...ARGS, '--out', join(dir, 'queued'), '--queue', redis.url, '--store', store]);
    const r = await run.done;
    await restarted;
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /lost Redis/);
    assert.match(r.out, /is gone from Redis .*submitting it again/);
    const [a, b] = [outputs(join(dir, 'ref')), outputs(join(dir, 'queued'))];
    assert.deepEqual([...b.files.keys()].sort(), [...a.files.keys()].sort());
    for (const [f, bytes] of a.files) assert.ok(bytes.equals(b.files.get(f)!), `${f} byte for byte`);
    assert.deepEqual(b.json, a.json);
  } finally {
    worker?.proc.kill('SIGKILL');
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('explain --queue with the store on S3 (s3://bucket/prefix) writes the same maps and numbers as explain', { skip: redisSkip, timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-explain-s3-'));
  const redis = await startRedis();
  const s3 = await startS3();
  let worker: ReturnType<typeof candor> | undefined;
  try {
    const args = ['--methods', 'saliency,gradcam,ig', '--input', 'pneumoniamnist:test:0-4', '--threads', '1', '--opt', 'ig.steps=16'];
    const ref = candor(['explain', ...args, '--out', join(dir, 'ref')]);
    assert.equal((await ref.done).code, 0);
    worker = candor(['worker', '--queue', redis.url, '--store', 's3://candor-store/e2e', '--threads', '1'], undefined, s3.env);
    const r = await candor(['explain', ...args, '--out', join(dir, 'queued'), '--queue', redis.url, '--store', 's3://candor-store/e2e'], undefined, s3.env).done;
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /store s3:\/\/candor-store\/e2e/);
    const [a, b] = [outputs(join(dir, 'ref')), outputs(join(dir, 'queued'))];
    for (const [f, bytes] of a.files) assert.ok(bytes.equals(b.files.get(f)!), `${f} byte for byte`);
    assert.deepEqual(b.json, a.json);
  } finally {
    worker?.proc.kill('SIGKILL');
    await redis.stop();
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a coordinator says so when the only workers connected run another candor version', { skip: redisSkip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-version-'));
  const redis = await startRedis();
  try {
    const client = new Redis(redisOptions(redis.url));
    await client.set(`${WORKER_KEY_PREFIX}elsewhere:1`, JSON.stringify({ version: '0.0.1-old', host: 'elsewhere:1', threads: 2 }), 'EX', 30);
    client.disconnect();
    const lines: string[] = [];
    const ex = await QueueExecutor.connect({ url: redis.url, store: await ContentStore.open(join(dir, 'store')), version: candorVersion(), log: (l) => lines.push(l) });
    await ex.close();
    const line = lines.find((l) => l.includes('no candor'));
    assert.ok(line, lines.join('\n'));
    assert.match(line, new RegExp(`no candor ${candorVersion().replaceAll('.', '\\.')} worker is connected \\(connected: 1 of candor 0\\.0\\.1-old, which do not take this version's units\\); start one with: candor worker --queue`));
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a unit that fails on every attempt stops the run with the unit and its error, never silently', { skip: redisSkip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-failing-'));
  const redis = await startRedis();
  const worker = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'worker', '--queue', redis.url, '--store', join(dir, 'store'), '--threads', '1'], {
    cwd: repoRoot,
    env: { ...process.env, CANDOR_TEST_FAIL_FIRST_ATTEMPT: 'explain saliency' },
    stdio: 'ignore',
  });
  try {
    const { loadModel } = await import('../runtime/node.js');
    const { BUNDLED_MODEL } = await import('../audit/context.js');
    const { Tensor } = await import('../tensor/tensor.js');
    const model = loadModel(BUNDLED_MODEL, { threads: 1 });
    const ex = await QueueExecutor.connect({ url: redis.url, store: await ContentStore.open(join(dir, 'store')), version: candorVersion(), log: () => {}, attempts: 1 });
    const x = new Tensor(new Float32Array(2 * 64 * 64).fill(0.1), [2, 1, 64, 64]);
    await assert.rejects(ex.explain(model, x, 'saliency', 'pred', {}, false), /queue: explain saliency \(target "pred", model [0-9a-f]{12}\) failed after 1 attempt \(job explain-[0-9a-f]{16}\): injected failure/);
    await ex.close();
    await model.dispose();
  } finally {
    worker.kill('SIGKILL');
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
