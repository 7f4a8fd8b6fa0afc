/**
 * The unit processor a queue worker runs in a child process (BullMQ's sandboxed processor): the worker's
 * own process only holds the job's lock and renews it, so a long onnxruntime call or a training epoch
 * cannot starve the lock, and a crash in the child fails one attempt, not the worker. Models stay
 * loaded between units (the child is reused). Configuration arrives in the environment from
 * `candor worker` (src/queue/worker.ts).
 */
import type { SandboxedJob } from 'bullmq';
import { candorVersion } from '../train/card.js';
import { parseDevice } from '../runtime/device.js';
import { setDevice } from '../runtime/node.js';
import { ContentStore } from './store.js';
import { ModelCache, runUnit, describeUnit, type UnitResult } from './units.js';
import type { JobData } from './coordinator.js';

if (process.env.CANDOR_DEVICE) setDevice(parseDevice(process.env.CANDOR_DEVICE));
const store = await ContentStore.open(process.env.CANDOR_STORE ?? '.candor-store');
const threads = process.env.CANDOR_THREADS ? Number(process.env.CANDOR_THREADS) : undefined;
const models = new ModelCache(store, threads);
const version = candorVersion();
// Orphaned (the worker was killed): stop rather than compute for nobody; the unit goes back to the queue.
process.on('disconnect', () => process.exit(1));

export default async function processUnit(job: SandboxedJob<JobData, UnitResult>): Promise<UnitResult> {
  const { unit, store: storeId, version: submitted } = job.data;
  if (submitted !== version) throw new Error(`this worker runs candor ${version}; the unit was submitted by candor ${submitted}`);
  if (storeId !== store.id) throw new Error(`this worker's store ${store.location} is not the coordinator's (ids ${store.id} ≠ ${storeId}): give the worker --store on the volume or bucket the coordinator writes to`);
  // Fault injection for the queue's tests: the first attempt of matching units throws.
  const fail = process.env.CANDOR_TEST_FAIL_FIRST_ATTEMPT;
  if (fail && job.attemptsMade === 0 && describeUnit(unit).includes(fail)) throw new Error(`injected failure (CANDOR_TEST_FAIL_FIRST_ATTEMPT=${fail})`);
  const t0 = performance.now();
  const result = await runUnit(unit, store, models);
  // The unit's own compute time, beside its keys (the bench separates it from the queue's overhead).
  return { ...result, seconds: (performance.now() - t0) / 1000 };
}
