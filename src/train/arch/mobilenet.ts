/**
 * torchvision MobileNetV2, same module layout, parameter names and initialisation as
 * torchvision.models.mobilenetv2:
 *   features.0: Conv2dNormActivation (0 conv 3×3/2, 1 BN, 2 ReLU6);
 *   features.1..17: InvertedResidual, `conv` = [expand Conv2dNormActivation 1×1 (only when t ≠ 1),
 *     depthwise Conv2dNormActivation 3×3 (groups = channels), project Conv2d 1×1, BN];
 *     a residual Add (x + conv(x)) when stride 1 and in == out;
 *   features.18: Conv2dNormActivation 1×1 → 1280; adaptive average pool, flatten,
 *   classifier.0 Dropout (p = dropoutRate, default 0.2), classifier.1 Linear.
 * With t = 1 (features.1) the layers are conv.0 depthwise, conv.1 project, conv.2 BN; otherwise conv.0
 * expand, conv.1 depthwise, conv.2 project, conv.3 BN. ReLU6 is written as Clip(x, 0, 6).
 * Convs: kaiming_normal_(mode='fan_out'); BN weight 1, bias 0; Linear: N(0, 0.01) weight, zero bias.
 * Runs at any H, W ≥ 1 (32 or more is sensible).
 */
import type { Model } from '../../onnx/ir.js';
import { type ArchOptions, finish, start } from './common.js';
import type { NetBuilder, WeightInit } from './layers.js';

export interface MobileNetV2Options extends ArchOptions {
  /** Width multiplier α (default 1). */
  widthMult?: number;
  /** Channel rounding (default 8). */
  roundNearest?: number;
}

const CONV_INIT: WeightInit = { kind: 'kaiming_normal', mode: 'fan_out' };

/** torchvision's _make_divisible. */
export function makeDivisible(v: number, divisor: number, minValue?: number): number {
  const min = minValue ?? divisor;
  let n = Math.max(min, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** Conv2dNormActivation(conv, BN, ReLU6) as children 0, 1, 2 of the current module. */
function convBnRelu6(nb: NetBuilder, x: string, outC: number, kernel: number, stride = 1, groups = 1): string {
  let y = nb.conv2d(x, '0', { outChannels: outC, kernel, stride, padding: (kernel - 1) >> 1, groups, bias: false, weightInit: CONV_INIT });
  y = nb.batchNorm2d(y, '1');
  return nb.relu6(y, '2');
}

const SETTINGS: readonly (readonly [number, number, number, number])[] = [
  // t, c, n, s
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export function mobilenetV2(opts: MobileNetV2Options = {}): Model {
  const { nb, input, numClasses } = start(opts);
  const width = opts.widthMult ?? 1;
  if (!(width > 0)) throw new Error(`mobilenetV2: widthMult must be positive, got ${width}`);
  const round = opts.roundNearest ?? 8;
  let inC = makeDivisible(32 * width, round);
  const lastC = makeDivisible(1280 * Math.max(1, width), round);

  let x = nb.module('features', () => {
    let idx = 0;
    let y = nb.module(String(idx++), () => convBnRelu6(nb, input, inC, 3, 2));
    for (const [t, c, n, s] of SETTINGS) {
      const outC = makeDivisible(c * width, round);
      for (let i = 0; i < n; i++) {
        const stride = i === 0 ? s : 1;
        const hidden = Math.round(inC * t);
        const residual = stride === 1 && inC === outC;
        const blockIn = y;
        y = nb.module(String(idx++), () => {
          const out = nb.module('conv', () => {
            let j = 0;
            let h = blockIn;
            if (t !== 1) h = nb.module(String(j++), () => convBnRelu6(nb, h, hidden, 1));
            h = nb.module(String(j++), () => convBnRelu6(nb, h, hidden, 3, stride, hidden));
            h = nb.conv2d(h, String(j++), { outChannels: outC, kernel: 1, bias: false, weightInit: CONV_INIT });
            return nb.batchNorm2d(h, String(j++));
          });
          return residual ? nb.add(blockIn, out) : out;
        });
        inC = outC;
      }
    }
    return nb.module(String(idx++), () => convBnRelu6(nb, y, lastC, 1));
  });
  x = nb.adaptiveAvgPool2d(x, undefined, 1);
  x = nb.flatten(x);
  x = nb.module('classifier', () => {
    const d = nb.dropout(x, '0', opts.dropoutRate ?? 0.2);
    return nb.linear(d, '1', { inFeatures: lastC, outFeatures: numClasses, weightInit: { kind: 'normal', std: 0.01 }, biasInit: 'zeros' });
  });
  finish(nb, x, numClasses);
  return nb.build();
}
