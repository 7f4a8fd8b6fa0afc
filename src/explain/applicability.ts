/**
 * Whether a method's definition holds on a model, in one line when it does not (so that "every method on
 * every model" either runs or says why). Checked before running; the methods themselves do not refuse.
 *
 *  - Guided Backprop, Deconvolution, Guided Grad-CAM modify ReLU's backward rule: without a ReLU they
 *    are the plain gradient under another name.
 *  - LRP and DeepLIFT (and DeepLiftShap) carry rules for Conv/Linear/BatchNorm/pooling and ReLU-like
 *    units (Captum's); attention (Softmax over tokens, a product of two activations) and LayerNorm have
 *    none here (AttnLRP is not implemented), so on transformers their sums would not mean what they say.
 *  - Attention rollout and relevance read a class token's row of global self-attention.
 *  - Volumes [N,C,D,H,W]: every method but the attention ones (token grids are 2-D) and SLIC superpixels
 *    (2-D; the grid mask is the volume's) runs on them.
 */
import type { Model } from '../runtime/model.js';
import { attentionMaps } from '../runtime/tokens.js';
import { attentionNotApplicable } from './attention/maps.js';

const RELU_RULES = new Set(['guidedbackprop', 'deconvolution', 'guidedgradcam']);
const RULE_BASED = new Set(['lrp', 'deeplift', 'deepliftshap']);
const ATTENTION = new Set(['rollout', 'attnrelevance']);

export function notApplicable(model: Model, method: string): string | undefined {
  const g = model.ir.graph;
  if (model.inputShape.length === 5 && ATTENTION.has(method)) return `${method} reads a 2-D grid of patch tokens; this model takes volumes [N,C,D,H,W]`;
  if (RELU_RULES.has(method) && !g.nodes.some((n) => n.opType === 'Relu')) {
    return `${method} modifies ReLU's backward rule; this model has no ReLU, so it would be the plain gradient`;
  }
  if (RULE_BASED.has(method) && attentionMaps(g, model.inferred).length) {
    return `${method}'s propagation rules (Captum's) cover convolutional networks; this model's attention (Softmax over tokens, products of two activations) and LayerNorm have no such rule here, so its attributions would not conserve what they claim`;
  }
  if (ATTENTION.has(method)) {
    const why = attentionNotApplicable(model);
    if (why) return `${method}: ${why}`;
  }
  return undefined;
}
