/** Backward rules for Gemm and MatMul. */
import { A, attrFloat, attrInt } from '../../onnx/ir.js';
import type { RuleSet } from '../rule.js';

export const linearRules: RuleSet = {
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
