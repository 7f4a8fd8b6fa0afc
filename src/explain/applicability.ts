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
 *  - Deep Feature Factorization factorises the channels of a channels-first feature map and names its concepts by
 *    the part of the model after that layer; a token or channels-last layer (transformers: pytorch-grad-cam goes
 *    through a reshape_transform, not built here) or a layer that skip connections bypass does not give that.
 *  - Volumes [N,C,D,H,W]: every method but the attention ones (token grids are 2-D) and SLIC superpixels
 *    (2-D; the grid mask is the volume's) runs on them.
 */
import type { Model } from '../runtime/model.js';
import { attentionMaps } from '../runtime/tokens.js';
import { attentionNotApplicable } from './attention/maps.js';
import { tailModel } from './cam/tail.js';

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
  if (method === 'dff') {
    let layer: string;
    try {
      layer = model.resolveLayer(undefined);
    } catch {
      return undefined; // the method's own error names the layers to choose from
    }
    const layout = model.layerLayout(layer);
    if (typeof layout === 'string' || layout.kind !== 'nchw') return `dff factorises the channels of a convolutional feature map; this model's CAM layer (${layer}) is ${typeof layout === 'string' ? 'not a feature map' : `a ${layout.kind} layer`} (pytorch-grad-cam's reshape_transform route for transformers is not built)`;
    const tail = tailModel(model, layer);
    if (tail.frontier.length) return `dff names its concepts by the part of the model after its layer; this model's CAM layer (${layer}) is bypassed by skip connections (${tail.frontier.length} tensor${tail.frontier.length > 1 ? 's' : ''} of the earlier layers reach the output around it)`;
  }
  return undefined;
}
