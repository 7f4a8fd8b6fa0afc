/**
 * DeepLIFT with the Rescale rule (Shrikumar et al. 2017, "Learning important features through
 * propagating activation differences"), as backward-rule overrides (DESIGN.md §2) with Captum
 * `DeepLift`'s semantics (multiply_by_inputs=True, eps = 1e-10):
 *
 *   attr = (x − x₀) ⊙ m,   m = the multipliers of the target logit w.r.t. the input
 *
 * Like Captum, inputs and baselines run as one doubled batch [x; x₀] through the VJP graph; the
 * seed is the one-hot of the target on the input half and 0 on the baseline half. Rules (per
 * position; Δ· = (first half − second half), repeated for both halves):
 *   Relu, Sigmoid, Tanh, Elu     Rescale: dX = dY ⊙ Δy/Δx, or the ordinary gradient where |Δx| < eps
 *                                (Captum's `nonlinear`, its rule for ReLU/ELU/Sigmoid/Tanh)
 *   MaxPool                      Captum's `maxpool` rule (`maxPool: 'captum'`, default):
 *                                  ŷ = max(y, y₀);  U = unpool(dY ⊙ [ŷ − y₀; y − ŷ]) with each half's
 *                                  own argmax;  U = U_x + U_x₀ (for both halves);
 *                                  dX = U / Δx, or the ordinary gradient where |Δx| < eps.
 *                                Where y₀ > y the change goes to the baseline's argmax, through the
 *                                baseline half's upstream gradient — which Captum leaves 0 between
 *                                the output and the first MaxPool below it, so there that part of
 *                                Δy is dropped and Σ attr ≠ f(x) − f(x₀). `maxPool: 'conservative'`
 *                                uses the input half's upstream gradient for both halves (what
 *                                Captum's rule computes anyway below the first MaxPool, where both
 *                                halves carry the same multipliers), which conserves Δy through
 *                                every window. Overlapping windows accumulate (the gradient's
 *                                scatter-add); Captum's max_unpool overwrites there.
 *   everything else              the ordinary gradient: Conv, Gemm, MatMul, Add, AveragePool,
 *                                GlobalAveragePool, Flatten, … and BatchNormalization in inference
 *                                mode (an affine map per channel: the gradient is its exact
 *                                multiplier, as in Captum, which does not treat BatchNorm as a
 *                                nonlinearity). GlobalMaxPool, LeakyRelu, Clip (ReLU6), Softmax and
 *                                other nonlinearities are NOT rescaled (plain gradient), so
 *                                summation-to-delta does not hold through them.
 * For a network of linear/affine layers and ReLU/Sigmoid/Tanh/Elu only, Σ attr = f_t(x) − f_t(x₀)
 * exactly (summation-to-delta); `extra.delta` is Captum's convergence delta Σ attr − (f_t(x) − f_t(x₀)).
 *
 * Baselines as Integrated Gradients: 'zeros' (default, Captum's), 'black', 'gray', 'blur',
 * 'uniform', or a tensor [N|1,C,H,W]. Attributions are signed [N,C,H,W]; the map is the channel sum.
 * Images go through onnxruntime in chunks of ⌊batchSize/2⌋ (default 32) image/baseline pairs.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import type { BackwardRule, RuleContext, RuleSet } from '../autodiff/rule.js';
import { DEFAULT_RULES } from '../autodiff/rules/index.js';
import { A } from '../onnx/ir.js';
import { type Attribution, type ExplainOptions, type Target, reduceChannels, batchLayout } from './types.js';
import { checkImages, targetsOf } from './saliency.js';
import { type IgBaseline, makeBaseline } from './integrated-gradients.js';

export type DeepLiftMaxPool = 'captum' | 'conservative';

export interface DeepLiftOptions extends ExplainOptions {
  /** Reference input x₀ (default 'zeros'). */
  baseline?: IgBaseline;
  /** Range of the data for the 'black', 'gray' and 'uniform' baselines (default [−1, 1]). */
  dataRange?: readonly [number, number];
  /** Gaussian σ in pixels for the 'blur' baseline (default max(H, W) / 10). */
  blurSigma?: number;
  /** |Δx| below which the ordinary gradient is used (default 1e-10, Captum's). */
  eps?: number;
  /** MaxPool rule: 'captum' (default) or 'conservative' (see the file comment). */
  maxPool?: DeepLiftMaxPool;
}

