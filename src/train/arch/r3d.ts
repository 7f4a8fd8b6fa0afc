/**
 * Volume classifiers (input [N, C, D, H, W]) for CT/MRI and for the audit's 3-D sanity-check models.
 *
 * `r3d_18`: torchvision.models.video.r3d_18's layout, module names and initialisation —
 *   stem.0 Conv3d(C→w, (3,7,7), stride (1,2,2), pad (1,3,3)), stem.1 BatchNorm3d, stem.2 ReLU;
 *   layer1..4 of two BasicBlocks (conv1.0 Conv3DSimple 3×3×3 [stride], conv1.1 BN, conv1.2 ReLU; conv2.0,
 *   conv2.1; downsample.0 1×1×1 Conv3d [stride], downsample.1 BN; add; relu), widths w, 2w, 4w, 8w, strides
 *   1, 2, 2, 2; avgpool (global); fc. Convs kaiming_normal_(fan_out, relu), BN 1/0, fc N(0, 0.01) and bias 0.
 *   torchvision fixes w = 64 and C = 3; here both are options (`baseWidth`, `inChannels`, default 64 and 1).
 * `small_cnn_3d`: the small CNN's 3-D counterpart (features.0 Conv3d(C→8, 3, pad 1), 1 BatchNorm3d, 2 ReLU,
 *   3 MaxPool3d(2), 4 Conv3d(8→16), 5 ReLU, 6 MaxPool3d(2), 7 Conv3d(16→32), 8 ReLU; global average pool;
 *   classifier 0 Flatten, 1 Dropout, 2 Linear(32→K)), torch's default initialisation: quick to train on 28³.
 * Both run at any D, H, W (symbolic unless `inputShape3d` is given).
 */
import type { Model } from '../../onnx/ir.js';
import { type ArchOptions, finish, start3d } from './common.js';
import type { NetBuilder, WeightInit } from './layers.js';

export interface VolumeArchOptions extends ArchOptions {
  /** [D, H, W] written into the input's declared shape. */
  inputShape3d?: [number, number, number];
  /** r3d_18: channels of layer1 (torchvision: 64). */
  baseWidth?: number;
}

const CONV_INIT: WeightInit = { kind: 'kaiming_normal', mode: 'fan_out' };

function block(nb: NetBuilder, x: string, inplanes: number, planes: number, stride: number): string {
  let out = nb.module('conv1', () => nb.relu(nb.batchNorm3d(nb.conv3d(x, '0', { inChannels: inplanes, outChannels: planes, kernel: 3, stride, padding: 1, bias: false, weightInit: CONV_INIT }), '1'), '2'));
  out = nb.module('conv2', () => nb.batchNorm3d(nb.conv3d(out, '0', { inChannels: planes, outChannels: planes, kernel: 3, padding: 1, bias: false, weightInit: CONV_INIT }), '1'));
  let identity = x;
  if (stride !== 1 || inplanes !== planes) {
    identity = nb.module('downsample', () => nb.batchNorm3d(nb.conv3d(x, '0', { inChannels: inplanes, outChannels: planes, kernel: 1, stride, bias: false, weightInit: CONV_INIT }), '1'));
  }
  return nb.relu(nb.add(out, identity), 'relu');
}

export function r3d18(opts: VolumeArchOptions = {}): Model {
  const { nb, input, numClasses } = start3d(opts);
  const w = opts.baseWidth ?? 64;
  let x = nb.module('stem', () =>
    nb.relu(nb.batchNorm3d(nb.conv3d(input, '0', { outChannels: w, kernel: [3, 7, 7], stride: [1, 2, 2], padding: [1, 3, 3], bias: false, weightInit: CONV_INIT }), '1'), '2'),
  );
  let inplanes = w;
  for (let i = 0; i < 4; i++) {
    const planes = w * 2 ** i;
    x = nb.module(`layer${i + 1}`, () => {
      let y = x;
      for (let b = 0; b < 2; b++) {
        y = nb.module(String(b), () => block(nb, y, inplanes, planes, b === 0 && i > 0 ? 2 : 1));
        inplanes = planes;
      }
      return y;
    });
  }
  x = nb.globalAvgPool(x, 'avgpool');
  x = nb.flatten(x);
  x = nb.dropout(x, undefined, opts.dropoutRate ?? 0.5);
  x = nb.linear(x, 'fc', { inFeatures: inplanes, outFeatures: numClasses, weightInit: { kind: 'normal', std: 0.01 }, biasInit: 'zeros' });
  finish(nb, x, numClasses);
  return nb.build();
}

export function smallCnn3d(opts: VolumeArchOptions = {}): Model {
  const { nb, input, numClasses } = start3d(opts);
  let x = nb.module('features', () => {
    let y = nb.conv3d(input, '0', { outChannels: 8, kernel: 3, padding: 1 });
    y = nb.relu(nb.batchNorm3d(y, '1'), '2');
    y = nb.maxPool3d(y, '3', { kernel: 2 });
    y = nb.relu(nb.conv3d(y, '4', { outChannels: 16, kernel: 3, padding: 1 }), '5');
    y = nb.maxPool3d(y, '6', { kernel: 2 });
    return nb.relu(nb.conv3d(y, '7', { outChannels: 32, kernel: 3, padding: 1 }), '8');
  });
  x = nb.globalAvgPool(x, 'avgpool');
  x = nb.module('classifier', () => {
    let y = nb.flatten(x, '0');
    y = nb.dropout(y, '1', opts.dropoutRate ?? 0.5);
    return nb.linear(y, '2', { inFeatures: 32, outFeatures: numClasses });
  });
  finish(nb, x, numClasses);
  return nb.build();
}
