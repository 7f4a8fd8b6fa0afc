/**
 * Fast input gradient of Conv, expressed with ordinary Convs so onnxruntime runs it on its
 * optimised (NCHWc) convolution path; ConvTranspose on CPU goes through col2im and costs
 * about twice the forward convolution.
 *
 *  stride 1:  dX = Conv(dY, W̃) with W̃ the kernel transposed per group and flipped in space,
 *             pads (k−1)d − p, same dilation.
 *  stride s (2-D, equal strides, no dilation): polyphase. Output phase φ = (i + p_begin) mod s only
 *             receives kernel taps φ, φ+s, …; each phase is a stride-1 Conv of dY with those taps
 *             flipped, the s² phases are interleaved with DepthToSpace (DCR) and cropped.
 *
 * Returns undefined when neither applies (the caller falls back to ConvTranspose).
 */
import { A, DataType } from '../../onnx/ir.js';
import type { RuleContext } from '../rule.js';

export interface ConvGeometry {
  H: number[];
  Ho: number[];
  k: number[];
  s: number[];
  d: number[];
  /** [begin…, end…] */
  pads: number[];
  G: number;
  /** W: [M, Cg, *k] */
  M: number;
  Cg: number;
}

/**
 * The kernel rearranged for the input gradient: [G·Cg, M/G, T_h, T_w…], taking along each spatial
 * axis the taps listed (already in flipped order). Precomputed when W is a constant.
 */
function rearrangedKernel(c: RuleContext, w: string, g: ConvGeometry, taps: number[][]): string {
  const b = c.b;
  const { G, M, Cg, k } = g;
  const Mg = M / G;
  const sp = k.length;
  const constant = b.graph.initializers.get(w);
  const isInput = b.graph.inputs.some((v) => v.name === w);
  if (constant && !isInput && constant.dataType === DataType.FLOAT) {
    const src = constant.data as Float32Array;
    const T = taps.map((t) => t.length);
    const tapCount = T.reduce((p, q) => p * q, 1);
    const kSize = k.reduce((p, q) => p * q, 1);
    const out = new Float32Array(G * Cg * Mg * tapCount);
    const strides = k.map((_, i) => k.slice(i + 1).reduce((p, q) => p * q, 1));
    const tstr = T.map((_, i) => T.slice(i + 1).reduce((p, q) => p * q, 1));
    for (let gi = 0; gi < G; gi++)
      for (let cg = 0; cg < Cg; cg++)
        for (let m = 0; m < Mg; m++)
          for (let t = 0; t < tapCount; t++) {
            let srcOff = 0;
            for (let a = 0; a < sp; a++) srcOff += taps[a]![Math.floor(t / tstr[a]!) % T[a]!]! * strides[a]!;
            out[((gi * Cg + cg) * Mg + m) * tapCount + t] = src[((gi * Mg + m) * Cg + cg) * kSize + srcOff]!;
          }
    return b.initializer('vjp_wflip', DataType.FLOAT, [G * Cg, Mg, ...T], out);
  }
  // In-graph (weights being trained): [M, Cg, *k] → [G, Mg, Cg, *k] → [G, Cg, Mg, *k] → [G·Cg, Mg, *k] → gather taps
  const spatial = Array.from({ length: sp }, (_, i) => i + 3);
  let t = b.op('Reshape', [w, b.int64([G, Mg, Cg, ...k])]);
  t = b.op('Transpose', [t], { perm: A.ints([0, 2, 1, ...spatial]) });
  t = b.op('Reshape', [t, b.int64([G * Cg, Mg, ...k])]);
  taps.forEach((list, a) => {
    t = b.op('Gather', [t, b.int64(list)], { axis: A.i(a + 2) });
  });
  return t;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function convInputGrad(c: RuleContext, dy: string, w: string, g: ConvGeometry): string | undefined {
  const { H, Ho, k, s, d, pads } = g;
  const sp = k.length;
  const b = c.b;

  if (s.every((v) => v === 1)) {
    const pb = range(sp).map((i) => (k[i]! - 1) * d[i]! - pads[i]!);
    const pe = range(sp).map((i) => (k[i]! - 1) * d[i]! - pads[i + sp]!);
    if ([...pb, ...pe].some((p) => p < 0)) return undefined;
    const taps = k.map((kk) => range(kk).reverse());
    const kern = rearrangedKernel(c, w, g, taps);
    return b.op('Conv', [dy, kern], { dilations: A.ints(d), group: A.i(g.G), pads: A.ints([...pb, ...pe]), kernel_shape: A.ints(k) });
  }

  const st = s[0]!;
  if (sp !== 2 || s.some((v) => v !== st) || d.some((v) => v !== 1)) return undefined;
  // Phase φ along an axis: taps φ, φ+s, … (flipped); Q outputs per phase so that Q·s ≥ p_begin + H.
  const Q = range(sp).map((i) => Math.floor((pads[i]! + H[i]! - 1) / st) + 1);
  if (Q.some((q, i) => q < Ho[i]!)) return undefined;
  const phaseOutputs: string[] = [];
  let zeroPhase: string | undefined;
  let firstPhase: string | undefined;
  const pending: number[] = [];
  for (let ph = 0; ph < st; ph++) {
    for (let pw = 0; pw < st; pw++) {
      const phase = [ph, pw];
      const taps = phase.map((p, i) => {
        const list: number[] = [];
        for (let t = p; t < k[i]!; t += st) list.push(t);
        return list.reverse();
      });
      if (taps.some((t) => t.length === 0)) {
        pending.push(phaseOutputs.length);
        phaseOutputs.push('');
        continue;
      }
      const T = taps.map((t) => t.length);
      const kern = rearrangedKernel(c, w, g, taps);
      const out = b.op('Conv', [dy, kern], {
        group: A.i(g.G),
        kernel_shape: A.ints(T),
        pads: A.ints([...T.map((t) => t - 1), ...Q.map((q, i) => q - Ho[i]!)]),
      });
      firstPhase ??= out;
      phaseOutputs.push(out);
    }
  }
  if (!firstPhase) return undefined;
  for (const idx of pending) {
    zeroPhase ??= c.zerosLike(firstPhase);
    phaseOutputs[idx] = zeroPhase;
  }
  const stacked = b.op('Concat', phaseOutputs, { axis: A.i(1) });
  const interleaved = b.op('DepthToSpace', [stacked], { blocksize: A.i(st), mode: A.s('DCR') });
  return b.op('Slice', [interleaved, b.int64([pads[0]!, pads[1]!]), b.int64([pads[0]! + H[0]!, pads[1]! + H[1]!]), b.int64([2, 3])]);
}
