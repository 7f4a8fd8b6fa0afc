/** Backward rules for normalization layers. */
import { A, attrFloat, attrInt } from '../../onnx/ir.js';
import type { RuleSet } from '../rule.js';

export const normRules: RuleSet = {
  /** Inference-mode BatchNormalization: y = γ·(x − μ)/√(σ²+ε) + β, an affine map per channel. */
  BatchNormalization: (c) => {
    if (attrInt(c.node, 'training_mode', 0) === 1) c.fail('training-mode BatchNormalization has no backward rule yet (export the model in eval mode)');
    const [x, gamma, beta, mean, variance] = c.node.inputs as [string, string, string, string, string];
    const eps = attrFloat(c.node, 'epsilon', 1e-5);
    const r = c.rank(x);
    const bshape = c.b.int64([1, -1, ...Array(r - 2).fill(1)]);
    const axes = c.b.int64([0, ...Array.from({ length: r - 2 }, (_, i) => i + 2)]);
    const b = c.b;
    const dy = c.dy[0]!;
    const invStd = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [variance, b.float(eps)])])]);
    const scale = b.op('Mul', [gamma, invStd]);
    const out: (string | undefined)[] = [];
    if (c.needs[0]) out[0] = b.op('Mul', [dy, b.op('Reshape', [scale, bshape])]);
    const xc = () => b.op('Sub', [x, b.op('Reshape', [mean, bshape])]);
    if (c.needs[1]) out[1] = b.op('Mul', [b.op('ReduceSum', [b.op('Mul', [dy, xc()]), axes], { keepdims: A.i(0) }), invStd]);
    const sumDy = c.needs[2] || c.needs[3] ? b.op('ReduceSum', [dy, axes], { keepdims: A.i(0) }) : '';
    if (c.needs[2]) out[2] = sumDy;
    if (c.needs[3]) out[3] = b.op('Neg', [b.op('Mul', [sumDy, scale])]);
    if (c.needs[4]) {
      // ∂y/∂σ² = −½ γ (x − μ) (σ²+ε)^(−3/2)
      const s = b.op('ReduceSum', [b.op('Mul', [dy, xc()]), axes], { keepdims: A.i(0) });
      const k = b.op('Mul', [b.op('Mul', [scale, b.op('Mul', [invStd, invStd])]), b.float(-0.5)]);
      out[4] = b.op('Mul', [s, k]);
    }
    return out;
  },
};
