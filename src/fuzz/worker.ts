/**
 * The fuzz worker: runs one target on one input, twice (a reader must be deterministic), and reports
 * what came back — a summary, or the error's class, message and whether it was an Error at all. It runs
 * in a child process, so that a hang can be stopped (the process is killed) and a native abort (which
 * would take a worker thread's whole process with it) is seen as the child's death.
 */
import { TARGETS } from './targets.js';

export interface FuzzRequest {
  target: string;
  bytes: Uint8Array;
  source: string;
}

export type FuzzReply =
  | { status: 'accepted'; summary: string; deterministic: boolean; rss: number }
  | { status: 'error'; name: string; message: string; isError: boolean; rss: number };

process.on('message', async (req: FuzzRequest) => {
  const t = TARGETS[req.target]!;
  let reply: FuzzReply;
  try {
    // The first read gets the bytes as a view inside a larger buffer full of other bytes, the second its own
    // copy: a reader that looks past its view (byteOffset ignored, an offset that became NaN) gives two answers.
    const padded = new Uint8Array(req.bytes.length + 64).fill(0xa5);
    padded.set(req.bytes, 13);
    const a = await t.run(padded.subarray(13, 13 + req.bytes.length), req.source);
    const b = await t.run(Uint8Array.from(req.bytes), req.source);
    reply = { status: 'accepted', summary: a, deterministic: a === b, rss: process.memoryUsage().rss };
  } catch (e) {
    const isError = e instanceof Error;
    reply = { status: 'error', name: isError ? e.constructor.name : typeof e, message: isError ? e.message : String(e), isError, rss: process.memoryUsage().rss };
  }
  process.send!(reply);
});
