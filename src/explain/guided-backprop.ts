/**
 * Guided Backpropagation (Springenberg et al. 2015) and Deconvolution (Zeiler & Fergus 2014) as
 * backward-rule overrides of ReLU (DESIGN.md §2), with Captum's `GuidedBackprop` / `Deconvolution`
 * semantics:
 *
 *   guided backprop:  dX = dY ⊙ [X > 0] ⊙ [dY > 0]   (Captum: relu(grad_input) of every ReLU)
 *   deconvolution:    dX = dY ⊙ [dY > 0]             (Captum: relu(grad_output), the forward mask ignored)
 *
 * Every other op keeps its exact backward rule, so attributions = the modified ∂y_t/∂x of the target
 * logit. Only `Relu` nodes are overridden — as Captum and pytorch-grad-cam only hook / replace
 * `nn.ReLU` modules (ReLU6 = `Clip`, LeakyReLU and functional ReLUs inside fused ops keep their
 * ordinary gradients there too).
 *
 * Attributions are signed [N,C,H,W]; the map is the channel sum (DESIGN.md §3, signed methods).
 * The modified gradient graph is built once per model and cached under its rules key.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import type { BackwardRule, RuleSet } from '../autodiff/rule.js';
import { type Attribution, type ExplainOptions, type Target, reduceChannels } from './types.js';
import { targetsOf } from './saliency.js';

/** Guided Backprop's ReLU: pass dY where the input was positive and dY is positive. */
export const guidedReluRule: BackwardRule = (c) => {
  const x = c.node.inputs[0]!;
  const dy = c.dy[0]!;
  const pass = c.b.op('And', [c.b.op('Greater', [x, c.b.float(0)]), c.b.op('Greater', [dy, c.b.float(0)])]);
  return [c.b.op('Where', [pass, dy, c.b.float(0)])];
};

/** Deconvolution's ReLU: pass the positive part of dY, whatever the input. */
export const deconvReluRule: BackwardRule = (c) => [c.b.op('Relu', [c.dy[0]!])];

export const GUIDED_RULES: RuleSet = { Relu: guidedReluRule };
export const DECONV_RULES: RuleSet = { Relu: deconvReluRule };

/** The rule-modified input gradient ∂y_t/∂x for every image, and the logits. */
export async function modifiedGradients(model: Model, inputs: Tensor, targets: readonly number[], kind: 'guided' | 'deconv', options: ExplainOptions = {}): Promise<{ grad: Tensor; logits: Tensor }> {
  const rules = kind === 'guided' ? GUIDED_RULES : DECONV_RULES;
  const r = await model.vjp(inputs, { seed: model.oneHot(targets), rules, rulesKey: kind === 'guided' ? 'guided-backprop' : 'deconvolution', batchSize: options.batchSize });
  return { grad: r.inputGrad!, logits: r.logits };
}

async function run(kind: 'guided' | 'deconv', model: Model, inputs: Tensor, target: Target, options: ExplainOptions): Promise<Attribution> {
  const { targets } = await targetsOf(model, inputs, target);
  const { grad, logits } = await modifiedGradients(model, inputs, targets, kind, options);
  options.onProgress?.(1, 1);
  return { method: kind === 'guided' ? 'guided_backprop' : 'deconvolution', attributions: grad, map: reduceChannels(grad, 'sum'), signed: true, targets, logits };
}

/** Guided Backpropagation, Captum `GuidedBackprop`. */
export function guidedBackprop(model: Model, inputs: Tensor, target: Target, options: ExplainOptions = {}): Promise<Attribution> {
  return run('guided', model, inputs, target, options);
}

/** Deconvolution, Captum `Deconvolution`. */
export function deconvolution(model: Model, inputs: Tensor, target: Target, options: ExplainOptions = {}): Promise<Attribution> {
  return run('deconv', model, inputs, target, options);
}
