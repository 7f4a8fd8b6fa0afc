/**
 * From a decoded image ([C,H,W] in [0,1]) to the model's input [1,C',H',W'] — the same steps as
 * `candor explain` applies to MedMNIST images: antialiased resize to the model's size, channel
 * conversion (RGB → gray by BT.601 luma as Pillow's convert('L'); gray → RGB by repetition), then the
 * model's normalisation. Pure TypeScript: the worker and the Node tests share it.
 */
import { Tensor } from '../tensor/tensor.js';
import { resize } from '../data/resize.js';
import { normalize, repeatChannels } from '../data/transforms.js';
import type { ModelCard } from './protocol.js';

export type Normalization = 'minus1to1' | 'zero1' | 'imagenet';

export const NORMALIZATIONS: Readonly<Record<Normalization, string>> = {
  minus1to1: '[-1, 1]: (x − 0.5) / 0.5 (candor models)',
  zero1: '[0, 1]: pixels / 255',
  imagenet: 'ImageNet mean/std (torchvision)',
};

export interface InputSpec {
  channels: number;
  height: number;
  width: number;
  normalization: Normalization;
}

/** The normalisation a model card describes, if it names one. */
export function cardNormalization(card: ModelCard | undefined): Normalization | undefined {
  const s = card?.input?.normalization;
  if (!s) return undefined;
  if (/\[-1, ?1\]|0\.5\s*\)\s*\/\s*0\.5/.test(s)) return 'minus1to1';
  if (/imagenet|0\.485/i.test(s)) return 'imagenet';
  if (/\[0, ?1\]/.test(s)) return 'zero1';
  return undefined;
}

/** [C,H,W] → [1,H,W] by BT.601 luma (C = 3) or unchanged (C = 1). */
export function toGray(img: Tensor): Tensor {
  const [c, h, w] = img.shape as [number, number, number];
  if (c === 1) return img;
  if (c !== 3) throw new Error(`image has ${c} channels; expected 1 (gray) or 3 (RGB)`);
  const n = h * w;
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) out[p] = 0.299 * img.data[p]! + 0.587 * img.data[n + p]! + 0.114 * img.data[2 * n + p]!;
  return new Tensor(out, [1, h, w]);
}

/** The image at the model's size and channel count, in [0,1] (what the overlays are drawn on). */
export function displayForModel(img: Tensor, spec: InputSpec): Tensor {
  if (img.shape.length !== 3) throw new Error(`image must be [C,H,W], got [${img.shape}]`);
  const c = img.shape[0]!;
  const sized = resize(new Tensor(img.data, [1, ...img.shape]), [spec.height, spec.width], { antialias: true });
  if (c === spec.channels) return sized.reshape(sized.shape.slice(1));
  if (spec.channels === 1) return toGray(sized.reshape(sized.shape.slice(1)));
  if (spec.channels === 3 && c === 1) {
    const rgb = repeatChannels(sized, 3);
    return rgb.reshape(rgb.shape.slice(1));
  }
  throw new Error(`the image has ${c} channels; the model takes ${spec.channels}`);
}

/** Normalise a [C,H,W] image in [0,1] and add the batch axis. */
export function normalizeInput(display: Tensor, normalization: Normalization): Tensor {
  const x = new Tensor(display.data, [1, ...display.shape]);
  if (normalization === 'zero1') return new Tensor(Float32Array.from(x.data), x.shape);
  if (normalization === 'minus1to1') return normalize(x, 0.5, 0.5);
  const c = display.shape[0]!;
  if (c !== 3) return normalize(x, 0.449, 0.226); // ImageNet's channel means, averaged, for gray models
  return normalize(x, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
}

/** Both: the model input [1,C,H,W] and the display image [C,H,W]. */
export function prepareInput(img: Tensor, spec: InputSpec): { x: Tensor; display: Tensor } {
  const display = displayForModel(img, spec);
  return { x: normalizeInput(display, spec.normalization), display };
}

/** Softmax of one row of logits (float64). */
export function softmaxRow(logits: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]!);
  const e = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i]! - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
