/**
 * Backward rules for pointwise activations (and Softmax/LogSoftmax along one axis), including Mish,
 * Softsign, Celu, ThresholdedRelu, Sin/Cos, and the zero gradient of Sign/Floor/Ceil/Round.
 *
 * Conventions at kinks follow PyTorch: Relu/LeakyRelu/PRelu/Elu/Selu pass the "negative side"
 * gradient at x = 0; Clip passes dy on the closed interval min ≤ x ≤ max; HardSigmoid passes α·dy
 * strictly inside (0, 1); HardSwish uses x/3 + ½ on −3 ≤ x ≤ 3; Abs has gradient 0 at 0.
 * Rules use the forward output y where that is cheaper (Sigmoid, Tanh, Exp, Softmax, Elu…).
 */
import { A, DataType, attrFloat, attrInt, attrString } from '../../onnx/ir.js';
import type { RuleContext, RuleSet } from '../rule.js';

const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

/** Where(x > 0, dy, neg) — the common shape of rectifier rules. */
function positiveOr(c: RuleContext, neg: string): string {
  const x = c.node.inputs[0]!;
  return c.b.op('Where', [c.b.op('Greater', [x, c.b.float(0)]), c.dy[0]!, neg]);
}

/** The (single) softmax axis, normalized. Opset ≥ 13 semantics (the VJP builder requires opset ≥ 17). */
function softmaxAxis(c: RuleContext): number {
  const r = c.rank(c.node.inputs[0]!);
  const a = attrInt(c.node, 'axis', -1);
  const k = a < 0 ? a + r : a;
  if (k < 0 || k >= r) c.fail(`axis ${a} is out of range for rank ${r}`);
  return k;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export const activationRules: RuleSet = {
  /**
   * dx = dy · [y > 0]. The mask is read from the output y (y > 0 ⇔ x > 0, PyTorch's threshold rule
   * at x = 0), so onnxruntime can still fuse Conv+BatchNorm+ReLU in the forward half of a VJP graph;
   * a float multiply is much faster there than Where.
   */
  Relu: (c) => {
    // Measured on onnxruntime 1.30 CPU: Cast(Greater)·dy beats Where(…, dy, 0) and dy·Sign(y).
    const mask = c.b.op('Cast', [c.b.op('Greater', [c.node.outputs[0]!, c.b.float(0)])], { to: A.i(DataType.FLOAT) });
    return [c.b.op('Mul', [c.dy[0]!, mask])];
  },

  LeakyRelu: (c) => {
    const alpha = attrFloat(c.node, 'alpha', 0.01);
    return [positiveOr(c, c.b.op('Mul', [c.dy[0]!, c.b.float(alpha)]))];
  },

  /** y = x (x > 0), slope·x (x ≤ 0); slope broadcasts to x (e.g. per-channel [C,1,1]). */
  PRelu: (c) => {
    const [x, slope] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    const pos = c.b.op('Greater', [x, c.b.float(0)]);
    const out: (string | undefined)[] = [undefined, undefined];
    if (c.needs[0]) out[0] = c.b.op('Where', [pos, dy, c.b.op('Mul', [dy, slope])]);
    if (c.needs[1]) out[1] = c.unbroadcast(c.b.op('Where', [pos, c.b.float(0), c.b.op('Mul', [dy, x])]), slope, y);
    return out;
  },

  /**
   * y = min(max(x, lo), hi) with lo/hi optional inputs (ReLU6 = Clip(0, 6)).
   * dx = dy on lo < x < hi (see below). If lo/hi are themselves differentiated (rare):
   * dlo = Σ dy over x < lo, dhi = Σ dy over x > hi (assumes lo ≤ hi).
   */
  Clip: (c) => {
    const x = c.node.inputs[0]!;
    const lo = c.node.inputs[1] || undefined;
    const hi = c.node.inputs[2] || undefined;
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    // Opset < 11 form (min/max attributes) for completeness.
    const loName = lo ?? (c.node.attrs['min'] ? c.b.float(attrFloat(c.node, 'min', 0)) : undefined);
    const hiName = hi ?? (c.node.attrs['max'] ? c.b.float(attrFloat(c.node, 'max', 0)) : undefined);
    const out: (string | undefined)[] = [undefined, undefined, undefined];
    if (c.needs[0]) {
      // Mask from the output, strict at the bounds (lo < y < hi ⇔ lo < x < hi): PyTorch's
      // hardtanh/ReLU6 rule, which is where Clip(0, 6) in exported models comes from (torch.clamp
      // itself passes the gradient at x = lo or hi; the two differ only on exact boundary values).
      // Reading y keeps Conv+Clip fusable in the forward half of the VJP graph.
      const conds: string[] = [];
      if (loName) conds.push(c.b.op('Greater', [y, loName]));
      if (hiName) conds.push(c.b.op('Less', [y, hiName]));
      if (conds.length === 0) out[0] = dy;
      else {
        const mask = conds.length === 2 ? c.b.op('And', [conds[0]!, conds[1]!]) : conds[0]!;
        out[0] = c.b.op('Mul', [dy, c.b.op('Cast', [mask], { to: A.i(DataType.FLOAT) })]);
      }
    }
    if (lo && c.needs[1]) out[1] = c.unbroadcast(c.b.op('Where', [c.b.op('Less', [x, lo]), dy, c.b.float(0)]), lo, y);
    if (hi && c.needs[2]) out[2] = c.unbroadcast(c.b.op('Where', [c.b.op('Greater', [x, hi]), dy, c.b.float(0)]), hi, y);
    return out;
  },

  Sigmoid: (c) => {
    const y = c.node.outputs[0]!;
    const oneMinus = c.b.op('Sub', [c.b.float(1), y]);
    return [c.b.op('Mul', [c.dy[0]!, c.b.op('Mul', [y, oneMinus])])];
  },

  Tanh: (c) => {
    const y = c.node.outputs[0]!;
    return [c.b.op('Mul', [c.dy[0]!, c.b.op('Sub', [c.b.float(1), c.b.op('Mul', [y, y])])])];
  },

  /** y = max(0, min(1, αx + β)): dx = α·dy where 0 < αx + β < 1. */
  HardSigmoid: (c) => {
    const x = c.node.inputs[0]!;
    const alpha = attrFloat(c.node, 'alpha', 0.2);
    const beta = attrFloat(c.node, 'beta', 0.5);
    const t = c.b.op('Add', [c.b.op('Mul', [x, c.b.float(alpha)]), c.b.float(beta)]);
    const inside = c.b.op('And', [c.b.op('Greater', [t, c.b.float(0)]), c.b.op('Less', [t, c.b.float(1)])]);
    return [c.b.op('Where', [inside, c.b.op('Mul', [c.dy[0]!, c.b.float(alpha)]), c.b.float(0)])];
  },

  /** y = x·max(0, min(1, x/6 + ½)): dx = 0 (x < −3), (x/3 + ½)·dy (−3 ≤ x ≤ 3), dy (x > 3). */
  HardSwish: (c) => {
    const x = c.node.inputs[0]!;
    const dy = c.dy[0]!;
    const mid = c.b.op('Mul', [dy, c.b.op('Add', [c.b.op('Mul', [x, c.b.float(1 / 3)]), c.b.float(0.5)])]);
    const upper = c.b.op('Where', [c.b.op('LessOrEqual', [x, c.b.float(3)]), mid, dy]);
    return [c.b.op('Where', [c.b.op('Less', [x, c.b.float(-3)]), c.b.float(0), upper])];
  },

  /** dx = y ⊙ (dy − Σ_axis y⊙dy). */
  Softmax: (c) => {
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    const axis = softmaxAxis(c);
    const s = c.b.op('ReduceSum', [c.b.op('Mul', [y, dy]), c.b.int64([axis])], { keepdims: A.i(1) });
    return [c.b.op('Mul', [y, c.b.op('Sub', [dy, s])])];
  },

  /** y = x − logΣexp x: dx = dy − exp(y) ⊙ Σ_axis dy. */
  LogSoftmax: (c) => {
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    const axis = softmaxAxis(c);
    const s = c.b.op('ReduceSum', [dy, c.b.int64([axis])], { keepdims: A.i(1) });
    return [c.b.op('Sub', [dy, c.b.op('Mul', [c.b.op('Exp', [y]), s])])];
  },

  /** d erf(x)/dx = 2/√π · exp(−x²). */
  Erf: (c) => {
    const x = c.node.inputs[0]!;
    const e = c.b.op('Exp', [c.b.op('Neg', [c.b.op('Mul', [x, x])])]);
    return [c.b.op('Mul', [c.dy[0]!, c.b.op('Mul', [e, c.b.float(2 / Math.sqrt(Math.PI))])])];
  },

  /**
   * Gelu (opset 20). 'none': y = x·Φ(x), y' = Φ(x) + x·φ(x).
   * 'tanh': y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³), y' = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).
   */
  Gelu: (c) => {
    const x = c.node.inputs[0]!;
    const approx = attrString(c.node, 'approximate', 'none');
    const b = c.b;
    const x2 = b.op('Mul', [x, x]);
    let d: string;
    if (approx === 'none') {
      const cdf = b.op('Mul', [b.op('Add', [b.op('Erf', [b.op('Mul', [x, b.float(Math.SQRT1_2)])]), b.float(1)]), b.float(0.5)]);
      const pdf = b.op('Mul', [b.op('Exp', [b.op('Mul', [x2, b.float(-0.5)])]), b.float(INV_SQRT_2PI)]);
      d = b.op('Add', [cdf, b.op('Mul', [x, pdf])]);
    } else if (approx === 'tanh') {
      const k = 0.044715;
      const u = b.op('Mul', [b.op('Mul', [x, b.op('Add', [b.op('Mul', [x2, b.float(k)]), b.float(1)])]), b.float(SQRT_2_OVER_PI)]);
      const t = b.op('Tanh', [u]);
      const du = b.op('Mul', [b.op('Add', [b.op('Mul', [x2, b.float(3 * k)]), b.float(1)]), b.float(SQRT_2_OVER_PI)]);
      const sech2 = b.op('Sub', [b.float(1), b.op('Mul', [t, t])]);
      const first = b.op('Mul', [b.op('Add', [t, b.float(1)]), b.float(0.5)]);
      const second = b.op('Mul', [b.op('Mul', [x, b.float(0.5)]), b.op('Mul', [sech2, du])]);
      d = b.op('Add', [first, second]);
    } else {
      return c.fail(`unknown Gelu approximate='${approx}' (expected 'none' or 'tanh')`);
    }
    return [b.op('Mul', [c.dy[0]!, d])];
  },

  /** y = x (x > 0), α(eˣ − 1) otherwise: dx = dy·(y + α) on the negative side. */
  Elu: (c) => {
    const alpha = attrFloat(c.node, 'alpha', 1);
    const y = c.node.outputs[0]!;
    return [positiveOr(c, c.b.op('Mul', [c.dy[0]!, c.b.op('Add', [y, c.b.float(alpha)])]))];
  },

  /** y = γx (x > 0), γα(eˣ − 1) otherwise: dx = γ·dy, or dy·(y + γα). */
  Selu: (c) => {
    const alpha = attrFloat(c.node, 'alpha', SELU_ALPHA);
    const gamma = attrFloat(c.node, 'gamma', SELU_GAMMA);
    const x = c.node.inputs[0]!;
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    const pos = c.b.op('Mul', [dy, c.b.float(gamma)]);
    const neg = c.b.op('Mul', [dy, c.b.op('Add', [y, c.b.float(alpha * gamma)])]);
    return [c.b.op('Where', [c.b.op('Greater', [x, c.b.float(0)]), pos, neg])];
  },

  /** y = log(1 + eˣ): dx = dy·σ(x). */
  Softplus: (c) => [c.b.op('Mul', [c.dy[0]!, c.b.op('Sigmoid', [c.node.inputs[0]!])])],

  Exp: (c) => [c.b.op('Mul', [c.dy[0]!, c.node.outputs[0]!])],

  Log: (c) => [c.b.op('Div', [c.dy[0]!, c.node.inputs[0]!])],

  Abs: (c) => [c.b.op('Mul', [c.dy[0]!, c.b.op('Sign', [c.node.inputs[0]!])])],

  /** y = 1/x: dx = −dy·y². */
  Reciprocal: (c) => {
    const y = c.node.outputs[0]!;
    return [c.b.op('Neg', [c.b.op('Mul', [c.dy[0]!, c.b.op('Mul', [y, y])])])];
  },

  /** y = x·tanh(softplus(x)): dx = dy·(t + x·σ(x)·(1 − t²)), t = tanh(softplus(x)). */
  Mish: (c) => {
    const b = c.b;
    const x = c.node.inputs[0]!;
    const t = b.op('Tanh', [b.op('Softplus', [x])]);
    const sech2 = b.op('Sub', [b.float(1), b.op('Mul', [t, t])]);
    const d = b.op('Add', [t, b.op('Mul', [b.op('Mul', [x, b.op('Sigmoid', [x])]), sech2])]);
    return [b.op('Mul', [c.dy[0]!, d])];
  },

  /** y = x/(1 + |x|): dx = dy/(1 + |x|)². */
  Softsign: (c) => {
    const b = c.b;
    const den = b.op('Add', [b.op('Abs', [c.node.inputs[0]!]), b.float(1)]);
    return [b.op('Div', [c.dy[0]!, b.op('Mul', [den, den])])];
  },

  /** y = max(0, x) + min(0, α(e^{x/α} − 1)): dx = dy on x > 0, dy·e^{x/α} otherwise. */
  Celu: (c) => {
    const alpha = attrFloat(c.node, 'alpha', 1);
    const x = c.node.inputs[0]!;
    return [positiveOr(c, c.b.op('Mul', [c.dy[0]!, c.b.op('Exp', [c.b.op('Div', [x, c.b.float(alpha)])])]))];
  },

  /** y = x where x > α, else 0. */
  ThresholdedRelu: (c) => {
    const alpha = attrFloat(c.node, 'alpha', 1);
    const x = c.node.inputs[0]!;
    return [c.b.op('Where', [c.b.op('Greater', [x, c.b.float(alpha)]), c.dy[0]!, c.b.float(0)])];
  },

  Sin: (c) => [c.b.op('Mul', [c.dy[0]!, c.b.op('Cos', [c.node.inputs[0]!])])],
  Cos: (c) => [c.b.op('Neg', [c.b.op('Mul', [c.dy[0]!, c.b.op('Sin', [c.node.inputs[0]!])])])],

  // Piecewise-constant ops: zero gradient almost everywhere (as PyTorch's autograd gives).
  Sign: (c) => [c.zerosLike(c.node.inputs[0]!)],
  Floor: (c) => [c.zerosLike(c.node.inputs[0]!)],
  Ceil: (c) => [c.zerosLike(c.node.inputs[0]!)],
  Round: (c) => [c.zerosLike(c.node.inputs[0]!)],
};
