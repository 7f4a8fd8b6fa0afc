/** The deterministic training case shared by src/train tests and scripts/make-train-golden.*. */
import { buildArchitecture } from '../train/arch/index.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../onnx/ir.js';

export const TRAIN_SIZE = 16;

export function trainCase(): { model: Model; input: Tensor; labels: number[]; classWeights: number[] } {
  const model = buildArchitecture('small_cnn', { inChannels: 1, numClasses: 3, inputSize: TRAIN_SIZE, seed: 3 });
  const rng = new Rng(11);
  const n = 6;
  const input = new Tensor(Float32Array.from({ length: n * TRAIN_SIZE * TRAIN_SIZE }, () => rng.uniform(-1, 1)), [n, 1, TRAIN_SIZE, TRAIN_SIZE]);
  return { model, input, labels: [0, 2, 1, 2, 0, 1], classWeights: [1, 2, 0.5] };
}
