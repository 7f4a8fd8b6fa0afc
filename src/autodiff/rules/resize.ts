/**
 * Resize backward (DESIGN.md §2). Resize (nearest, linear, cubic; no antialias) is separable and linear:
 * along each resized axis Y = M·X with an [out, in] interpolation matrix M that depends only on the
 * static sizes and attributes. dX applies Mᵀ along each resized axis with a MatMul (dY·M on the last
 * axis, Mᵀ·dY on the one before, a transpose around the MatMul elsewhere). The matrices are built here
 * in TypeScript, following onnxruntime's CPU kernel (float32 coordinate arithmetic, clamping, the
 * 0.5/0.5 split at the border for linear, edge-clamped taps for cubic); resize.test.ts checks that
 * applying them reproduces onnxruntime's own Resize output for every mode.
 */
import { A, DataType, attrFloat, attrInt, attrInts, attrString } from '../../onnx/ir.js';
import type { RuleSet } from '../rule.js';
import { constValues } from './movement.js';

export interface ResizeAxisOptions {
  mode: string;
  coordinateTransformationMode: string;
  nearestMode: string;
  cubicCoeffA: number;
  excludeOutside: boolean;
}

const f = Math.fround;

/** Input coordinate of output index `x` (float32 arithmetic, as onnxruntime). */
function originalCoordinate(mode: string, x: number, scale: number, outLen: number, inLen: number): number {
  switch (mode) {
    case 'half_pixel':
      return f(f(f(x + 0.5) / scale) - 0.5);
    case 'pytorch_half_pixel':
      return outLen > 1 ? f(f(f(x + 0.5) / scale) - 0.5) : 0;
    case 'align_corners':
      return outLen === 1 ? 0 : f(f(x * (inLen - 1)) / (outLen - 1));
    case 'asymmetric':
      return f(x / scale);
    case 'tf_half_pixel_for_nn':
      return f(f(x + 0.5) / scale);
    case 'half_pixel_symmetric': {
      const adjustment = f(outLen / f(scale * inLen));
      const offset = f(f(inLen / 2) * f(1 - adjustment));
      return f(offset + (x + 0.5) / scale - 0.5); // double literals in onnxruntime's expression
    }
    default:
      throw new Error(`coordinate_transformation_mode '${mode}' is not supported`);
  }
}

function nearestPixel(mode: string, v: number): number {
  switch (mode) {
    case 'round_prefer_floor':
    case 'round_prefer_ceil': {
      // onnxruntime (≥ 1.2x) treats coordinates within 1e-6 of a half as ties, so that e.g. 8 / (16/7),
      // 3.4999998 in float32, still rounds like 3.5 (checked against onnxruntime in resize.test.ts).
      const fl = Math.floor(v);
      if (Math.abs(v - fl - 0.5) <= 1e-6) return mode === 'round_prefer_ceil' ? fl + 1 : fl;
      return roundHalfAway(v);
    }
    case 'floor':
      return Math.floor(v);
    case 'ceil':
      return Math.ceil(v);
    default:
      throw new Error(`nearest_mode '${mode}' is not supported`);
  }
}

/** C's std::round: halves away from zero. */
const roundHalfAway = (v: number) => Math.sign(v) * Math.round(Math.abs(v));

/** Keys cubic coefficients of the 4 taps around a coordinate with fractional part s (float32 arithmetic, as onnxruntime). */
function cubicCoeffs(s: number, a: number): number[] {
  a = f(a);
  s = f(Math.abs(s));
  const a5 = f(5 * a);
  const a8 = f(8 * a);
  const a4 = f(4 * a);
  const outer = (t: number) => f(f(f(f(f(f(a * t) - a5) * t) + a8) * t) - a4);
  const inner = (t: number) => f(f(f(f(f(f(a + 2) * t) - f(a + 3)) * t) * t) + 1);
  return [outer(f(s + 1)), inner(s), inner(f(1 - s)), outer(f(2 - s))];
}

/**
 * The [outLen, inLen] interpolation matrix (row-major) of one resized axis, `scale` being the scale
 * onnxruntime uses for the coordinate transform (the given scale, or outLen / inLen from sizes).
 */
export function resizeMatrix(inLen: number, outLen: number, scale: number, o: ResizeAxisOptions): Float32Array {
  const m = new Float64Array(outLen * inLen);
  scale = f(scale);
  for (let y = 0; y < outLen; y++) {
    const row = y * inLen;
    if (o.mode === 'nearest') {
      const c = originalCoordinate(o.coordinateTransformationMode, y, scale, outLen, inLen);
      const i = Math.min(inLen - 1, Math.max(0, nearestPixel(o.nearestMode, c)));
      m[row + i] = 1;
    } else if (o.mode === 'linear') {
      let c = scale === 1 ? y : originalCoordinate(o.coordinateTransformationMode, y, scale, outLen, inLen);
      c = Math.max(0, Math.min(c, inLen - 1));
      const i1 = Math.min(Math.trunc(c), inLen - 1);
      const i2 = Math.min(i1 + 1, inLen - 1);
      if (i1 === i2) m[row + i1] = 1;
      else {
        m[row + i1] = f(Math.abs(f(c - i2)));
        m[row + i2] = f(Math.abs(f(c - i1)));
      }
    } else if (o.mode === 'cubic') {
      const c = scale === 1 ? y : originalCoordinate(o.coordinateTransformationMode, y, scale, outLen, inLen);
      const base = Math.floor(c);
      const w = cubicCoeffs(f(c - base), o.cubicCoeffA);
      if (o.excludeOutside) {
        let sum = 0;
        for (let t = 0; t < 4; t++) {
          const idx = base - 1 + t;
          if (idx < 0 || idx >= inLen) w[t] = 0;
          sum = f(sum + w[t]!);
        }
        for (let t = 0; t < 4; t++) w[t] = sum !== 0 ? f(w[t]! / sum) : 0;
      }
      for (let t = 0; t < 4; t++) {
        const idx = Math.min(inLen - 1, Math.max(0, base - 1 + t));
        m[row + idx] += w[t]!;
      }
    } else throw new Error(`Resize mode '${o.mode}' is not supported`);
  }
  return Float32Array.from(m);
}

