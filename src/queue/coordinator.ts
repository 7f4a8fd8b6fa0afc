/**
 * The coordinator's side of a work queue (`candor audit --queue`, `candor explain --queue`): units go to
 * BullMQ jobs whose ids are the units' hashes (a second submission adds nothing; a finished unit is read
 * back at once), their inputs and outputs to the shared content store; the run waits for each, showing
 * the progress of the whole run across workers, and reads the results back checked by hash.
 *
 * Delivery is at least once (BullMQ re-queues a unit whose worker died: its lock expires and a stalled-job
 * check moves it back); units are deterministic, so a unit run twice gives the same bytes. A unit that
 * throws is retried with backoff, and after its last attempt the run stops with the unit and its error.
 */
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Model } from '../runtime/model.js';
import type { Tensor } from '../tensor/tensor.js';
import type { SanitySpec, TrainedBytes } from '../audit/sanity-models.js';
import type { ModelCard } from '../train/card.js';
import { checkReachable, displayUrl, queueName, redisOptions, WORKER_KEY_PREFIX } from './connection.js';
import { ContentStore, MissingBlob } from './store.js';
import { describeUnit, encodeOptions, modelKey, resultKeys, tensorKey, unitId, type ExplainMeta, type Unit, type UnitResult } from './units.js';
import type { Attribution, Target } from '../explain/types.js';

/** What a job carries: the unit (keys and small parameters), the store's id, the submitting version. */
export interface JobData {
  unit: Unit;
  store: string;
  version: string;
}

export interface QueueRunOptions {
  url: string;
  store: ContentStore;
  version: string;
  log: (line: string) => void;
  /** Attempts per unit (default 3): a unit that throws is retried with exponential backoff from 2 s. */
  attempts?: number;
}

interface Pending {
  id: string;
  unit: Unit;
  /** What every caller of `run` for this unit awaits. */
  promise: Promise<UnitResult>;
  resolve: (r: UnitResult) => void;
  reject: (e: Error) => void;
  /** Its job was added (the sweep checks only these). */
  submitted: boolean;
}

export class QueueExecutor {
  private readonly pending = new Map<string, Pending>();
  private done = 0;
  /** Seconds the workers spent computing this run's units (their own measure). */
  computeSeconds = 0;
  private submitted = 0;
  private sweepTimer?: NodeJS.Timeout;
  private lastStatus = 0;
  private down = false;
  private sweeping = false;

  private constructor(
    private readonly opts: QueueRunOptions,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly redis: Redis,
  ) {}

  static async connect(opts: QueueRunOptions): Promise<QueueExecutor> {
    await checkReachable(opts.url);
    const connection = redisOptions(opts.url);
    const name = queueName(opts.version);
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    const redis = new Redis(connection);
    const ex = new QueueExecutor(opts, queue, events, redis);
    queue.on('error', (e: Error) => ex.connectionError(e));
    events.on('error', (e: Error) => ex.connectionError(e));
    redis.on('error', (e: Error) => ex.connectionError(e));
    redis.on('ready', () => {
      if (ex.down) opts.log(`  queue: Redis at ${displayUrl(opts.url)} is back; resuming`);
      ex.down = false;
    });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    events.on('completed', ({ jobId, returnvalue }) => ex.finished(jobId, returnvalue as unknown));
    events.on('failed', ({ jobId, failedReason }) => ex.failed(jobId, failedReason));
    ex.sweepTimer = setInterval(() => void ex.sweep().catch(() => {}), 2000);
    opts.log(`  queue: ${displayUrl(opts.url)} (queue ${name}), store ${opts.store.location}`);
    await ex.reportWorkers(true);
    return ex;
  }

  private connectionError(e: Error): void {
    if (this.down) return;
    this.down = true;
    this.opts.log(`  queue: lost Redis at ${displayUrl(this.opts.url)} (${(e as NodeJS.ErrnoException).code ?? e.message}); waiting for it to come back…`);
  }

