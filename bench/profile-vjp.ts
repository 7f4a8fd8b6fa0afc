/**
 * Where the time goes: onnxruntime's own per-node profile of the forward or VJP graph of a
 * builder model, summed by op type.
 *   npx tsx bench/profile-vjp.ts <small_cnn|resnet18|densenet121|mobilenet_v2> [fwd|vjp] [batch]
 *   PROFILE_NODES=30 … also lists the 30 slowest nodes.
 *   RULE_OPTIONS='{"convTranspose":true}' … compares an alternative backward formulation.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync, readdirSync, unlinkSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArchitecture } from '../src/train/arch/index.js';
import { buildVjp } from '../src/autodiff/vjp.js';
import { serializeModel } from '../src/onnx/proto.js';
import { Rng } from '../src/tensor/rng.js';

const arch = process.argv[2] ?? 'resnet18';
const mode = process.argv[3] ?? 'vjp';
const N = Number(process.argv[4] ?? 8);
const REPS = 30;
const [c, hw] = arch === 'small_cnn' ? [1, 64] : arch === 'densenet121' ? [3, 96] : [3, 64];
const ir = buildArchitecture(arch, { inChannels: c, numClasses: 2, inputSize: hw });
const v = buildVjp(ir, { wrt: ['input'], ruleOptions: JSON.parse(process.env.RULE_OPTIONS ?? '{}') });
const dir = mkdtempSync(join(tmpdir(), 'candor-prof-'));
const s = await ort.InferenceSession.create(serializeModel(mode === 'vjp' ? v.model : ir), {
  intraOpNumThreads: 2,
  enableProfiling: true,
  profileFilePrefix: join(dir, 'ort'),
  logSeverityLevel: 3,
});
const rng = new Rng(1);
const x = new ort.Tensor('float32', Float32Array.from({ length: N * c * hw * hw }, () => rng.uniform(-1, 1)), [N, c, hw, hw]);
const seed = new ort.Tensor('float32', new Float32Array(N * 2).fill(1), [N, 2]);
for (let i = 0; i < REPS; i++) await s.run(mode === 'vjp' ? { input: x, seed } : { input: x });
s.endProfiling();
await s.release();
const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!);
const events = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; dur: number; args: { op_name?: string } }[];
unlinkSync(file);
const byOp = new Map<string, number>();
const byNode = new Map<string, number>();
let total = 0;
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const op = e.args.op_name ?? '?';
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  byNode.set(e.name.replace(/_kernel_time$/, ''), (byNode.get(e.name.replace(/_kernel_time$/, '')) ?? 0) + e.dur);
  total += e.dur;
}
const runs = events.filter((e) => e.name === 'model_run').map((e) => e.dur).sort((a, b) => a - b);
console.log(`${arch} ${mode}, batch ${N}: median run ${(runs[runs.length >> 1]! / 1000).toFixed(2)} ms; kernel time ${(total / REPS / 1000).toFixed(2)} ms/run`);
for (const [op, t] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`  ${op.padEnd(22)} ${(t / REPS / 1000).toFixed(3).padStart(8)} ms  ${((100 * t) / total).toFixed(1).padStart(5)}%`);
}
if (process.env.PROFILE_NODES) {
  console.log(`slowest ${process.env.PROFILE_NODES} nodes:`);
  for (const [name, t] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_NODES))) {
    console.log(`  ${name.padEnd(60)} ${(t / REPS / 1000).toFixed(3).padStart(8)} ms`);
  }
}
