/** `candor worker`: run the units of audits and explanations submitted with --queue, until stopped. */
import { parse, parseIntArg, required } from './args.js';
import { runWorker } from '../queue/worker.js';
import { DEFAULT_STORE } from '../queue/store.js';

export const WORKER_USAGE = `usage: candor worker --queue redis://HOST:PORT [--store ${DEFAULT_STORE} | s3://BUCKET/PREFIX] [--threads N] [--device cpu|webgpu|cuda]

Takes units (attribution maps of a chunk of images, a sanity-check model to train) from the work queue
of this candor version on the Redis server --queue, reads their inputs from and writes their results to
the content store --store (the folder the coordinator uses: the same path on one machine, a shared
volume across machines; or s3://BUCKET/PREFIX, with AWS_* credentials and AWS_ENDPOINT_URL for
S3-compatible servers), one unit at a time with --threads onnxruntime threads (default: every core).
Stops on SIGTERM or Ctrl-C after the unit in hand (a second signal: at once; the unit then returns to
the queue when its lock expires, as it does when a worker dies).`;

export async function workerCommand(argv: string[]): Promise<void> {
  const { values: v } = parse(
    argv,
    {
      queue: { type: 'string' },
      store: { type: 'string', default: DEFAULT_STORE },
      threads: { type: 'string' },
    },
    WORKER_USAGE,
  );
  const queue = required(v.queue, '--queue redis://HOST:PORT', WORKER_USAGE);
  const lockMs = process.env.CANDOR_QUEUE_LOCK_MS ? Number(process.env.CANDOR_QUEUE_LOCK_MS) : undefined;
  const w = await runWorker({ url: queue, store: v.store!, threads: v.threads ? parseIntArg(v.threads, '--threads', 0) : undefined, log: (l) => console.error(l), lockMs });
  let signals = 0;
  const onSignal = () => void w.stop(++signals > 1);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await w.closed;
}