  /** Submit a unit (once: equal units share one job) and wait for its result. */
  async run(unit: Unit): Promise<UnitResult> {
    const id = unitId(this.opts.version, unit);
    const existing = this.pending.get(id);
    if (existing) return existing.promise;
    const entry = { id, unit, submitted: false } as Pending;
    entry.promise = new Promise<UnitResult>((resolve, reject) => Object.assign(entry, { resolve, reject }));
    this.pending.set(id, entry);
    this.submitted++;
    try {
      await this.submit(id, unit);
      entry.submitted = true;
    } catch (e) {
      this.pending.delete(id);
      entry.reject(e as Error);
    }
    return entry.promise;
  }

  private async submit(id: string, unit: Unit): Promise<void> {
    const job = await Job.fromId(this.queue, id);
    if (job) {
      const state = await job.getState();
      if (state === 'completed') {
        if (await this.resultPresent(job.returnvalue as UnitResult)) return this.finished(id, job.returnvalue);
        await job.remove(); // its results left the store: compute again
      } else if (state === 'failed') {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        return;
      } else return; // waiting, delayed or running: already on its way
    }
    const data: JobData = { unit, store: this.opts.store.id, version: this.opts.version };
    await this.queue.add(unit.kind, data, {
      jobId: id,
      attempts: this.opts.attempts ?? 3,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: { age: 7 * 86400 },
      removeOnFail: { age: 7 * 86400 },
    });
  }

  private async resultPresent(r: UnitResult | undefined): Promise<boolean> {
    if (!r) return false;
    for (const k of resultKeys(r)) if (!(await this.opts.store.has(k))) return false;
    return true;
  }

  private finished(jobId: string, value: unknown): void {
    const p = this.pending.get(jobId);
    if (!p) return;
    const r = (typeof value === 'string' ? JSON.parse(value) : value) as UnitResult;
    this.pending.delete(jobId);
    this.done++;
    this.computeSeconds += r.seconds ?? 0;
    p.resolve(r);
    this.status();
  }

  private failed(jobId: string, reason: string): void {
    const p = this.pending.get(jobId);
    if (!p) return;
    this.pending.delete(jobId);
    const n = this.opts.attempts ?? 3;
    p.reject(new Error(`queue: ${describeUnit(p.unit)} failed after ${n} attempt${n === 1 ? '' : 's'} (job ${jobId}): ${reason}`));
  }

