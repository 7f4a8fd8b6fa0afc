/**
 * Layer-wise Relevance Propagation (Bach et al. 2015; Montavon et al. 2019, "Layer-wise relevance
 * propagation: an overview") as backward-rule overrides (DESIGN.md §2), with Captum `LRP`'s layer
 * choices.
 *
 * LRP-ε for a layer z = f(a) that is linear in a up to a bias (z = Wa + b):
 *
 *   R_a = a ⊙ Jᵀ (R_z / (z + ε·sign(z))),   sign(0) = 1,  J = ∂z/∂a.
 *
 * Written with the quantity g = R_z / z that candor's VJP graph propagates, this is the standard
 * backward rule applied to a modified incoming gradient:
 *
 *   g ← g ⊙ z / (z + ε·sign(z))   then   dA = Jᵀ g        (ε = 0: 0/0 := 0, otherwise the ratio is 1)
 *
 * and the relevance of the input is R_x = x ⊙ (modified ∂y_t/∂x). ReLU keeps its ordinary backward
 * rule (relevance passes unchanged to the pre-activation, which is the z of the layer below), as do
 * the data-movement ops (Flatten, Reshape, Pad, …). The seed is the one-hot of the target: R at the
 * logits is z ⊙ g = y_t, so Σ R_x = y_t minus what ε and the biases absorb (exactly y_t for
 * bias-free ReLU nets at ε → 0). With ε → 0 every ratio is 1 and LRP-ε is gradient × input — for any
 * ReLU net of these layers, biases or not (Ancona et al. 2018); biases only break conservation.
 *
 * Layers (ONNX ops) and their rule, following Captum's `LRP` defaults (`EpsilonRule` on Conv2d,
 * Linear, BatchNorm2d, MaxPool, AvgPool2d, AdaptiveAvgPool2d; ReLU/Dropout pass relevance):
 *   Conv, Gemm, MatMul                ε rule (z is the op's output, bias included for Conv/Gemm; for a
 *                                     MatMul followed by a bias Add the stabiliser uses Wx, not Wx + b)
 *   BatchNormalization (inference)    ε rule on its own output: a per-channel affine layer whose bias is
 *                                     β − γμ/σ. A BatchNorm that torch.onnx.export folded into the Conv
 *                                     before it (its default in eval mode) is simply part of that Conv.
 *   AveragePool, GlobalAveragePool    ε rule (linear: the mean of the window)
 *   MaxPool                           ε rule over the standard (winner-take-all) gradient: the winner
 *                                     gets z/(z+ε) of the relevance; as Captum does. `maxPool: 'winner'`
 *                                     passes the plain gradient instead (identical at ε → 0).
 *   Relu, Add, Flatten, …             the ordinary gradient. For a residual Add this already splits R
 *                                     in proportion to the summands (R_a = a ⊙ g, R_b = b ⊙ g) — LRP-0
 *                                     at the sum; Captum applies ε there only to an `Addition_Module`.
 *
 * LRP-γ (`rule: 'gamma'`, Captum `GammaRule`, weights only, bias kept): on every Conv,
 *   R_a = a ⊙ W'ᵀ (R_z / (z' + ε·sign(z'))),  W' = W + γ·max(W, 0),  z' = Conv(a, W') + b,
 * i.e. g ← g ⊙ z / (z' + ε·sign(z')) and the input gradient taken with W'; every other layer keeps
 * the ε rule (a composite: γ for the convolutional layers, ε for the dense head).
 *
 * Attributions are signed [N,C,H,W]; the map is the channel sum (DESIGN.md §3). `extra.relevanceSum`
 * is Σ R_x per image and `extra.targetLogit` y_t (conservation check). Not handled: inputs normalised
 * inside the graph (Sub/Div before the first Conv) get R_x = x ⊙ g at the raw input, which does not
 * conserve relevance through the shift; the z^B (box) rule for the first layer is not implemented.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import type { BackwardRule, RuleContext, RuleSet } from '../autodiff/rule.js';
import { DEFAULT_RULES } from '../autodiff/rules/index.js';
import { type Attribution, type ExplainOptions, type Target, reduceChannels } from './types.js';
import { targetsOf } from './saliency.js';

export type LrpRule = 'epsilon' | 'gamma';

export interface LrpOptions extends ExplainOptions {
  /** Stabiliser ε of the ε rule (default 1e-9, Captum's EpsilonRule; 0 gives LRP-0). */
  epsilon?: number;
  /** 'epsilon' (default): LRP-ε everywhere; 'gamma': LRP-γ on every Conv, LRP-ε elsewhere. */
  rule?: LrpRule;
  /** γ of the γ rule (default 0.25, Captum's GammaRule). */
  gamma?: number;
  /** MaxPool: 'epsilon' (default, Captum) or 'winner' (the plain winner-take-all gradient). */
  maxPool?: 'epsilon' | 'winner';
}

const LRP_RULES = ['epsilon', 'gamma'] as const;

/** g ⊙ z / (den + ε·sign(den)), sign(0) = 1, with 0/0 := 0 when ε = 0. */
function stabilisedRatio(c: RuleContext, z: string, den: string, eps: number): string {
  const b = c.b;
  const sign = b.op('Where', [b.op('Less', [den, b.float(0)]), b.float(-1), b.float(1)]);
  const d = eps === 0 ? den : b.op('Add', [den, b.op('Mul', [sign, b.float(eps)])]);
  const r = b.op('Div', [z, d]);
  return eps === 0 ? b.op('Where', [b.op('Equal', [d, b.float(0)]), b.float(0), r]) : r;
}

