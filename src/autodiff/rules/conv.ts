/**
 * Conv backward (DESIGN.md §2).
 *  dX = ConvTranspose(dY, W) with the forward strides, dilations and groups and explicit
 *       pads [p_begin, max(0, e)], e = (Ho−1)s + (k−1)d + 1 − p_begin − H, then a zero tail pad of max(0, −e).
 *  dW = Conv(X', dYᵀ) with strides and dilations swapped, X' = X with channels moved to the batch axis,
 *       sliced to the kernel size.
 *  dB = ReduceSum(dY) over batch and spatial axes.
 */
import { A, attrInt, attrInts } from '../../onnx/ir.js';
import { type RuleSet, resolvePads } from '../rule.js';

export const convRules: RuleSet = {
  Conv: (c) => {
    const [x, w, bias] = c.node.inputs as [string, string, string | undefined];
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    const b = c.b;
    const r = c.rank(x);
    const sp = r - 2;
    const spatialAxes = Array.from({ length: sp }, (_, i) => i + 2);
    const H = c.staticDims(x, spatialAxes);
    const Ho = c.staticDims(y, spatialAxes);
    const wDims = c.staticDims(w);
    const k = attrInts(c.node, 'kernel_shape') ?? wDims.slice(2);
    const s = attrInts(c.node, 'strides') ?? Array(sp).fill(1);
    const d = attrInts(c.node, 'dilations') ?? Array(sp).fill(1);
    const G = attrInt(c.node, 'group', 1);
    const pads = resolvePads(c, H, k, s, d);
    const out: (string | undefined)[] = [undefined, undefined, undefined];

    if (c.needs[0]) {
      const padEnd: number[] = [];
      const tail: number[] = [];
      for (let i = 0; i < sp; i++) {
        const e = (Ho[i]! - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1 - pads[i]! - H[i]!;
        padEnd.push(Math.max(0, e));
        tail.push(Math.max(0, -e));
      }
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
      const Cg = wDims[1]!;
      // X: [N, G·Cg, *S] → [Cg, G·N, *S]
      const xg = b.op('Reshape', [x, b.int64([0, G, Cg, ...H])]);
      const perm = [2, 1, 0, ...Array.from({ length: sp }, (_, i) => i + 3)];
      const xt = b.op('Reshape', [b.op('Transpose', [xg], { perm: A.ints(perm) }), b.int64([Cg, -1, ...H])]);
      // dY: [N, M, *So] → kernel [M, N, *So]
      const kt = b.op('Transpose', [dy], { perm: A.ints([1, 0, ...spatialAxes]) });
      let dw = b.op('Conv', [xt, kt], { strides: A.ints(d), dilations: A.ints(s), group: A.i(G), pads: A.ints(pads) });
      // [Cg, M, *K'] → slice to the kernel → [M, Cg, *K]
      const kOut = Array.from({ length: sp }, (_, i) => Math.floor((H[i]! + pads[i]! + pads[i + sp]! - ((Ho[i]! - 1) * s[i]! + 1)) / d[i]!) + 1);
      if (kOut.some((v, i) => v !== k[i])) {
        dw = b.op('Slice', [dw, b.int64(Array(sp).fill(0)), b.int64(k), b.int64(spatialAxes)]);
      }
      out[1] = b.op('Transpose', [dw], { perm: A.ints([1, 0, ...spatialAxes]) });
    }

    if (bias && c.needs[2]) out[2] = b.op('ReduceSum', [dy, b.int64([0, ...spatialAxes])], { keepdims: A.i(0) });
    return out;
  },
};
