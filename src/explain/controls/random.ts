/**
 * Random control (Quantus 0.6 "Control Var. Random Uniform"): every element of the input drawn uniformly in
 * [0, 1), then the mean over channels — seeded with candor's generator (`seed`, default 0): the same
 * distribution as Quantus' torch.rand, not the same numbers.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { Rng } from '../../tensor/rng.js';
import type { Model } from '../../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, batchLayout } from '../types.js';
import { channelMean, controlAttribution } from './common.js';

export async function randomControl(model: Model, inputs: Tensor, target: Target, options: ExplainOptions = {}): Promise<Attribution> {
  const { n, c, voxels, size } = batchLayout(inputs.shape);
  const u = new Rng(options.seed ?? 0).fork('random-control').fillUniform(new Float32Array(n * size), 0, 1);
  return controlAttribution('random', model, inputs, target, channelMean(u, n, c, voxels), { seed: options.seed ?? 0 });
}
