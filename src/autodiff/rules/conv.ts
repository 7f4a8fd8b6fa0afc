/**
 * Conv backward (DESIGN.md §2).
 *  dX = ordinary Convs where possible (./conv-input-grad.ts: flipped kernel for stride 1, polyphase
 *       for equal strides) and the Conv has ≥ 16 input channels (RuleOptions.convTransposeBelowChannels),
 *       else ConvTranspose(dY, W) with the forward strides, dilations and groups and
 *       explicit pads [p_begin, max(0, e)], e = (Ho−1)s + (k−1)d + 1 − p_begin − H, then a zero tail pad
 *       of max(0, −e). Both forms are tested (VjpRequest.ruleOptions.convTranspose forces the second).
 *  dW = one GEMM per kernel tap (./conv-weight-grad.ts; depthwise: Mul + ReduceSum per tap), else
 *       Conv(X', dYᵀ) with strides and dilations swapped, X' = X with channels moved to the batch axis,
 *       sliced to the kernel size.
 *  dB = ReduceSum(dY) over batch and spatial axes.
 *
 * ConvTranspose backward: Y = ConvT(X, W) is the adjoint of Conv(·, W) with the same strides,
 * dilations, pads and groups, so
 *  dX = Conv(dY, W) (same attributes),
 *  dW = the Conv weight gradient with dY as the Conv input and X as the Conv output gradient,
 *  dB = ReduceSum(dY).
 */
import { A, attrInt, attrInts, attrString } from '../../onnx/ir.js';
import { type RuleContext, type RuleSet, resolvePads, transposedPadding } from '../rule.js';
import { convInputGrad } from './conv-input-grad.js';
import { convWeightGradByTaps } from './conv-weight-grad.js';

/**
 * Weight gradient of Y = Conv(X, W) (W: [M, Cg, *k], G groups) given dY; H / Ho: spatial dims of X / Y.
 * X: [N, G·Cg, *H] → [Cg, G·N, *H]; dY: [N, M, *Ho] → kernel [M, N, *Ho];
 * Conv with strides ↔ dilations swapped gives [Cg, M, *k'] → slice to k → transpose to [M, Cg, *k].
 */
function convWeightGrad(c: RuleContext, x: string, dy: string, H: number[], Ho: number[], k: number[], s: number[], d: number[], pads: number[], G: number, Cg: number): string {
  const b = c.b;
  const sp = H.length;
  const spatialAxes = Array.from({ length: sp }, (_, i) => i + 2);
  const xg = b.op('Reshape', [x, b.int64([0, G, Cg, ...H])]);
  const perm = [2, 1, 0, ...Array.from({ length: sp }, (_, i) => i + 3)];
  const xt = b.op('Reshape', [b.op('Transpose', [xg], { perm: A.ints(perm) }), b.int64([Cg, -1, ...H])]);
  const kt = b.op('Transpose', [dy], { perm: A.ints([1, 0, ...spatialAxes]) });
  let dw = b.op('Conv', [xt, kt], { strides: A.ints(d), dilations: A.ints(s), group: A.i(G), pads: A.ints(pads) });
  const kOut = Array.from({ length: sp }, (_, i) => Math.floor((H[i]! + pads[i]! + pads[i + sp]! - ((Ho[i]! - 1) * s[i]! + 1)) / d[i]!) + 1);
  if (kOut.some((v, i) => v !== k[i])) {
    dw = b.op('Slice', [dw, b.int64(Array(sp).fill(0)), b.int64(k), b.int64(spatialAxes)]);
  }
  return b.op('Transpose', [dw], { perm: A.ints([1, 0, ...spatialAxes]) });
}

const DEFAULT_TRANSPOSE_BELOW = 16;
const transposeBelow = (c: RuleContext): number => c.options.convTransposeBelowChannels ?? DEFAULT_TRANSPOSE_BELOW;