  /** Catch what events missed (a reconnection) and jobs Redis lost (a restart without persistence). */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      await this.sweepOnce();
    } finally {
      this.sweeping = false;
    }
  }

  private async sweepOnce(): Promise<void> {
    for (const p of [...this.pending.values()].filter((x) => x.submitted)) {
      const job = await Job.fromId(this.queue, p.id);
      if (!job) {
        this.opts.log(`  queue: job ${p.id} is gone from Redis (restarted without persistence?); submitting it again`);
        await this.submit(p.id, p.unit);
        continue;
      }
      const state = await job.getState();
      if (state === 'completed') this.finished(p.id, job.returnvalue);
      else if (state === 'failed') this.failed(p.id, job.failedReason);
    }
    if (this.pending.size) await this.reportWorkers(false);
  }

  /** Workers of this version (and of others) that are alive, from their heartbeats. */
  async workers(): Promise<{ version: string; host: string; threads: number | null }[]> {
    const keys = await this.redis.keys(`${WORKER_KEY_PREFIX}*`);
    const vals = keys.length ? await this.redis.mget(keys) : [];
    return vals.filter((v): v is string => !!v).map((v) => JSON.parse(v) as { version: string; host: string; threads: number | null });
  }

  private async reportWorkers(first: boolean): Promise<void> {
    const now = Date.now();
    if (!first && now - this.lastStatus < 10_000) return;
    this.lastStatus = now;
    const ws = await this.workers();
    const mine = ws.filter((w) => w.version === this.opts.version);
    const others = ws.filter((w) => w.version !== this.opts.version);
    if (!mine.length) {
      this.opts.log(`  queue: no candor ${this.opts.version} worker is connected${others.length ? ` (connected: ${others.length} of candor ${[...new Set(others.map((w) => w.version))].join(', ')}, which do not take this version's units)` : ''}; start one with: candor worker --queue ${displayUrl(this.opts.url)} --store ${this.opts.store.location}`);
    } else if (!first) this.status(true);
    else this.opts.log(`  queue: ${mine.length} worker${mine.length > 1 ? 's' : ''} connected (${mine.map((w) => `${w.host}, ${w.threads ?? 'all'} threads`).join('; ')})`);
  }

  private status(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastStatus < 5000) return;
    this.lastStatus = now;
    void this.queue.getJobCounts('active', 'wait', 'delayed').then((c) => this.opts.log(`  queue: ${this.done}/${this.submitted} units of this run done; ${c.active ?? 0} running, ${(c.wait ?? 0) + (c.delayed ?? 0)} waiting`)).catch(() => {});
  }

  // ---- the audit's units ----

  /** Maps of one chunk of images, computed by a worker. */
  async maps(model: Model, images: Tensor, targets: readonly number[], method: string, options: Record<string, unknown>): Promise<Tensor> {
    const store = this.opts.store;
    const unit: Unit = { kind: 'maps', model: await modelKey(store, model), multiLabel: model.multiLabel, images: await store.putTensor(images), targets: [...targets], method, options: await encodeOptions(store, options) };
    return this.read(unit, (r) => store.getTensor((r as Extract<UnitResult, { kind: 'maps' }>).maps));
  }

  /** `explain(model, images, method, target, options)` computed by a worker: the Attribution (numeric diagnostics only in `extra`). */
  async explain(model: Model, images: Tensor, method: string, target: Target, options: Record<string, unknown>, channels: boolean): Promise<Attribution> {
    const store = this.opts.store;
    const unit: Unit = { kind: 'explain', model: await modelKey(store, model), multiLabel: model.multiLabel, images: await tensorKey(store, images), target: JSON.parse(JSON.stringify(target)) as Target, method, options: await encodeOptions(store, options), channels };
    return this.read(unit, async (r) => {
      const e = r as Extract<UnitResult, { kind: 'explain' }>;
      const meta = await store.getJson<ExplainMeta>(e.meta);
      return { method, map: await store.getTensor(e.map), logits: await store.getTensor(e.logits), ...(e.attributions ? { attributions: await store.getTensor(e.attributions) } : {}), signed: meta.signed, targets: meta.targets, extra: meta.extra };
    });
  }

  /** A sanity-check model trained by a worker. */
  async trainSanity(spec: SanitySpec, audited: Model): Promise<TrainedBytes> {
    const store = this.opts.store;
    const unit: Unit = { kind: 'sanity-model', audited: await modelKey(store, audited), multiLabel: audited.multiLabel, spec };
    this.opts.log(`  ${spec.kind} model: training on a worker of the queue…`);
    return this.read(unit, async (r) => {
      const s = r as Extract<UnitResult, { kind: 'sanity-model' }>;
      return { bytes: await store.get(s.model), file: await store.get(s.file), card: await store.getJson<ModelCard>(s.card) };
    });
  }

  /** Run a unit and read its result; a result that left the store since (deleted) is computed again once. */
  private async read<T>(unit: Unit, get: (r: UnitResult) => Promise<T>): Promise<T> {
    const r = await this.run(unit);
    try {
      return await get(r);
    } catch (e) {
      if (!(e instanceof MissingBlob)) throw e;
      const job = await Job.fromId(this.queue, unitId(this.opts.version, unit));
      await job?.remove();
      return get(await this.run(unit));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    await Promise.allSettled([this.queue.close(), this.events.close()]);
    this.redis.disconnect();
  }
}
