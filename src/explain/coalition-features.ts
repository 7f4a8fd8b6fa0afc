/** The features LIME and Shapley values play with (coalitions.ts evaluates their coalitions). */
import { Tensor } from '../tensor/tensor.js';
import type { ExplainOptions } from './types.js';
import { type FeatureAblationOptions, featureMask } from './feature-ablation.js';

/** The features LIME and Shapley values play with: feature ablation's masks, SLIC superpixels by default in 2-D, a grid in 3-D. */
export interface CoalitionOptions extends ExplainOptions {
  mask?: FeatureAblationOptions['mask'];
  cell?: FeatureAblationOptions['cell'];
  segments?: number;
  compactness?: number;
  /** Value of a feature not in the coalition (default 0). */
  baseline?: number;
}

/** Feature ids per position of the batch, and the mask's name for the record. */
export function coalitionFeatures(inputs: Tensor, options: CoalitionOptions): { ids: Int32Array; mask: string } {
  const mask = options.mask ?? (inputs.shape.length === 4 ? 'slic' : 'grid');
  return { ids: featureMask(inputs, { ...options, mask }), mask: mask instanceof Tensor ? 'tensor' : mask };
}
