/**
 * The yardstick of the benches: this CPU's practical float32 peak, measured in the same run as the
 * figures it is compared with (the machine is shared; a peak from another day says little).
 * The best GFLOP/s of any single run of square MatMuls (512³, 1536³, 2048³) in onnxruntime with the
 * given thread count — what the CPU does when nothing disturbs it. (1024³ with 2 threads runs at a
 * third of the others here.)
 */
import * as ort from 'onnxruntime-node';
import { Rng } from '../src/tensor/rng.js';
import { type Model as IRModel, DataType } from '../src/onnx/ir.js';
import { serializeModel } from '../src/onnx/proto.js';

export async function matmulPeak(threads: number, seconds = 2): Promise<number> {
  let best = 0;
  for (const n of [512, 1536, 2048]) best = Math.max(best, await matmulGflops(n, threads, seconds));
  return best;
}

async function matmulGflops(n: number, threads: number, seconds: number): Promise<number> {
  const ir: IRModel = {
    irVersion: 8,
    opsets: new Map([['', 17]]),
    producerName: 'bench',
    producerVersion: '',
    passthrough: {},
    graph: {
      name: 'mm',
      nodes: [{ opType: 'MatMul', domain: '', name: 'mm', inputs: ['a', 'b'], outputs: ['c'], attrs: {} }],
      inputs: [
        { name: 'a', elemType: DataType.FLOAT, shape: [n, n] },
        { name: 'b', elemType: DataType.FLOAT, shape: [n, n] },
      ],
      outputs: [{ name: 'c', elemType: DataType.FLOAT, shape: [n, n] }],
      initializers: new Map(),
      valueInfo: new Map(),
    },
  };
  const s = await ort.InferenceSession.create(serializeModel(ir), { intraOpNumThreads: threads, logSeverityLevel: 3 });
  const rng = new Rng(3);
  const a = new ort.Tensor('float32', Float32Array.from({ length: n * n }, () => rng.normal()), [n, n]);
  const b = new ort.Tensor('float32', Float32Array.from({ length: n * n }, () => rng.normal()), [n, n]);
  await s.run({ a, b });
  let ms = Infinity;
  const end = performance.now() + seconds * 1000;
  for (let k = 0; k < 5 || performance.now() < end; k++) {
    const t0 = performance.now();
    await s.run({ a, b });
    ms = Math.min(ms, performance.now() - t0);
  }
  await s.release();
  return (2 * n ** 3) / (ms / 1000) / 1e9;
}
