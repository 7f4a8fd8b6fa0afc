/**
 * A seeded mutation campaign against one reader: every input is a seed file with one mutation, run in a
 * worker thread with a watchdog. Each outcome is one of
 *   - clean:      an Error whose message names the file (what the user should see);
 *   - unnamed:    an Error that does not name the file;
 *   - crash:      a programming error (TypeError, RangeError, ReferenceError), a non-Error throw, or the
 *                 worker dying (a native abort);
 *   - hang:       no answer within `timeoutMs` (the worker is terminated and replaced);
 *   - memory:     the process's resident memory above `maxRssMb` after the input;
 *   - wrong:      accepted, but not deterministic, or a checksummed file changed and accepted with a
 *                 result other than the seed's;
 *   - accepted:   accepted and consistent.
 * The inputs behind every outcome but clean and accepted are kept as reproducers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Rng } from '../tensor/rng.js';
import { mutate, type Mutation } from './mutate.js';
import { TARGETS, seedBytes, seedChecksummed } from './targets.js';
import type { FuzzReply, FuzzRequest } from './worker.js';

export type Outcome = 'clean' | 'unnamed' | 'crash' | 'hang' | 'memory' | 'wrong' | 'accepted';

export interface CampaignOptions {
  inputs: number;
  seed: number;
  timeoutMs?: number;
  maxRssMb?: number;
  mutations?: readonly Mutation[];
  /** Keep at most this many reproducers per outcome. */
  keep?: number;
  onProgress?: (done: number) => void;
}

export interface Finding {
  outcome: Outcome;
  seedFile: string;
  mutation: Mutation;
  at: number;
  detail: string;
  bytes: Uint8Array;
}

export interface CampaignResult {
  target: string;
  inputs: number;
  counts: Record<Outcome, number>;
  findings: Finding[];
  maxRssMb: number;
  seconds: number;
}

const PROGRAMMING = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'InternalError']);

function workerPath(): string {
  return fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './worker-entry.mjs' : './worker.js', import.meta.url));
}

class Runner {
  private worker!: ChildProcess;
  private pending?: { resolve: (r: FuzzReply | { status: 'died'; code: number | string }) => void };
  constructor() {
    this.start();
  }
  private start(): void {
    const w = fork(workerPath(), [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'], execArgv: [] });
    this.worker = w;
    w.on('message', (r: FuzzReply) => {
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(r);
    });
    w.on('exit', (code, signal) => {
      if (this.worker !== w) return;
      const p = this.pending;
      this.pending = undefined;
      this.start();
      p?.resolve({ status: 'died', code: signal ?? code ?? -1 });
    });
  }
  run(req: FuzzRequest, timeoutMs: number): Promise<FuzzReply | { status: 'died'; code: number | string } | { status: 'hang' }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        const old = this.worker;
        this.start();
        old.kill('SIGKILL');
        resolve({ status: 'hang' });
      }, timeoutMs);
      this.pending = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.worker.send(req);
    });
  }
  async close(): Promise<void> {
    this.pending = undefined;
    const w = this.worker;
    this.worker = undefined as never;
    w.kill();
  }
}

export async function runCampaign(targetName: string, opts: CampaignOptions): Promise<CampaignResult> {
  const target = TARGETS[targetName];
  if (!target) throw new Error(`unknown fuzz target '${targetName}' (targets: ${Object.keys(TARGETS).join(', ')})`);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxRss = (opts.maxRssMb ?? 1024) * 2 ** 20;
  const keep = opts.keep ?? 5;
  const rng = new Rng(opts.seed);
  const seeds = target.seeds.map((s) => ({ path: s, bytes: seedBytes(s) }));
  const runner = new Runner();
  const t0 = performance.now();
  // The seeds' own results: what a checksummed file must still give if a change is accepted.
  const expected = new Map<string, string>();
  for (const s of seeds) {
    const r = await runner.run({ target: targetName, bytes: s.bytes, source: s.path }, timeoutMs * 4);
    if (r.status !== 'accepted') throw new Error(`fuzz target ${targetName}: its seed ${s.path} is not read (${'message' in r ? r.message : r.status})`);
    expected.set(s.path, r.summary);
  }
  const counts: Record<Outcome, number> = { clean: 0, unnamed: 0, crash: 0, hang: 0, memory: 0, wrong: 0, accepted: 0 };
  const findings: Finding[] = [];
  let maxRssSeen = 0;
  for (let i = 0; i < opts.inputs; i++) {
    const seed = seeds[rng.int(seeds.length)]!;
    const m = mutate(seed.bytes, rng.fork(i), opts.mutations);
    const source = `fuzz-${targetName}-${i}${seed.path.slice(seed.path.lastIndexOf('.'))}`;
    const r = await runner.run({ target: targetName, bytes: m.bytes, source }, timeoutMs);
    let outcome: Outcome;
    let detail = '';
    if (r.status === 'hang') outcome = 'hang';
    else if (r.status === 'died') [outcome, detail] = ['crash', `worker exited with code ${r.code}`];
    else {
      maxRssSeen = Math.max(maxRssSeen, r.rss);
      if (r.rss > maxRss) [outcome, detail] = ['memory', `resident memory ${(r.rss / 2 ** 20).toFixed(0)} MB`];
      else if (r.status === 'error') {
        detail = `${r.name}: ${r.message}`;
        outcome = !r.isError || PROGRAMMING.has(r.name) ? 'crash' : r.message.includes(source) ? 'clean' : 'unnamed';
      } else if (!r.deterministic) [outcome, detail] = ['wrong', 'two reads of the same bytes differ'];
      else if (seedChecksummed(target, seed.path) && r.summary !== expected.get(seed.path)) [outcome, detail] = ['wrong', `a checksummed file changed (${m.kind} at ${m.at}) and was accepted: ${r.summary} (seed: ${expected.get(seed.path)})`];
      else outcome = 'accepted';
    }
    counts[outcome]++;
    if (outcome !== 'clean' && outcome !== 'accepted' && findings.filter((f) => f.outcome === outcome).length < keep) {
      findings.push({ outcome, seedFile: seed.path, mutation: m.kind, at: m.at, detail: detail.slice(0, 300), bytes: m.bytes });
    }
    opts.onProgress?.(i + 1);
  }
  await runner.close();
  return { target: targetName, inputs: opts.inputs, counts, findings, maxRssMb: maxRssSeen / 2 ** 20, seconds: (performance.now() - t0) / 1000 };
}
