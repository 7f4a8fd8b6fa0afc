/**
 * Backward rules for broadcasting arithmetic and other elementwise ops.
 * Every gradient of a broadcast input is summed back to that input's shape (`unbroadcast`).
 */
import { A, DataType, attrInt, isFloatType } from '../../onnx/ir.js';
import type { RuleContext, RuleSet } from '../rule.js';

/**
 * Max/Min: the gradient goes to the input(s) equal to the result; where k inputs tie, each gets dy/k
 * (PyTorch's torch.maximum/minimum give dy/2 to each of two tied inputs).
 */
function extremumRule(c: RuleContext): (string | undefined)[] {
  const y = c.node.outputs[0]!;
  const dy = c.dy[0]!;
  const xs = c.node.inputs;
  if (xs.length === 1) return [dy];
  const masks = xs.map((x) => c.b.op('Cast', [c.b.op('Equal', [x, y])], { to: A.i(DataType.FLOAT) }));
  const count = c.b.op('Sum', masks);
  const share = c.b.op('Div', [dy, count]);
  return xs.map((x, i) => (c.needs[i] ? c.unbroadcast(c.b.op('Mul', [masks[i]!, share]), x, y) : undefined));
}

export const elementwiseRules: RuleSet = {
  Add: (c) => {
    const [a, b2] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    return [c.needs[0] ? c.unbroadcast(c.dy[0]!, a, y) : undefined, c.needs[1] ? c.unbroadcast(c.dy[0]!, b2, y) : undefined];
  },
  Sub: (c) => {
    const [a, b2] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    return [
      c.needs[0] ? c.unbroadcast(c.dy[0]!, a, y) : undefined,
      c.needs[1] ? c.b.op('Neg', [c.unbroadcast(c.dy[0]!, b2, y)]) : undefined,
    ];
  },
  Mul: (c) => {
    const [a, b2] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    return [
      c.needs[0] ? c.unbroadcast(c.b.op('Mul', [dy, b2]), a, y) : undefined,
      c.needs[1] ? c.unbroadcast(c.b.op('Mul', [dy, a]), b2, y) : undefined,
    ];
  },
  Div: (c) => {
    // y = a / b:  da = dy / b,  db = -dy * y / b
    const [a, b2] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    const da = c.b.op('Div', [dy, b2]);
    return [
      c.needs[0] ? c.unbroadcast(da, a, y) : undefined,
      c.needs[1] ? c.unbroadcast(c.b.op('Neg', [c.b.op('Mul', [da, y])]), b2, y) : undefined,
    ];
  },
  Neg: (c) => [c.b.op('Neg', [c.dy[0]!])],
  Sum: (c) => {
    const y = c.node.outputs[0]!;
    return c.node.inputs.map((x, i) => (c.needs[i] ? c.unbroadcast(c.dy[0]!, x, y) : undefined));
  },
  /** y = √x: dx = dy / (2y) (infinite at x = 0, as in PyTorch). */
  Sqrt: (c) => [c.b.op('Div', [c.b.op('Mul', [c.dy[0]!, c.b.float(0.5)]), c.node.outputs[0]!])],
  /**
   * z = aᵇ (broadcast): da = dy·b·aᵇ⁻¹, db = dy·z·ln a, as PyTorch defines them:
   * da = 0 where b = 0 (so 0⁰ gives no 0·∞); db = 0 where a = 0 and b ≥ 0;
   * for a < 0, ln a is NaN and so is db (aᵇ is not differentiable in b there); da is finite for
   * a < 0 with an integer exponent. An integer-typed exponent is cast to the base's type and
   * gets no gradient.
   */
  Pow: (c) => {
    const [a, e] = c.node.inputs as [string, string];
    const z = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    const b = c.b;
    const et = c.inferred.info.get(e)?.elemType ?? 0;
    const ef = et !== 0 && !isFloatType(et) ? b.op('Cast', [e], { to: A.i(DataType.FLOAT) }) : e;
    const zero = b.float(0);
    const out: (string | undefined)[] = [undefined, undefined];
    if (c.needs[0]) {
      const d = b.op('Mul', [ef, b.op('Pow', [a, b.op('Sub', [ef, b.float(1)])])]);
      const safe = b.op('Where', [b.op('Equal', [ef, zero]), zero, d]);
      out[0] = c.unbroadcast(b.op('Mul', [dy, safe]), a, z);
    }
    if (c.needs[1]) {
      const d = b.op('Mul', [z, b.op('Log', [a])]);
      const at0 = b.op('And', [b.op('Equal', [a, zero]), b.op('GreaterOrEqual', [ef, zero])]);
      out[1] = c.unbroadcast(b.op('Mul', [dy, b.op('Where', [at0, zero, d])]), e, z);
    }
    return out;
  },
  Max: extremumRule,
  Min: extremumRule,
  /** Where(cond, X, Y): dy goes to X where cond holds, to Y elsewhere; cond gets none. */
  Where: (c) => {
    const [cond, xt, xf] = c.node.inputs as [string, string, string];
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    const zero = c.b.float(0);
    return [
      undefined,
      c.needs[1] ? c.unbroadcast(c.b.op('Where', [cond, dy, zero]), xt, y) : undefined,
      c.needs[2] ? c.unbroadcast(c.b.op('Where', [cond, zero, dy]), xf, y) : undefined,
    ];
  },
  /** Float → float casts pass dy back in the input's type; casts to integers or bool carry no gradient. */
  Cast: (c) => {
    const to = attrInt(c.node, 'to', 0);
    if (!isFloatType(to)) return [undefined];
    return [c.b.op('CastLike', [c.dy[0]!, c.node.inputs[0]!])];
  },
  /** y = (Σ xᵢ)/n: dxᵢ = dy/n, un-broadcast. */
  Mean: (c) => {
    const y = c.node.outputs[0]!;
    const share = c.b.op('Div', [c.dy[0]!, c.b.float(c.node.inputs.length)]);
    return c.node.inputs.map((x, i) => (c.needs[i] ? c.unbroadcast(share, x, y) : undefined));
  },
};
