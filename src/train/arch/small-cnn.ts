/**
 * The tutorial's small CNN, laid out exactly as /work/shared/models/small_cnn_opset13.onnx
 * (a torch.onnx.export of it) so that layer names such as `features.8` and weight names match:
 *
 *   features: 0 Conv(C→16, 3×3, pad 1)  1 BatchNorm2d(16)  2 ReLU  3 MaxPool(2)
 *             4 Conv(16→32)  5 ReLU  6 MaxPool(2)  7 Conv(32→64)  8 ReLU  9 MaxPool(2)
 *   classifier: 0 Flatten  1 Dropout  2 Linear(64·⌊H/8⌋·⌊W/8⌋ → 64)  3 ReLU  4 Linear(64 → K)
 *
 * In the shared export `features.1` does not appear: eval-mode export folded the BatchNorm into
 * `features.0` (whose weights became `onnx::Conv_31/32`), and `classifier.1` is a Dropout, which eval-mode
 * export drops. With `batchNorm: false` this builder writes the same graph as the shared file.
 * Initialisation is PyTorch's nn.Conv2d / nn.Linear default (U(±1/√fan_in) for weights and biases).
 *
 * Because of the Linear after Flatten, the input size is fixed (default 64×64) and declared in the graph.
 */
import type { Model } from '../../onnx/ir.js';
import { type ArchOptions, finish, start } from './common.js';

export interface SmallCnnOptions extends ArchOptions {
  /** Include `features.1` BatchNorm2d(16) (default true, as in the tutorial model). */
  batchNorm?: boolean;
  /** Default 64 (the size is fixed by the first Linear layer). */
  inputSize?: number | [number, number];
  /** Probability of `classifier.1` Dropout (default 0.5, nn.Dropout's default). */
  dropoutRate?: number;
}

export function smallCnn(opts: SmallCnnOptions = {}): Model {
  const size = opts.inputSize ?? 64;
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  const fh = Math.floor(Math.floor(Math.floor(h / 2) / 2) / 2);
  const fw = Math.floor(Math.floor(Math.floor(w / 2) / 2) / 2);
  if (fh < 1 || fw < 1) throw new Error(`smallCnn: input must be at least 8×8, got ${h}×${w}`);
  const { nb, input, numClasses } = start({ ...opts, inputSize: [h, w] });

  let x = nb.module('features', () => {
    let y = nb.conv2d(input, '0', { outChannels: 16, kernel: 3, padding: 1 });
    if (opts.batchNorm ?? true) y = nb.batchNorm2d(y, '1');
    y = nb.relu(y, '2');
    y = nb.maxPool2d(y, '3', { kernel: 2 });
    y = nb.conv2d(y, '4', { outChannels: 32, kernel: 3, padding: 1 });
    y = nb.relu(y, '5');
    y = nb.maxPool2d(y, '6', { kernel: 2 });
    y = nb.conv2d(y, '7', { outChannels: 64, kernel: 3, padding: 1 });
    y = nb.relu(y, '8');
    return nb.maxPool2d(y, '9', { kernel: 2 });
  });
  x = nb.module('classifier', () => {
    let y = nb.flatten(x, '0');
    y = nb.dropout(y, '1', opts.dropoutRate ?? 0.5);
    y = nb.linear(y, '2', { inFeatures: 64 * fh * fw, outFeatures: 64 });
    y = nb.relu(y, '3');
    return nb.linear(y, '4', { inFeatures: 64, outFeatures: numClasses });
  });
  finish(nb, x, numClasses);
  return nb.build();
}
