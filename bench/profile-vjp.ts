/**
 * Where the time goes: onnxruntime's own per-node profile of the forward, VJP or training graph of a
 * builder model, summed by op type (the first WARM runs, which allocate, are left out).
 *   npx tsx bench/profile-vjp.ts <small_cnn|resnet18|densenet121|mobilenet_v2|file.onnx> [fwd|vjp|train] [batch]
 *   (an ONNX file is read as candor reads it, shapes learned from a probe run where needed; not train)
 *   (batch: 8 for fwd/vjp, 128 for train by default)
 *   PROFILE_NODES=30 … also lists the 30 slowest nodes.
 *   RULE_OPTIONS='{"convTranspose":true}' … compares an alternative backward formulation.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync, readdirSync, unlinkSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArchitecture } from '../src/train/arch/index.js';
import { buildVjp } from '../src/autodiff/vjp.js';
import { buildTrainingGraph } from '../src/train/graph.js';
import { serializeModel } from '../src/onnx/proto.js';
import { Rng } from '../src/tensor/rng.js';
import type { Model as IRModel } from '../src/onnx/ir.js';
import { loadModel } from '../src/runtime/node.js';

const arch = process.argv[2] ?? 'resnet18';
const mode = process.argv[3] ?? 'vjp';
const N = Number(process.argv[4] ?? (mode === 'train' ? 128 : 8));
const WARM = 2;
const REPS = mode === 'train' ? 5 : 30;
const fromFile = arch.endsWith('.onnx') ? loadModel(arch) : undefined;
const [c, hw] = fromFile ? [fromFile.inputShape[1] as number, fromFile.inputShape[2] as number] : arch === 'small_cnn' ? [1, 64] : arch === 'densenet121' ? [3, 96] : [3, 64];
const ir = fromFile ? fromFile.ir : buildArchitecture(arch, { inChannels: c, numClasses: 2, inputSize: hw, seed: 1, dropout: 'inference' });
const shapeHints = fromFile ? await fromFile.learnShapes() : undefined;
const inputName = fromFile?.inputName ?? 'input';
const K = fromFile?.numClasses ?? 2;
const ruleOptions = JSON.parse(process.env.RULE_OPTIONS ?? '{}');
const rng = new Rng(1);
const x = new ort.Tensor('float32', Float32Array.from({ length: N * c * hw * hw }, () => rng.uniform(-1, 1)), [N, c, hw, hw]);
const ones = (shape: number[]) => new ort.Tensor('float32', new Float32Array(shape.reduce((p, q) => p * q, 1)).fill(1), shape);

let graph: IRModel;
const feeds: Record<string, ort.Tensor> = {};
if (mode === 'train') {
  const tg = buildTrainingGraph(ir, { task: 'single', imageShape: [c, hw, hw], ruleOptions });
  graph = tg.model;
  feeds[tg.input] = x;
  const target = new Float32Array(N * 2);
  for (let i = 0; i < N; i++) target[2 * i + (i % 2)] = 1 / N;
  feeds[tg.target] = new ort.Tensor('float32', target, [N, 2]);
  feeds[tg.seed] = ones([]);
  for (const p of tg.params) {
    const init = ir.graph.initializers.get(p)!;
    feeds[p] = new ort.Tensor('float32', init.data as Float32Array, init.dims);
  }
} else if (mode === 'vjp') {
  const v = buildVjp(ir, { wrt: [inputName], ruleOptions, shapeHints });
  graph = v.model;
  Object.assign(feeds, { [inputName]: x, [v.seed]: ones([N, K]) });
} else {
  graph = ir;
  feeds[inputName] = x;
}

const dir = mkdtempSync(join(tmpdir(), 'candor-prof-'));
const s = await ort.InferenceSession.create(serializeModel(graph), {
  intraOpNumThreads: 2,
  enableProfiling: true,
  profileFilePrefix: join(dir, 'ort'),
  logSeverityLevel: 3,
});
for (let i = 0; i < WARM + REPS; i++) await s.run(feeds);
s.endProfiling();
await s.release();
const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!);
const events = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; ts: number; dur: number; args: { op_name?: string } }[];
unlinkSync(file);
const runs = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts);
const measuredFrom = runs[WARM - 1]!.ts + runs[WARM - 1]!.dur;
const byOp = new Map<string, number>();
const byNode = new Map<string, number>();
let total = 0;
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < measuredFrom) continue;
  const op = e.args.op_name ?? '?';
  const node = e.name.replace(/_kernel_time$/, '');
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  byNode.set(node, (byNode.get(node) ?? 0) + e.dur);
  total += e.dur;
}
const durations = runs.slice(WARM).map((e) => e.dur).sort((a, b) => a - b);
console.log(`${arch} ${mode}, batch ${N}: median run ${(durations[durations.length >> 1]! / 1000).toFixed(2)} ms; kernel time ${(total / REPS / 1000).toFixed(2)} ms/run`);
for (const [op, t] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`  ${op.padEnd(22)} ${(t / REPS / 1000).toFixed(3).padStart(8)} ms  ${((100 * t) / total).toFixed(1).padStart(5)}%`);
}
if (process.env.PROFILE_NODES) {
  console.log(`slowest ${process.env.PROFILE_NODES} nodes:`);
  for (const [name, t] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_NODES))) {
    console.log(`  ${name.padEnd(60)} ${(t / REPS / 1000).toFixed(3).padStart(8)} ms`);
  }
}
