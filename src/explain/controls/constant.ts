/**
 * Constant control (Quantus 0.6 "Control Var. Constant"): the same value at every position — `value` a
 * number, or per image its 'black' (minimum), 'white' (maximum) or 'mean' as Quantus' constant_value —
 * the map that ranks nothing above anything (default 1).
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, batchLayout } from '../types.js';
import { controlAttribution } from './common.js';

export interface ConstantControlOptions extends ExplainOptions {
  value?: number | 'black' | 'white' | 'mean';
}

function valueOf(x: Float32Array, value: NonNullable<ConstantControlOptions['value']>): number {
  if (typeof value === 'number') return value;
  let lo = Infinity;
  let hi = -Infinity;
  let sum = 0;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    sum += v;
  }
  if (value === 'black') return lo;
  if (value === 'white') return hi;
  if (value === 'mean') return sum / x.length;
  throw new Error(`constant control: value must be a number, black, white or mean, got '${String(value)}'`);
}

export async function constantControl(model: Model, inputs: Tensor, target: Target, options: ConstantControlOptions = {}): Promise<Attribution> {
  const { n, voxels, size } = batchLayout(inputs.shape);
  const x = inputs.data as Float32Array;
  const map = new Float32Array(n * voxels);
  for (let i = 0; i < n; i++) map.fill(valueOf(x.subarray(i * size, (i + 1) * size), options.value ?? 1), i * voxels, (i + 1) * voxels);
  return controlAttribution('constant', model, inputs, target, map, { value: String(options.value ?? 1) });
}
