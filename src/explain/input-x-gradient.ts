/**
 * Gradient × input (Captum `InputXGradient`): attributions = x ⊙ ∂y_t/∂x, map = sum over channels
 * (DESIGN.md §3, signed methods). Signed. y_t is the target logit.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, reduceChannels } from './types.js';
import { inputGradients, targetsOf } from './saliency.js';

export async function inputXGradient(model: Model, inputs: Tensor, target: Target, options: ExplainOptions = {}): Promise<Attribution> {
  const { targets } = await targetsOf(model, inputs, target);
  const { grad, logits } = await inputGradients(model, inputs, targets, options);
  const out = new Float32Array(grad.size);
  for (let i = 0; i < out.length; i++) out[i] = inputs.data[i]! * grad.data[i]!;
  const attributions = new Tensor(out, inputs.shape);
  return { method: 'input_x_gradient', attributions, map: reduceChannels(attributions, 'sum'), signed: true, targets, logits };
}
