/**
 * torchvision ResNet with BasicBlocks (resnet18, resnet34), same module layout, parameter names and
 * initialisation as torchvision.models.resnet:
 *   conv1 7×7/2 pad 3, bn1, relu, maxpool 3×3/2 pad 1, layer1..layer4 (BasicBlock: conv1, bn1, relu,
 *   conv2, bn2, [downsample.0 1×1 conv, downsample.1 BN], add, relu), avgpool, flatten, fc.
 * Convs: kaiming_normal_(mode='fan_out', nonlinearity='relu'); BN weight 1, bias 0; fc: nn.Linear default.
 * Runs at any H, W ≥ 1 (32 or more is sensible).
 *
 * torchvision's ResNet has no dropout. When `dropout` is 'inference' or 'stochastic', a functional dropout
 * (p = dropoutRate, default 0.5) is added before `fc` (node `/Dropout`), for MC dropout.
 */
import type { Model } from '../../onnx/ir.js';
import { type ArchOptions, finish, start } from './common.js';
import type { NetBuilder, WeightInit } from './layers.js';

export interface ResNetOptions extends ArchOptions {
  /** Channels of layer1 (torchvision: 64); layers 2–4 double it each time. */
  baseWidth?: number;
}

const CONV_INIT: WeightInit = { kind: 'kaiming_normal', mode: 'fan_out' };

function basicBlock(nb: NetBuilder, x: string, inplanes: number, planes: number, stride: number): string {
  let out = nb.conv2d(x, 'conv1', { inChannels: inplanes, outChannels: planes, kernel: 3, stride, padding: 1, bias: false, weightInit: CONV_INIT });
  out = nb.batchNorm2d(out, 'bn1');
  out = nb.relu(out, 'relu');
  out = nb.conv2d(out, 'conv2', { outChannels: planes, kernel: 3, padding: 1, bias: false, weightInit: CONV_INIT });
  out = nb.batchNorm2d(out, 'bn2');
  let identity = x;
  if (stride !== 1 || inplanes !== planes) {
    identity = nb.module('downsample', () => {
      const d = nb.conv2d(x, '0', { inChannels: inplanes, outChannels: planes, kernel: 1, stride, bias: false, weightInit: CONV_INIT });
      return nb.batchNorm2d(d, '1');
    });
  }
  out = nb.add(out, identity);
  return nb.relu(out, 'relu'); // the same nn.ReLU called again: scope `relu_1`
}

function resnet(layers: readonly number[], opts: ResNetOptions): Model {
  const { nb, input, numClasses } = start(opts);
  const base = opts.baseWidth ?? 64;
  let x = nb.conv2d(input, 'conv1', { outChannels: base, kernel: 7, stride: 2, padding: 3, bias: false, weightInit: CONV_INIT });
  x = nb.batchNorm2d(x, 'bn1');
  x = nb.relu(x, 'relu');
  x = nb.maxPool2d(x, 'maxpool', { kernel: 3, stride: 2, padding: 1 });
  let inplanes = base;
  layers.forEach((n, i) => {
    const planes = base * 2 ** i;
    const stride = i === 0 ? 1 : 2;
    x = nb.module(`layer${i + 1}`, () => {
      let y = x;
      for (let b = 0; b < n; b++) {
        y = nb.module(String(b), () => basicBlock(nb, y, inplanes, planes, b === 0 ? stride : 1));
        inplanes = planes;
      }
      return y;
    });
  });
  x = nb.adaptiveAvgPool2d(x, 'avgpool', 1);
  x = nb.flatten(x);
  x = nb.dropout(x, undefined, opts.dropoutRate ?? 0.5);
  x = nb.linear(x, 'fc', { inFeatures: inplanes, outFeatures: numClasses });
  finish(nb, x, numClasses);
  return nb.build();
}

export function resnet18(opts: ResNetOptions = {}): Model {
  return resnet([2, 2, 2, 2], opts);
}

export function resnet34(opts: ResNetOptions = {}): Model {
  return resnet([3, 4, 6, 3], opts);
}
