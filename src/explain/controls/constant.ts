/**
 * Constant control (Quantus 0.6 "Control Var. Constant"): the same value at every position — `value` a
 * number, or per image its 'black' (minimum), 'white' (maximum) or 'mean' as Quantus' constant_value —
 * the map that ranks nothing above anything (default 1).
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, batchLayout } from '../types.js';
import { controlAttribution } from './common.js';
import { namedValue, type NamedValue } from '../../tensor/named-value.js';

export interface ConstantControlOptions extends ExplainOptions {
  value?: NamedValue;
}

export async function constantControl(model: Model, inputs: Tensor, target: Target, options: ConstantControlOptions = {}): Promise<Attribution> {
  const { n, voxels, size } = batchLayout(inputs.shape);
  const x = inputs.data as Float32Array;
  const map = new Float32Array(n * voxels);
  for (let i = 0; i < n; i++) map.fill(namedValue(x.subarray(i * size, (i + 1) * size), options.value ?? 1, 'constant control: value'), i * voxels, (i + 1) * voxels);
  return controlAttribution('constant', model, inputs, target, map, { value: String(options.value ?? 1) });
}
