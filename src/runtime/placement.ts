/**
 * Which execution provider runs each node of candor's graphs on a device. onnxruntime decides it when a
 * session is created and says so only in its own verbose log (on the process's stderr, out of reach of
 * JavaScript), so the graphs are written to files and a child process creates their sessions with
 * verbose logging (one per graph); its "Node placements" report is read back.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeModel } from '../onnx/proto.js';
import type { Model as IRModel } from '../onnx/ir.js';
import { providersFor, type Device } from './device.js';

export interface Placement {
  graph: string;
  nodes: number;
  /** Provider (e.g. WebGpuExecutionProvider) → op type → count. */
  byProvider: Record<string, Record<string, number>>;
  /** The session could not be created (the message), when it could not. */
  error?: string;
}

/** Node placements of graphs on a device, from onnxruntime's own report (one child process per graph). */
export async function placements(graphs: { name: string; model: IRModel }[], device: Device, script: { execArgv: string[]; entry: string }): Promise<Placement[]> {
  const dir = mkdtempSync(join(tmpdir(), 'candor-placement-'));
  const child = (file: string) =>
    new Promise<{ text: string; ended: string }>((resolve) => {
      const p = spawn(process.execPath, [...script.execArgv, script.entry, 'devices', '--placement-child', device, file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout!.on('data', (d: Buffer) => (text += d.toString()));
      p.stderr!.on('data', (d: Buffer) => (text += d.toString()));
      // 'close': after the pipes are drained ('exit' can come first)
      p.once('close', (code, signal) => resolve({ text, ended: signal ? `signal ${signal}` : `exit code ${code}` }));
    });
  try {
    const out: Placement[] = [];
    for (const [i, g] of graphs.entries()) {
      const file = join(dir, `${i}.onnx`);
      writeFileSync(file, serializeModel(g.model));
      // A child that ends without onnxruntime's report (a crash) is tried again, up to three times in all.
      let run = await child(file);
      let p = parsePlacement(g.name, run.text);
      for (let attempt = 1; attempt < 3 && p.error && !run.text.includes('@@candor-error'); attempt++) {
        run = await child(file);
        p = parsePlacement(g.name, run.text);
      }
      if (!run.text.includes('@@candor-graph end')) {
        const tail = run.text.split('\n').filter((l) => l && !/^\S+ \S+ \[[IV]:/.test(l) && !l.startsWith('@@')).slice(-3).join(' / ');
        out.push({ ...p, error: `the placement process ended (${run.ended}) before reporting${tail ? `: ${tail}` : ''}` });
      } else out.push(p);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The child: create one graph's session on the device with verbose logging, then say it got to the end. */
export async function placementChild(device: Device, file: string): Promise<void> {
  const ort = await import('onnxruntime-node');
  const { readFileSync } = await import('node:fs');
  try {
    const s = await ort.InferenceSession.create(readFileSync(file), { executionProviders: providersFor(device), logSeverityLevel: 0, logVerbosityLevel: 0, graphOptimizationLevel: 'all' });
    await s.release();
  } catch (e) {
    process.stderr.write(`@@candor-error ${(e as Error).message.split('\n')[0]}\n`);
  }
  process.stderr.write(`@@candor-graph end\n`);
}

/**
 * One graph's placements from its child's whole output, not cut at markers: onnxruntime writes its log
 * through a buffered stream, so its lines can arrive after the markers the child writes directly.
 */
function parsePlacement(name: string, log: string): Placement {
  const err = /@@candor-error (.*)/.exec(log)?.[1];
  const byProvider: Record<string, Record<string, number>> = {};
  let nodes = 0;
  const lines = log.split('\n');
  for (let j = 0; j < lines.length; j++) {
    const all = /All nodes placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(lines[j]!);
    if (all) {
      byProvider[all[1]!] = { '(all)': Number(all[2]) };
      nodes += Number(all[2]);
      continue;
    }
    const some = /Node\(s\) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(lines[j]!);
    if (!some) continue;
    const ops: Record<string, number> = {};
    const n = Number(some[2]);
    nodes += n;
    // followed by one line per node: "  OpType (node name)"
    for (let k = 1; k <= n && j + k < lines.length; k++) {
      const m = /VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \(/.exec(lines[j + k]!);
      if (m) ops[m[1]!] = (ops[m[1]!] ?? 0) + 1;
    }
    byProvider[some[1]!] = ops;
  }
  const missing = !err && nodes === 0 ? 'onnxruntime reported no placement for this graph' : undefined;
  return { graph: name, nodes, byProvider, ...(err || missing ? { error: err ?? missing } : {}) };
}