/** Ops whose backward becomes the Rescale rule. */
export const RESCALE_OPS = ['Relu', 'Sigmoid', 'Tanh', 'Elu'] as const;

/** The first and second halves (along axis 0) of a doubled-batch tensor. */
function halves(c: RuleContext, t: string): [string, string] {
  const b = c.b;
  const batch = b.op('Slice', [c.shapeTensor(t), b.int64([0]), b.int64([1])]);
  const half = b.op('Div', [batch, b.int64([2])]);
  const axis = b.int64([0]);
  return [b.op('Slice', [t, b.int64([0]), half, axis]), b.op('Slice', [t, half, batch, axis])];
}

const twice = (c: RuleContext, t: string) => c.b.op('Concat', [t, t], { axis: A.i(0) });

/** (first half − second half), repeated for both halves. */
function doubledDiff(c: RuleContext, t: string): string {
  const [p, q] = halves(c, t);
  return twice(c, c.b.op('Sub', [p, q]));
}

function withGradient(c: RuleContext, g: string): RuleContext {
  const dy = [g, ...c.dy.slice(1)];
  return { ...c, dy, dyOrZeros: (k: number) => dy[k] || c.zerosLike(c.node.outputs[k]!) };
}

function baseRule(op: string): BackwardRule {
  const base = DEFAULT_RULES[op];
  if (!base) throw new Error(`deeplift: no standard backward rule for ${op}`);
  return base;
}

/** Where(|Δx| < eps, ordinary, rescaled). */
function select(c: RuleContext, dx: string, eps: number, ordinary: string, rescaled: string): string {
  const b = c.b;
  return b.op('Where', [b.op('Less', [b.op('Abs', [dx]), b.float(eps)]), ordinary, rescaled]);
}

/** The Rescale rule around an elementwise op's standard rule (Captum `nonlinear`). */
export function rescaleRule(op: string, eps: number): BackwardRule {
  const base = baseRule(op);
  return (c) => {
    if (!c.dy[0] || !c.needs[0]) return base(c);
    const ordinary = base(c)[0]!;
    const dx = doubledDiff(c, c.node.inputs[0]!);
    const dyv = doubledDiff(c, c.node.outputs[0]!);
    const rescaled = c.b.op('Div', [c.b.op('Mul', [c.dy[0], dyv]), dx]);
    return [select(c, dx, eps, ordinary, rescaled), ...c.node.inputs.slice(1).map(() => undefined)];
  };
}

/** Captum's `maxpool` rule (or its conservative variant) around the standard MaxPool rule. */
export function maxPoolRule(eps: number, variant: DeepLiftMaxPool): BackwardRule {
  const base = baseRule('MaxPool');
  return (c) => {
    if (!c.dy[0] || !c.needs[0]) return base(c);
    const b = c.b;
    const ordinary = base(c)[0]!;
    const [ya, yb] = halves(c, c.node.outputs[0]!);
    const ymax = b.op('Max', [ya, yb]);
    const dOut = b.op('Concat', [b.op('Sub', [ymax, yb]), b.op('Sub', [ya, ymax])], { axis: A.i(0) });
    const g = variant === 'captum' ? c.dy[0] : twice(c, halves(c, c.dy[0])[0]);
    const u2 = base(withGradient(c, b.op('Mul', [g, dOut])))[0]!;
    const [ua, ub] = halves(c, u2);
    const u = twice(c, b.op('Add', [ua, ub]));
    const dx = doubledDiff(c, c.node.inputs[0]!);
    return [select(c, dx, eps, ordinary, b.op('Div', [u, dx]))];
  };
}

