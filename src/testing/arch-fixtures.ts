/**
 * Deterministic builder models for engine tests, shared by the tests and by
 * scripts/make-arch-golden.ts, which exports their weights for PyTorch.
 * Convolutions are re-initialised fan-in-preserving (N(0, 2/fan_in)) and BatchNorm
 * statistics randomised, so that the logits depend on the input (at torchvision's
 * initialisation MobileNet-V2's activations vanish and every image gets the same logits).
 */
import { buildArchitecture } from '../train/arch/index.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../onnx/ir.js';

export interface ArchCase {
  arch: 'resnet18' | 'densenet121' | 'mobilenet_v2' | 'r3d_18';
  shape: number[];
  /** Weights whose gradients are compared too. */
  weights: string[];
}

export const ARCH_CASES: ArchCase[] = [
  { arch: 'resnet18', shape: [2, 3, 32, 32], weights: ['conv1.weight', 'layer4.1.bn2.weight', 'fc.weight'] },
  { arch: 'densenet121', shape: [2, 3, 32, 32], weights: ['features.conv0.weight', 'features.denseblock3.denselayer5.conv1.weight', 'features.norm5.bias'] },
  { arch: 'mobilenet_v2', shape: [2, 3, 32, 32], weights: ['features.0.0.weight', 'features.5.conv.1.0.weight', 'classifier.1.weight'] },
  // torchvision.models.video.r3d_18 as it is (3 channels, width 64) on a small clip/volume
  { arch: 'r3d_18', shape: [2, 3, 8, 32, 32], weights: ['stem.0.weight', 'layer4.1.conv2.1.weight', 'fc.weight'] },
];

export const NUM_CLASSES = 3;

export function archTestModel(c: ArchCase): { model: Model; input: Tensor; seed: Tensor } {
  const m = buildArchitecture(c.arch, { inChannels: c.shape[1], numClasses: NUM_CLASSES, seed: 5 });
  const rng = new Rng(9);
  const init = (name: string | undefined, f: () => number) => {
    const t = name ? m.graph.initializers.get(name) : undefined;
    if (t) t.data = Float32Array.from(t.data as Float32Array, f);
  };
  for (const n of m.graph.nodes) {
    if (n.opType === 'Conv' || n.opType === 'Gemm') {
      const t = m.graph.initializers.get(n.inputs[1]!)!;
      const std = Math.sqrt(2 / t.dims.slice(1).reduce((a, b) => a * b, 1));
      init(n.inputs[1], () => rng.normal() * std);
    }
    if (n.opType === 'BatchNormalization') {
      const [, g, b, mu, v] = n.inputs;
      init(g, () => rng.uniform(0.6, 1.2));
      init(b, () => rng.uniform(-0.2, 0.2));
      init(mu, () => rng.uniform(-0.1, 0.1));
      init(v, () => rng.uniform(0.5, 1.5));
    }
  }
  const n = c.shape.reduce((a, b) => a * b, 1);
  const input = new Tensor(Float32Array.from({ length: n }, () => rng.uniform(-1, 1)), c.shape);
  const seed = new Tensor(Float32Array.from({ length: c.shape[0]! * NUM_CLASSES }, () => rng.normal()), [c.shape[0]!, NUM_CLASSES]);
  return { model: m, input, seed };
}
