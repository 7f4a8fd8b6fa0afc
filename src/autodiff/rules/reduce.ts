/**
 * Backward rules for reductions: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceSumSquare, ReduceL2,
 * ReduceL1, ReduceLogSumExp, ReduceLogSum.
 *
 * Axes come from the `axes` attribute (ReduceSum before opset 13, the others before opset 18) or
 * from the constant second input (later opsets). Empty or absent axes reduce every axis unless
 * `noop_with_empty_axes=1`, in which case the op is the identity (ReduceSumSquare: x², ReduceL2: |x|).
 *
 * Every rule first brings dy to the keepdims shape (Unsqueeze over the reduced axes when
 * keepdims=0) and lets broadcasting (or an explicit Expand) spread it over the input.
 * Only ReduceSum is emitted, never ReduceMean/ReduceMax, whose axes moved from attribute to input
 * at opset 18; counts for dynamic dims (a symbolic batch) are computed from `Shape`.
 */
import { A, DataType, attrInt, attrInts } from '../../onnx/ir.js';
import type { RuleContext, RuleSet } from '../rule.js';

/** The reduced axes of a Reduce* node, normalized and sorted; null when the node is the identity. */
export function reduceAxes(c: RuleContext): number[] | null {
  const x = c.node.inputs[0]!;
  const r = c.rank(x);
  let axes = attrInts(c.node, 'axes');
  const axesInput = c.node.inputs[1];
  if (!axes && axesInput) {
    axes = c.intValues(axesInput);
    if (!axes) c.fail(`the axes input '${axesInput}' must be a constant for this backward rule`);
  }
  if (!axes || axes.length === 0) {
    if (attrInt(c.node, 'noop_with_empty_axes', 0) === 1) return null;
    return Array.from({ length: r }, (_, i) => i);
  }
  const norm = axes.map((a) => {
    const k = a < 0 ? a + r : a;
    if (k < 0 || k >= r) c.fail(`axis ${a} is out of range for rank ${r}`);
    return k;
  });
  return [...new Set(norm)].sort((a, b) => a - b);
}

/** `t` (reduced over `axes`, keepdims as the node says) reshaped to the keepdims shape. */
export function keepDims(c: RuleContext, t: string, axes: number[]): string {
  if (attrInt(c.node, 'keepdims', 1) === 1 || axes.length === 0) return t;
  return c.b.op('Unsqueeze', [t, c.b.int64(axes)]);
}

/** A float32 scalar: the number of elements of `x` along `axes` (static when possible, else from Shape). */
export function countAlong(c: RuleContext, x: string, axes: number[]): string {
  const s = c.shape(x);
  const dims = axes.map((a) => s?.[a]);
  if (dims.every((d) => typeof d === 'number')) return c.b.float((dims as number[]).reduce((p, d) => p * d, 1));
  const picked = c.b.op('Gather', [c.shapeTensor(x), c.b.int64(axes)], { axis: A.i(0) });
  const n = c.b.op('ReduceProd', [picked], { keepdims: A.i(0) });
  return c.b.op('Cast', [n], { to: A.i(DataType.FLOAT) });
}

/** Broadcast a keepdims-shaped tensor to the full shape of `x`. */
function expandTo(c: RuleContext, t: string, x: string): string {
  return c.b.op('Expand', [t, c.shapeTensor(x)]);
}

export const reduceRules: RuleSet = {
  ReduceSum: (c) => {
    const x = c.node.inputs[0]!;
    const axes = reduceAxes(c);
    if (axes === null) return [c.dy[0]!];
    return [expandTo(c, keepDims(c, c.dy[0]!, axes), x)];
  },
  ReduceMean: (c) => {
    const x = c.node.inputs[0]!;
    const axes = reduceAxes(c);
    if (axes === null) return [c.dy[0]!];
    const g = c.b.op('Div', [keepDims(c, c.dy[0]!, axes), countAlong(c, x, axes)]);
    return [expandTo(c, g, x)];
  },
  /** Gradient to every position equal to the max, split evenly among ties (PyTorch's amax/amin). */
  ReduceMax: (c) => extremumRule(c),
  ReduceMin: (c) => extremumRule(c),
  /** y = Σ x²: dx = 2·x·dy. */
  ReduceSumSquare: (c) => {
    const x = c.node.inputs[0]!;
    const axes = reduceAxes(c) ?? [];
    const dy = keepDims(c, c.dy[0]!, axes);
    return [c.b.op('Mul', [c.b.op('Mul', [x, c.b.float(2)]), dy])];
  },
  /** y = √Σ x²: dx = x·dy / y, and 0 where y = 0 (PyTorch's norm backward). */
  ReduceL2: (c) => {
    const x = c.node.inputs[0]!;
    const axes = reduceAxes(c) ?? [];
    const dy = keepDims(c, c.dy[0]!, axes);
    const y = keepDims(c, c.node.outputs[0]!, axes);
    const zero = c.b.op('Equal', [y, c.b.float(0)]);
    const ratio = c.b.op('Where', [zero, c.b.float(0), c.b.op('Div', [dy, y])]);
    return [c.b.op('Mul', [x, ratio])];
  },
  /** y = Σ |x|: dx = sign(x)·dy. */
  ReduceL1: (c) => {
    const x = c.node.inputs[0]!;
    const axes = reduceAxes(c) ?? [];
    return [c.b.op('Mul', [c.b.op('Sign', [x]), keepDims(c, c.dy[0]!, axes)])];
  },
  /** y = log Σ eˣ: dx = e^{x − y}·dy (the softmax over the reduced axes). */
  ReduceLogSumExp: (c) => {
    const x = c.node.inputs[0]!;
    const axes = reduceAxes(c) ?? [];
    const y = keepDims(c, c.node.outputs[0]!, axes);
    return [c.b.op('Mul', [c.b.op('Exp', [c.b.op('Sub', [x, y])]), keepDims(c, c.dy[0]!, axes)])];
  },
  /** y = log Σ x: dx = dy / Σ x. */
  ReduceLogSum: (c) => {
    const x = c.node.inputs[0]!;
    const axes = reduceAxes(c) ?? [];
    const s = keepDims(c, c.b.op('Exp', [c.node.outputs[0]!]), axes);
    return [c.b.op('Expand', [c.b.op('Div', [keepDims(c, c.dy[0]!, axes), s]), c.shapeTensor(x)])];
  },
};

function extremumRule(c: RuleContext): (string | undefined)[] {
  const x = c.node.inputs[0]!;
  const axes = reduceAxes(c);
  if (axes === null) return [c.dy[0]!];
  const y = keepDims(c, c.node.outputs[0]!, axes);
  const dy = keepDims(c, c.dy[0]!, axes);
  const mask = c.b.op('Cast', [c.b.op('Equal', [x, y])], { to: A.i(DataType.FLOAT) });
  const count = c.b.op('ReduceSum', [mask, c.b.int64(axes)], { keepdims: A.i(1) });
  return [c.b.op('Mul', [mask, c.b.op('Div', [dy, count])])];
}
