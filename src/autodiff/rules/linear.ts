/** Backward rules for Gemm and MatMul. */
import { type Dim, A, attrFloat, attrInt } from '../../onnx/ir.js';
import type { RuleContext, RuleSet } from '../rule.js';

/**
 * Sum `grad`, whose batch dims are `gradBatch` (followed by two matrix dims), down to an operand
 * whose shape (after 1-D promotion) is `opShape`, then reshape to the operand's own shape.
 */
function sumToOperand(c: RuleContext, grad: string, gradBatch: Dim[], opShape: Dim[], operand: string): string {
  const b = c.b;
  const opBatch = opShape.slice(0, -2);
  const lead = gradBatch.length - opBatch.length;
  const axes: number[] = [];
  for (let k = 0; k < gradBatch.length; k++) {
    if (k < lead) {
      axes.push(k);
      continue;
    }
    const a = opBatch[k - lead];
    const g = gradBatch[k];
    if (a === g) continue;
    if (a === 1) {
      if (g !== 1) axes.push(k);
      continue;
    }
    if (typeof a !== 'number') c.fail(`cannot tell whether batch dim ${k - lead} of '${operand}' is broadcast (size ${a ?? 'unknown'})`);
  }
  let out = axes.length ? b.op('ReduceSum', [grad, b.int64(axes)], { keepdims: A.i(1) }) : grad;
  const s = c.shape(operand)!;
  if (lead > 0 || s.length !== opShape.length) {
    const target = s.every((d) => typeof d === 'number') ? b.int64(s as number[]) : c.shapeTensor(operand);
    out = b.op('Reshape', [out, target]);
  }
  return out;
}

/** Swap the last two axes. */
const transposeLast = (c: RuleContext, t: string, rank: number) =>
  c.b.op('Transpose', [t], { perm: A.ints([...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2]) });

export const linearRules: RuleSet = {
  /**
   * Y = A·B with NumPy semantics: a 1-D A is a row [1,K], a 1-D B a column [K,1] (the added dim dropped
   * from Y). dA = dY·Bᵀ, dB = Aᵀ·dY on the promoted operands, summed over the batch dims that were broadcast.
   */
  MatMul: (c) => {
    const b = c.b;
    const [a, bm] = c.node.inputs as [string, string];
    const sa = c.shape(a);
    const sb = c.shape(bm);
    if (!sa || !sb) return c.fail('MatMul backward needs the ranks of both operands');
    const a2: Dim[] = sa.length === 1 ? [1, sa[0]!] : sa;
    const b2: Dim[] = sb.length === 1 ? [sb[0]!, 1] : sb;
    // Batch dims of Y (broadcast of both batch shapes).
    const ba = a2.slice(0, -2);
    const bb = b2.slice(0, -2);
    const nb = Math.max(ba.length, bb.length);
    const batch: Dim[] = [];
    for (let k = 0; k < nb; k++) {
      const p = ba[k - (nb - ba.length)] ?? 1;
      const q = bb[k - (nb - bb.length)] ?? 1;
      batch.push(p === 1 ? q : q === 1 ? p : typeof p === 'number' ? p : q);
    }
    let dy = c.dy[0]!;
    const unsq = sa.length === 1 && sb.length === 1 ? [-2, -1] : sa.length === 1 ? [-2] : sb.length === 1 ? [-1] : [];
    if (unsq.length) dy = b.op('Unsqueeze', [dy, b.int64(unsq)]);
    const A2 = sa.length === 1 ? b.op('Unsqueeze', [a, b.int64([0])]) : a;
    const B2 = sb.length === 1 ? b.op('Unsqueeze', [bm, b.int64([1])]) : bm;
    const out: (string | undefined)[] = [undefined, undefined];
    if (c.needs[0]) out[0] = sumToOperand(c, b.op('MatMul', [dy, transposeLast(c, B2, b2.length)]), batch, a2, a);
    if (c.needs[1]) out[1] = sumToOperand(c, b.op('MatMul', [transposeLast(c, A2, a2.length), dy]), batch, b2, bm);
    return out;
  },
  // Y = alpha·A'·B' + beta·C, A' = transA ? Aᵀ : A, B' = transB ? Bᵀ : B
  Gemm: (c) => {
    const [a, bm, cm] = c.node.inputs as [string, string, string | undefined];
    const dy = c.dy[0]!;
    const alpha = attrFloat(c.node, 'alpha', 1);
    const beta = attrFloat(c.node, 'beta', 1);
    const ta = attrInt(c.node, 'transA', 0);
    const tb = attrInt(c.node, 'transB', 0);
    const out: (string | undefined)[] = [undefined, undefined, undefined];
    if (c.needs[0]) {
      out[0] = ta
        ? c.b.op('Gemm', [bm, dy], { alpha: A.f(alpha), transA: A.i(tb), transB: A.i(1) })
        : c.b.op('Gemm', [dy, bm], { alpha: A.f(alpha), transA: A.i(0), transB: A.i(tb ? 0 : 1) });
    }
    if (c.needs[1]) {
      out[1] = tb
        ? c.b.op('Gemm', [dy, a], { alpha: A.f(alpha), transA: A.i(1), transB: A.i(ta) })
        : c.b.op('Gemm', [a, dy], { alpha: A.f(alpha), transA: A.i(ta ? 0 : 1), transB: A.i(0) });
    }
    if (cm && c.needs[2]) {
      const scaled = beta === 1 ? dy : c.b.op('Mul', [dy, c.b.float(beta)]);
      out[2] = c.unbroadcast(scaled, cm, c.node.outputs[0]!);
    }
    return out;
  },
};
