/**
 * Backward rule for LayerNormalization (opset 17): normalization over axes [axis, rank),
 *   μ = mean(x), r = 1/√(var(x) + ε), x̂ = (x − μ)·r, y = x̂·Scale + B.
 *
 *   g  = dy·Scale
 *   dx = r·(g − mean(g) − x̂·mean(g·x̂))            (means over the normalized axes)
 *   dScale = Σ dy·x̂,  dB = Σ dy                     (un-broadcast to their shapes)
 *
 * The optional outputs Mean (μ) and InvStdDev (r) are handled when they receive a gradient:
 * dx += dMean/D − dInvStdDev·r²·x̂/D, with D the number of normalized elements.
 * μ and r are the forward node's own Mean and InvStdDev outputs (added to the node when the file leaves
 * them out); means of the backward are ReduceSum / D (no ReduceMean: its axes moved to an input at
 * opset 18); D comes from Shape when the normalized dims are dynamic.
 */
import { A, attrFloat, attrInt } from '../../onnx/ir.js';
import type { RuleContext, RuleSet } from '../rule.js';
import { countAlong } from './reduce.js';

/**
 * The statistics of a normalization of `x` over `axes` (recomputed in the backward graph) and the input
 * gradient given g = ∂L/∂x̂:  dx = r·(g − mean(g) − x̂·mean(g·x̂)).
 */
export function normalization(c: RuleContext, x: string, axes: number[], eps: number, stats?: { mean: string; inv: string }) {
  const b = c.b;
  const axesT = b.int64(axes);
  const n = countAlong(c, x, axes);
  const mean = (t: string) => b.op('Div', [b.op('ReduceSum', [t, axesT], { keepdims: A.i(1) }), n]);
  let inv: string;
  let xc: string;
  if (stats) {
    xc = b.op('Sub', [x, stats.mean]);
    inv = stats.inv;
  } else {
    xc = b.op('Sub', [x, mean(x)]);
    const variance = mean(b.op('Mul', [xc, xc]));
    inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [variance, b.float(eps)])])]);
  }
  const xhat = b.op('Mul', [xc, inv]);
  const dx = (g: string) => b.op('Mul', [inv, b.op('Sub', [b.op('Sub', [g, mean(g)]), b.op('Mul', [xhat, mean(b.op('Mul', [g, xhat]))])])]);
  return { n, mean, inv, xhat, dx };
}

export const layerNormRules: RuleSet = {
  LayerNormalization: (c) => {
    const [x, scale, bias] = c.node.inputs as [string, string, string | undefined];
    const y = c.node.outputs[0]!;
    const b = c.b;
    const r = c.rank(x);
    const a = attrInt(c.node, 'axis', -1);
    const axis = a < 0 ? a + r : a;
    if (axis < 0 || axis >= r) c.fail(`axis ${a} is out of range for rank ${r}`);
    const eps = attrFloat(c.node, 'epsilon', 1e-5);
    const axes = Array.from({ length: r - axis }, (_, i) => axis + i);
    // The forward node's own Mean and InvStdDev outputs (added when the file leaves them out) instead of
    // recomputing the statistics: 6 fewer ops per LayerNorm.
    const node = c.node;
    for (const k of [1, 2]) if (!node.outputs[k]) node.outputs[k] = b.fresh(k === 1 ? 'ln_mean' : 'ln_inv_std');
    const { n, inv, xhat, dx: dxOf } = normalization(c, x, axes, eps, { mean: node.outputs[1]!, inv: node.outputs[2]! });

    const dy = c.dy[0] || undefined;
    const dMean = c.dy[1] || undefined;
    const dInv = c.dy[2] || undefined;
    const out: (string | undefined)[] = [undefined, undefined, undefined];

    if (c.needs[0]) {
      const terms: string[] = [];
      if (dy) terms.push(dxOf(b.op('Mul', [dy, scale])));
      // Mean and InvStdDev have the keepdims shape, so these broadcast over the normalized axes.
      if (dMean) terms.push(b.op('Div', [dMean, n]));
      if (dInv) terms.push(b.op('Neg', [b.op('Div', [b.op('Mul', [b.op('Mul', [dInv, b.op('Mul', [inv, inv])]), xhat]), n])]));
      if (terms.length === 1 && !dy) terms[0] = b.op('Expand', [terms[0]!, c.shapeTensor(x)]);
      out[0] = terms.length === 0 ? undefined : terms.length === 1 ? terms[0] : b.op('Sum', terms);
    }
    if (dy && c.needs[1]) out[1] = c.unbroadcast(b.op('Mul', [dy, xhat]), scale, y);
    if (dy && bias && c.needs[2]) out[2] = c.unbroadcast(dy, bias, y);
    return out;
  },
};
