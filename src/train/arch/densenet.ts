/**
 * torchvision DenseNet (densenet121, densenet169), same module layout, parameter names and initialisation
 * as torchvision.models.densenet:
 *   features.conv0 7×7/2 pad 3, norm0, relu0, pool0 (MaxPool 3×3/2 pad 1),
 *   features.denseblockB.denselayerL: concat of the previous features, norm1, relu1, conv1 (1×1 → bn_size·k),
 *     norm2, relu2, conv2 (3×3 → k); the block ends with the concat of all its features;
 *   features.transitionB: norm, relu, conv (1×1, halves the channels), pool (AvgPool 2×2/2);
 *   features.norm5, then F.relu, adaptive average pool to 1×1, flatten, classifier (Linear).
 * Convs: kaiming_normal_ (fan_in, gain √2); BN weight 1, bias 0; Linear: default weight, bias 0.
 * The first dense layer of a block reads its single input directly (torch writes a one-input Concat there).
 * Needs H, W ≥ 32 (three 2×2 average pools after the stride-4 stem).
 *
 * Dropout: torchvision's `drop_rate` (here `dropRate`, default 0) puts a dropout after each dense layer's
 * conv2; in addition, when `dropout` is 'inference' or 'stochastic', a functional dropout with
 * p = dropoutRate (default 0.5) is added before the classifier (node `/Dropout`), for MC dropout.
 */
import type { Model } from '../../onnx/ir.js';
import { type ArchOptions, finish, start } from './common.js';
import type { NetBuilder, WeightInit } from './layers.js';

export interface DenseNetOptions extends ArchOptions {
  /** k (default 32). */
  growthRate?: number;
  /** Bottleneck width multiplier (default 4). */
  bnSize?: number;
  /** Channels after the stem (default 64). */
  numInitFeatures?: number;
  /** Dense layers per block; defaults per variant. */
  blockConfig?: readonly number[];
  /** torchvision's per-layer drop_rate (default 0: no per-layer dropout). */
  dropRate?: number;
}

const CONV_INIT: WeightInit = { kind: 'kaiming_normal', mode: 'fan_in' };

function denseLayer(nb: NetBuilder, inputs: readonly string[], inFeatures: number, growth: number, bnSize: number, dropRate: number): string {
  let x = inputs.length === 1 ? inputs[0]! : nb.concat(inputs);
  x = nb.batchNorm2d(x, 'norm1', { channels: inFeatures });
  x = nb.relu(x, 'relu1');
  x = nb.conv2d(x, 'conv1', { inChannels: inFeatures, outChannels: bnSize * growth, kernel: 1, bias: false, weightInit: CONV_INIT });
  x = nb.batchNorm2d(x, 'norm2');
  x = nb.relu(x, 'relu2');
  x = nb.conv2d(x, 'conv2', { outChannels: growth, kernel: 3, padding: 1, bias: false, weightInit: CONV_INIT });
  if (dropRate > 0) x = nb.dropout(x, undefined, dropRate);
  return x;
}

function densenet(defaultBlocks: readonly number[], opts: DenseNetOptions): Model {
  const { nb, input, numClasses } = start(opts);
  const growth = opts.growthRate ?? 32;
  const bnSize = opts.bnSize ?? 4;
  const blocks = opts.blockConfig ?? defaultBlocks;
  const dropRate = opts.dropRate ?? 0;
  let numFeatures = opts.numInitFeatures ?? 64;

  let x = nb.module('features', () => {
    let y = nb.conv2d(input, 'conv0', { outChannels: numFeatures, kernel: 7, stride: 2, padding: 3, bias: false, weightInit: CONV_INIT });
    y = nb.batchNorm2d(y, 'norm0');
    y = nb.relu(y, 'relu0');
    y = nb.maxPool2d(y, 'pool0', { kernel: 3, stride: 2, padding: 1 });
    blocks.forEach((numLayers, i) => {
      y = nb.module(`denseblock${i + 1}`, () => {
        const feats = [y];
        for (let l = 0; l < numLayers; l++) {
          const inF = numFeatures + l * growth;
          feats.push(nb.module(`denselayer${l + 1}`, () => denseLayer(nb, feats, inF, growth, bnSize, dropRate)));
        }
        return nb.concat(feats);
      });
      numFeatures += numLayers * growth;
      if (i !== blocks.length - 1) {
        const outF = Math.floor(numFeatures / 2);
        y = nb.module(`transition${i + 1}`, () => {
          let t = nb.batchNorm2d(y, 'norm', { channels: numFeatures });
          t = nb.relu(t, 'relu');
          t = nb.conv2d(t, 'conv', { inChannels: numFeatures, outChannels: outF, kernel: 1, bias: false, weightInit: CONV_INIT });
          return nb.avgPool2d(t, 'pool', { kernel: 2, stride: 2 });
        });
        numFeatures = outF;
      }
    });
    return nb.batchNorm2d(y, 'norm5', { channels: numFeatures });
  });
  x = nb.relu(x);
  x = nb.adaptiveAvgPool2d(x, undefined, 1);
  x = nb.flatten(x);
  x = nb.dropout(x, undefined, opts.dropoutRate ?? 0.5);
  x = nb.linear(x, 'classifier', { inFeatures: numFeatures, outFeatures: numClasses, biasInit: 'zeros' });
  finish(nb, x, numClasses);
  return nb.build();
}

export function densenet121(opts: DenseNetOptions = {}): Model {
  return densenet([6, 12, 24, 16], opts);
}

export function densenet169(opts: DenseNetOptions = {}): Model {
  return densenet([6, 12, 32, 32], opts);
}