/** The rule overrides for DeepLIFT-Rescale with these options, and a key naming them. */
export function deepLiftRules(options: Pick<DeepLiftOptions, 'eps' | 'maxPool'> = {}): { rules: RuleSet; key: string } {
  const eps = options.eps ?? 1e-10;
  const maxPool = options.maxPool ?? 'captum';
  if (!Number.isFinite(eps) || eps < 0) throw new Error(`deeplift: eps must be a finite number ≥ 0, got ${eps}`);
  if (maxPool !== 'captum' && maxPool !== 'conservative') throw new Error(`deeplift: unknown maxPool '${String(maxPool)}' (valid: captum, conservative)`);
  const rules: RuleSet = {};
  for (const op of RESCALE_OPS) rules[op] = rescaleRule(op, eps);
  rules['MaxPool'] = maxPoolRule(eps, maxPool);
  return { rules, key: `deeplift:${eps}:${maxPool}` };
}

/**
 * DeepLIFT (Rescale) attributions of the target logit relative to the baseline, for every image:
 * attributions (x − x₀) ⊙ multipliers, map = channel sum, extra.delta = Σ attr − (f_t(x) − f_t(x₀)),
 * extra.baselineLogits.
 */
export async function deepLift(model: Model, inputs: Tensor, target: Target, options: DeepLiftOptions = {}): Promise<Attribution> {
  checkImages(model, inputs);
  const { rules, key } = deepLiftRules(options);
  const baselineOpt = options.baseline ?? 'zeros';
  const base = makeBaseline(inputs, baselineOpt, options);
  const { targets } = await targetsOf(model, inputs, target);
  const { n, size } = batchLayout(inputs.shape);
  const k = model.numClasses;
  const chunk = Math.max(1, Math.floor((options.batchSize ?? 64) / 2));
  const x = inputs.data as Float32Array;
  const x0 = base.data as Float32Array;
  const out = new Float32Array(n * size);
  const logits = new Float32Array(n * k);
  const baseLogits = new Float32Array(n * k);
  const total = Math.ceil(n / chunk);
  for (let i0 = 0, step = 0; i0 < n; i0 += chunk, step++) {
    const i1 = Math.min(n, i0 + chunk);
    const m = i1 - i0;
    const both = Tensor.concat0([inputs.slice0(i0, i1), base.slice0(i0, i1)]);
    const seed = new Float32Array(2 * m * k);
    seed.set(model.oneHot(targets.slice(i0, i1)).data as Float32Array);
    const r = await model.vjp(both, { seed: new Tensor(seed, [2 * m, k]), rules, rulesKey: key, batchSize: 2 * m });
    const g = r.inputGrad!.data;
    for (let q = 0; q < m * size; q++) {
      const p = i0 * size + q;
      out[p] = (x[p]! - x0[p]!) * g[q]!;
    }
    logits.set(r.logits.data.subarray(0, m * k) as Float32Array, i0 * k);
    baseLogits.set(r.logits.data.subarray(m * k, 2 * m * k) as Float32Array, i0 * k);
    options.onProgress?.(step + 1, total);
  }
  const delta: number[] = [];
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let p = i * size; p < (i + 1) * size; p++) sum += out[p]!;
    const t = targets[i]!;
    delta.push(sum - (logits[i * k + t]! - baseLogits[i * k + t]!));
  }
  const attributions = new Tensor(out, inputs.shape);
  return {
    method: 'deeplift',
    attributions,
    map: reduceChannels(attributions, 'sum'),
    signed: true,
    targets,
    logits: new Tensor(logits, [n, k]),
    extra: { delta, baseline: baselineOpt instanceof Tensor ? 'tensor' : baselineOpt, maxPool: options.maxPool ?? 'captum', baselineLogits: new Tensor(baseLogits, [n, k]) },
  };
}