/** The context `c` with output 0's incoming gradient replaced (and optional further overrides). */
function withGradient(c: RuleContext, g: string, more: Partial<RuleContext> = {}): RuleContext {
  const dy = [g, ...c.dy.slice(1)];
  return { ...c, dy, dyOrZeros: (k: number) => dy[k] || c.zerosLike(c.node.outputs[k]!), ...more };
}

/** The ε rule around an op's standard backward rule: g ← g ⊙ z/(z + ε·sign(z)), then the rule. */
export function epsilonRule(op: string, eps: number): BackwardRule {
  const base = DEFAULT_RULES[op];
  if (!base) throw new Error(`lrp: no standard backward rule for ${op}`);
  return (c) => {
    if (!c.dy[0]) return base(c);
    const z = c.node.outputs[0]!;
    const g = c.b.op('Mul', [c.dy[0], stabilisedRatio(c, z, z, eps)]);
    return base(withGradient(c, g));
  };
}

/** The γ rule for Conv: input gradient with W' = W + γ·max(W, 0) of g ⊙ z/(z' + ε·sign(z')). */
export function gammaConvRule(eps: number, gamma: number): BackwardRule {
  const base = DEFAULT_RULES['Conv']!;
  return (c) => {
    if (!c.dy[0] || !c.needs[0]) return base(c);
    const b = c.b;
    const [x, w, bias] = c.node.inputs as [string, string, string | undefined];
    const wp = b.op('Add', [w, b.op('Mul', [b.op('Relu', [w]), b.float(gamma)])]);
    const inputs = bias ? [x, wp, bias] : [x, wp];
    const zp = b.op('Conv', inputs, c.node.attrs);
    const g = b.op('Mul', [c.dy[0], stabilisedRatio(c, c.node.outputs[0]!, zp, eps)]);
    const out = base(
      withGradient(c, g, {
        node: { ...c.node, inputs },
        needs: [true, false, false],
        shape: (n: string) => c.shape(n === wp ? w : n),
        staticDims: (n: string, axes?: number[]) => c.staticDims(n === wp ? w : n, axes),
      }),
    );
    return [out[0], undefined, undefined];
  };
}

/** The rule overrides for LRP with these options, and a key naming them for the session cache. */
export function lrpRules(options: LrpOptions = {}): { rules: RuleSet; key: string } {
  const eps = options.epsilon ?? 1e-9;
  const rule = options.rule ?? 'epsilon';
  const gamma = options.gamma ?? 0.25;
  const maxPool = options.maxPool ?? 'epsilon';
  if (!Number.isFinite(eps) || eps < 0) throw new Error(`lrp: epsilon must be a finite number ≥ 0, got ${eps}`);
  if (!LRP_RULES.includes(rule)) throw new Error(`lrp: unknown rule '${rule}' (valid: ${LRP_RULES.join(', ')})`);
  if (!Number.isFinite(gamma) || gamma < 0) throw new Error(`lrp: gamma must be a finite number ≥ 0, got ${gamma}`);
  if (maxPool !== 'epsilon' && maxPool !== 'winner') throw new Error(`lrp: unknown maxPool '${maxPool}' (valid: epsilon, winner)`);
  const rules: RuleSet = {};
  for (const op of ['Conv', 'Gemm', 'MatMul', 'BatchNormalization', 'AveragePool', 'GlobalAveragePool']) rules[op] = epsilonRule(op, eps);
  if (maxPool === 'epsilon') rules['MaxPool'] = epsilonRule('MaxPool', eps);
  if (rule === 'gamma') rules['Conv'] = gammaConvRule(eps, gamma);
  return { rules, key: `lrp:${rule}:${eps}:${rule === 'gamma' ? gamma : ''}:${maxPool}` };
}

/**
 * LRP relevance of the target logit at the input, for every image: attributions R_x = x ⊙ (the
 * rule-modified ∂y_t/∂x), map = channel sum, extra.relevanceSum = Σ R_x, extra.targetLogit = y_t.
 */
export async function lrp(model: Model, inputs: Tensor, target: Target, options: LrpOptions = {}): Promise<Attribution> {
  const { rules, key } = lrpRules(options);
  const { targets } = await targetsOf(model, inputs, target);
  const r = await model.vjp(inputs, { seed: model.oneHot(targets), rules, rulesKey: key, batchSize: options.batchSize });
  const g = r.inputGrad!;
  const out = new Float32Array(g.size);
  for (let i = 0; i < out.length; i++) out[i] = inputs.data[i]! * g.data[i]!;
  const attributions = new Tensor(out, inputs.shape);
  const n = inputs.shape[0]!;
  const per = out.length / n;
  const relevanceSum: number[] = [];
  const targetLogit: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = i * per; k < (i + 1) * per; k++) s += out[k]!;
    relevanceSum.push(s);
    targetLogit.push(r.logits.data[i * model.numClasses + targets[i]!]!);
  }
  options.onProgress?.(1, 1);
  return { method: 'lrp', attributions, map: reduceChannels(attributions, 'sum'), signed: true, targets, logits: r.logits, extra: { relevanceSum, targetLogit } };
}
