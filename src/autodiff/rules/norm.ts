/**
 * Backward rules for normalization layers: BatchNormalization (inference), InstanceNormalization, and
 * GroupNormalization (opset 18: Scale/B per group; opset 21: per channel, told apart by Scale's length).
 * Instance and group statistics are those of the image itself, so their input gradient is the full one
 * of a normalization (./layernorm.ts), not an affine map.
 */
import { A, attrFloat, attrInt } from '../../onnx/ir.js';
import type { RuleSet } from '../rule.js';
import { normalization } from './layernorm.js';

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

  /** y = x̂·scale[c] + B[c], statistics over the spatial axes of each image and channel. */
  InstanceNormalization: (c) => {
    const [x, scale] = c.node.inputs as [string, string];
    const r = c.rank(x);
    const b = c.b;
    const dy = c.dy[0]!;
    const spatial = Array.from({ length: r - 2 }, (_, i) => i + 2);
    const { xhat, dx } = normalization(c, x, spatial, attrFloat(c.node, 'epsilon', 1e-5));
    const bshape = b.int64([1, -1, ...Array(r - 2).fill(1)]);
    const out: (string | undefined)[] = [];
    if (c.needs[0]) out[0] = dx(b.op('Mul', [dy, b.op('Reshape', [scale, bshape])]));
    const others = b.int64([0, ...spatial]);
    if (c.needs[1]) out[1] = b.op('ReduceSum', [b.op('Mul', [dy, xhat]), others], { keepdims: A.i(0) });
    if (c.needs[2]) out[2] = b.op('ReduceSum', [dy, others], { keepdims: A.i(0) });
    return out;
  },

  /** x [N, C, …] viewed as [N, G, C/G·…], normalized over the last axis; affine per group or per channel. */
  GroupNormalization: (c) => {
    const [x, scale] = c.node.inputs as [string, string];
    const r = c.rank(x);
    const b = c.b;
    const dy = c.dy[0]!;
    const G = attrInt(c.node, 'num_groups', 0);
    if (G <= 0) c.fail('num_groups must be positive');
    const [C] = c.staticDims(x, [1]) as [number];
    const perChannel = (c.shape(scale)?.[0] ?? C) === C;
    const grouped = (t: string) => b.op('Reshape', [t, b.int64([0, G, -1])]);
    const xg = grouped(x);
    const { xhat: xhatG, dx } = normalization(c, xg, [2], attrFloat(c.node, 'epsilon', 1e-5));
    const xhat = b.op('Reshape', [xhatG, c.shapeTensor(x)]);
    // The affine map, broadcast to x: per channel [1, C, 1…], or per group repeated over its C/G channels.
    const affineShape = b.int64([1, -1, ...Array(r - 2).fill(1)]);
    const perX = (p: string) =>
      perChannel ? b.op('Reshape', [p, affineShape]) : b.op('Reshape', [b.op('Expand', [b.op('Reshape', [p, b.int64([G, 1])]), b.int64([G, C / G])]), affineShape]);
    const spatial = Array.from({ length: r - 2 }, (_, i) => i + 2);
    const toParam = (t: string) => {
      const perC = b.op('ReduceSum', [t, b.int64([0, ...spatial])], { keepdims: A.i(0) });
      return perChannel ? perC : b.op('ReduceSum', [b.op('Reshape', [perC, b.int64([G, C / G])]), b.int64([1])], { keepdims: A.i(0) });
    };
    const out: (string | undefined)[] = [];
    if (c.needs[0]) out[0] = b.op('Reshape', [dx(grouped(b.op('Mul', [dy, perX(scale)]))), c.shapeTensor(x)]);
    if (c.needs[1]) out[1] = toParam(b.op('Mul', [dy, xhat]));
    if (c.needs[2]) out[2] = toParam(dy);
    return out;
  },
};