export const resizeRules: RuleSet = {
  Resize: (c) => {
    const b = c.b;
    const [x, , scalesName, sizesName] = c.node.inputs as [string, string | undefined, string | undefined, string | undefined];
    const y = c.node.outputs[0]!;
    const opts: ResizeAxisOptions = {
      mode: attrString(c.node, 'mode', 'nearest'),
      coordinateTransformationMode: attrString(c.node, 'coordinate_transformation_mode', 'half_pixel'),
      nearestMode: attrString(c.node, 'nearest_mode', 'round_prefer_floor'),
      cubicCoeffA: attrFloat(c.node, 'cubic_coeff_a', -0.75),
      excludeOutside: attrInt(c.node, 'exclude_outside', 0) === 1,
    };
    if (attrInt(c.node, 'antialias', 0) === 1) c.fail('Resize with antialias=1 has no backward rule');
    if (opts.coordinateTransformationMode === 'tf_crop_and_resize') c.fail("Resize with coordinate_transformation_mode 'tf_crop_and_resize' has no backward rule");
    if (!['nearest', 'linear', 'cubic'].includes(opts.mode)) c.fail(`Resize mode '${opts.mode}' has no backward rule`);
    const policy = attrString(c.node, 'keep_aspect_ratio_policy', 'stretch');
    const r = c.rank(x);
    const axesAttr = attrInts(c.node, 'axes');
    const axes = axesAttr ? axesAttr.map((a) => (a < 0 ? a + r : a)) : Array.from({ length: r }, (_, i) => i);
    const scalesV = constValues(c, scalesName);
    const sizesV = sizesName ? c.intValues(sizesName) : undefined;
    const useScales = !!scalesName && !(scalesV && scalesV.length === 0) && !sizesName;
    if (useScales && !scalesV) c.fail('Resize backward needs constant scales');
    if (!useScales && policy !== 'stretch') c.fail(`Resize with keep_aspect_ratio_policy '${policy}' has no backward rule`);
    const xs = c.shape(x);
    const ys = c.shape(y);
    if (!xs || !ys) return c.fail('Resize backward needs the shapes of its input and output');
    // Per resized axis: input length, output length (as onnxruntime computes it) and the scale of the transform.
    const plan: { axis: number; inD: number; outD: number; scale: number }[] = [];
    let sameShape = true;
    for (let k = 0; k < axes.length; k++) {
      const a = axes[k]!;
      const inD = xs[a];
      let outD = ys[a];
      if (useScales && scalesV![k] === 1) continue;
      if (!useScales && sizesV) outD = sizesV[k];
      // onnxruntime: output = (int64)(scale · in) in float32 (10 × 0.7f gives 7, not 6)
      if (useScales && typeof inD === 'number') outD = Math.trunc(f(f(scalesV![k]!) * inD));
      if (inD === outD && !useScales) continue;
      if (typeof inD !== 'number' || typeof outD !== 'number') return c.fail(`Resize backward needs static sizes on resized axis ${a}`);
      if (inD !== outD) sameShape = false;
      plan.push({ axis: a, inD, outD, scale: useScales ? scalesV![k]! : f(outD) / f(inD) });
    }
    // onnxruntime copies the input when no dim changes, whatever the scales.
    if (sameShape) return [c.dy[0]!];
    let cur = c.dy[0]!;
    for (const { axis: a, inD, outD, scale } of plan.reverse()) {
      const m = resizeMatrix(inD, outD, scale, opts);
      if (outD === inD && m.every((v, i) => v === (Math.floor(i / inD) === i % inD ? 1 : 0))) continue;
      if (a === r - 1) {
        cur = b.op('MatMul', [cur, b.initializer('resize_m', DataType.FLOAT, [outD, inD], m)]);
      } else if (a === r - 2) {
        const mt = new Float32Array(inD * outD);
        for (let i = 0; i < outD; i++) for (let j = 0; j < inD; j++) mt[j * outD + i] = m[i * inD + j]!;
        cur = b.op('MatMul', [b.initializer('resize_mt', DataType.FLOAT, [inD, outD], mt), cur]);
      } else {
        const perm = Array.from({ length: r }, (_, i) => i);
        perm[a] = r - 1;
        perm[r - 1] = a;
        const t = b.op('Transpose', [cur], { perm: A.ints(perm) });
        const mm = b.op('MatMul', [t, b.initializer('resize_m', DataType.FLOAT, [outD, inD], m)]);
        cur = b.op('Transpose', [mm], { perm: A.ints(perm) });
      }
    }
    return [cur];
  },
};