/** Inputs, static spatial sizes and attributes shared by the Conv and ConvTranspose rules. */
function geometry(c: RuleContext) {
  const [x, w, bias] = c.node.inputs as [string, string, string | undefined];
  const y = c.node.outputs[0]!;
  const sp = c.rank(x) - 2;
  const spatialAxes = Array.from({ length: sp }, (_, i) => i + 2);
  const wDims = c.staticDims(w);
  return {
    x,
    w,
    bias,
    y,
    dy: c.dy[0]!,
    b: c.b,
    sp,
    spatialAxes,
    Hx: c.staticDims(x, spatialAxes),
    Hy: c.staticDims(y, spatialAxes),
    wDims,
    k: attrInts(c.node, 'kernel_shape') ?? wDims.slice(2),
    s: attrInts(c.node, 'strides') ?? Array<number>(sp).fill(1),
    d: attrInts(c.node, 'dilations') ?? Array<number>(sp).fill(1),
    G: attrInt(c.node, 'group', 1),
  };
}

export const convRules: RuleSet = {
  Conv: (c) => {
    const { x, w, bias, y, dy, b, sp, spatialAxes, Hx: H, Hy: Ho, wDims, k, s, d, G } = geometry(c);
    const pads = resolvePads(c, H, k, s, d);
    const out: (string | undefined)[] = [undefined, undefined, undefined];

    const fast = c.needs[0] && !c.options.convTranspose && G * wDims[1]! >= transposeBelow(c) ? convInputGrad(c, dy, w, { H, Ho, k, s, d, pads, G, M: wDims[0]!, Cg: wDims[1]! }) : undefined;
    if (fast) out[0] = fast;
    else if (c.needs[0]) {
      const { padEnd, tail } = transposedPadding(H, Ho, k, s, d, pads);
      let dx = b.op('ConvTranspose', [dy, w], {
        strides: A.ints(s),
        dilations: A.ints(d),
        group: A.i(G),
        kernel_shape: A.ints(k),
        pads: A.ints([...pads.slice(0, sp), ...padEnd]),
      });
      if (tail.some((t) => t > 0)) {
        dx = b.op('Pad', [dx, b.int64([0, 0, ...Array(sp).fill(0), 0, 0, ...tail])], { mode: A.s('constant') });
      }
      out[0] = dx;
    }

    if (c.needs[1]) {
      const geometry = { H, Ho, k, s, d, pads, G, M: wDims[0]!, Cg: wDims[1]! };
      const byTaps = c.options.convWeightByConv ? undefined : convWeightGradByTaps(c, x, dy, geometry);
      out[1] = byTaps ?? convWeightGrad(c, x, dy, H, Ho, k, s, d, pads, G, wDims[1]!);
    }

    if (bias && c.needs[2]) out[2] = b.op('ReduceSum', [dy, b.int64([0, ...spatialAxes])], { keepdims: A.i(0) });
    return out;
  },

  ConvTranspose: (c) => {
    const { x, w, bias, y, dy, b, sp, spatialAxes, Hx, Hy, wDims, k, s, d, G } = geometry(c);
    const auto = attrString(c.node, 'auto_pad', 'NOTSET');
    if (c.node.attrs['output_shape'] || (auto !== 'NOTSET' && auto !== 'VALID')) {
      c.fail('ConvTranspose backward supports explicit pads (and output_padding) only, not output_shape or auto_pad SAME_*');
    }
    const pads = auto === 'VALID' ? Array(2 * sp).fill(0) : attrInts(c.node, 'pads') ?? Array(2 * sp).fill(0);
    const out: (string | undefined)[] = [undefined, undefined, undefined];
    if (c.needs[0]) {
      let dx = b.op('Conv', [dy, w], { strides: A.ints(s), dilations: A.ints(d), group: A.i(G), kernel_shape: A.ints(k), pads: A.ints(pads) });
      // With output_padding ≥ stride the Conv would produce extra positions: keep the first Hx.
      const convOut = Hy.map((h, i) => Math.floor((h + pads[i]! + pads[i + sp]! - (k[i]! - 1) * d[i]! - 1) / s[i]!) + 1);
      if (convOut.some((v, i) => v !== Hx[i])) dx = b.op('Slice', [dx, b.int64(Array(sp).fill(0)), b.int64(Hx), b.int64(spatialAxes)]);
      out[0] = dx;
    }
    // As a Conv: input dY [N, G·Cg, *Hy] (Cg = W's dim 1), output X [N, M, *Hx], weight W [M, Cg, *k].
    if (c.needs[1]) out[1] = convWeightGrad(c, dy, x, Hy, Hx, k, s, d, pads, G, wDims[1]!);
    if (bias && c.needs[2]) out[2] = b.op('ReduceSum', [dy, b.int64([0, ...spatialAxes])], { keepdims: A.i(0) });
    return out;
  },
};
