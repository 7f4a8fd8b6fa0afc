/**
 * Conv weight gradient per kernel tap, as GEMMs:
 *   dW[:, :, kh, kw] = dYᵀ · X_tap,  dYᵀ = [M, N·Ho·Wo],  X_tap = X (padded) sampled at
 *   (kh·d + s·ho, kw·d + s·wo) as [C, N·Ho·Wo].
 * onnxruntime runs the equivalent single Conv (channels moved to the batch axis, a kernel the size
 * of the output map) far below its peak; k² GEMMs with a long inner dimension run near it.
 * Depthwise convolutions (one input channel per group) use Mul + ReduceSum per tap instead.
 * Returns undefined for other grouped convolutions (the caller keeps the single-Conv form).
 */
import { A } from '../../onnx/ir.js';
import type { RuleContext } from '../rule.js';
import type { ConvGeometry } from './conv-input-grad.js';

export function convWeightGradByTaps(c: RuleContext, x: string, dy: string, g: ConvGeometry): string | undefined {
  const { Ho, k, s, d, pads, G, M, Cg } = g;
  const sp = k.length;
  const depthwise = Cg === 1 && M === G;
  if (sp !== 2 || (G !== 1 && !depthwise)) return undefined;
  const b = c.b;
  const padded = pads.some((p) => p !== 0) ? b.op('Pad', [x, b.int64([0, 0, pads[0]!, pads[1]!, 0, 0, pads[2]!, pads[3]!])]) : x;
  const taps: string[] = [];
  const sliceTap = (src: string, kh: number, kw: number) =>
    b.op('Slice', [
      src,
      b.int64([kh * d[0]!, kw * d[1]!]),
      b.int64([kh * d[0]! + (Ho[0]! - 1) * s[0]! + 1, kw * d[1]! + (Ho[1]! - 1) * s[1]! + 1]),
      b.int64([2, 3]),
      b.int64([s[0]!, s[1]!]),
    ]);
  if (depthwise) {
    // dW[c, 0, kh, kw] = Σ_{n, ho, wo} dY[n, c, ho, wo] · X_tap[n, c, ho, wo]
    for (let kh = 0; kh < k[0]!; kh++)
      for (let kw = 0; kw < k[1]!; kw++) {
        const prod = b.op('Mul', [dy, sliceTap(padded, kh, kw)]);
        taps.push(b.op('ReduceSum', [prod, b.int64([0, 2, 3])], { keepdims: A.i(0) }));
      }
    const stacked = b.op('Concat', taps.map((t) => b.op('Unsqueeze', [t, b.int64([1])])), { axis: A.i(1) });
    return b.op('Reshape', [stacked, b.int64([M, 1, k[0]!, k[1]!])]);
  }
  const xt = b.op('Transpose', [padded], { perm: A.ints([1, 0, 2, 3]) }); // [C, N, Hp, Wp]
  const dyt = b.op('Reshape', [b.op('Transpose', [dy], { perm: A.ints([1, 0, 2, 3]) }), b.int64([M, -1])]); // [M, N·Ho·Wo]
  for (let kh = 0; kh < k[0]!; kh++)
    for (let kw = 0; kw < k[1]!; kw++) {
      const xs = b.op('Reshape', [sliceTap(xt, kh, kw), b.int64([Cg, -1])]); // [C, N·Ho·Wo]
      const gk = b.op('Gemm', [dyt, xs], { transB: A.i(1) }); // [M, C]
      taps.push(b.op('Unsqueeze', [gk, b.int64([2])]));
    }
  const stacked = taps.length === 1 ? taps[0]! : b.op('Concat', taps, { axis: A.i(2) }); // [M, C, kh·kw]
  return b.op('Reshape', [stacked, b.int64([M, Cg, k[0]!, k[1]!])]);
}
