/**
 * Multiply–add FLOPs of a forward pass (2 per MAC), per image, from inferred shapes:
 * Conv, ConvTranspose, Gemm and MatMul only (the rest is memory-bound and small).
 */
import type { Graph } from './ir.js';
import type { Inferred } from './shape-inference.js';

const num = (d: unknown): number => (typeof d === 'number' ? d : 1); // symbolic batch → per image

export function forwardFlopsPerImage(graph: Graph, inf: Inferred): number {
  let total = 0;
  const shape = (t: string | undefined) => (t ? inf.info.get(t)?.shape ?? null : null);
  for (const n of graph.nodes) {
    const y = shape(n.outputs[0]);
    if (!y) continue;
    if (n.opType === 'Conv') {
      const w = shape(n.inputs[1]);
      if (!w) continue;
      const perOut = w.slice(1).reduce<number>((a, d) => a * num(d), 1); // Cin/g · k…
      const outs = y.slice(1).reduce<number>((a, d) => a * num(d), 1);
      total += 2 * perOut * outs;
    } else if (n.opType === 'ConvTranspose') {
      const x = shape(n.inputs[0]);
      const w = shape(n.inputs[1]);
      if (!x || !w) continue;
      const perIn = w.slice(1).reduce<number>((a, d) => a * num(d), 1);
      const ins = x.slice(1).reduce<number>((a, d) => a * num(d), 1);
      total += 2 * perIn * ins;
    } else if (n.opType === 'Gemm') {
      const w = shape(n.inputs[1]);
      if (!w) continue;
      total += 2 * num(w[0]) * num(w[1]);
    } else if (n.opType === 'MatMul') {
      const a = shape(n.inputs[0]);
      const b = shape(n.inputs[1]);
      if (!a || !b) continue;
      const k = num(a[a.length - 1]);
      const outs = y.slice(1).reduce<number>((acc, d) => acc * num(d), 1);
      total += 2 * k * outs;
    }
  }
  return total;
}
