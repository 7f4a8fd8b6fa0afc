/**
 * From a decoded image ([C,H,W] in [0,1]) to the model's input [1,C',H',W'] — the one preprocessing of
 * every candor command (src/data/preprocessing.ts): channel conversion (RGB → grey by BT.601 luma as
 * Pillow's convert('L'); grey → RGB by repetition), resize by the policy (stretch, pad, crop;
 * antialiased), then the pixel scale (transforms.ts scaleInput). Pure TypeScript: the worker and the
 * Node tests share it.
 */
import { Tensor } from '../tensor/tensor.js';
import { scaleInput, type InputScale } from '../data/transforms.js';
import { cardPreprocessing, toModelSize, type Preprocessing, type PreprocessLog, type ResizePolicy } from '../data/preprocessing.js';
import type { ModelCard } from './protocol.js';

export const SCALES: Readonly<Record<InputScale, string>> = {
  pm1: '[-1, 1]: (x − 0.5) / 0.5 (candor models)',
  unit: '[0, 1]',
  imagenet: 'ImageNet mean/std (torchvision)',
  byte: '[0, 255] (Keras models with a Rescaling layer)',
};

export const RESIZES: Readonly<Record<ResizePolicy, string>> = {
  stretch: 'stretch to the input (aspect may change)',
  pad: 'fit and pad with black',
  crop: 'fill and crop the centre',
};

export interface InputSpec {
  channels: number;
  /** 3-D models: depth of the input grid [D,H,W]. */
  depth?: number;
  height: number;
  width: number;
  scale: InputScale;
  resize: ResizePolicy;
}

/** What a model card says of the preprocessing (its record, else the scale its normalisation names). */
export function cardInput(card: ModelCard | undefined): Partial<Preprocessing> {
  return cardPreprocessing(card);
}

/** Both: the model input [1,C,H,W] and the display image [C,H,W] (at the model's size and channels, in [0,1]). */
export function prepareInput(img: Tensor, spec: InputSpec, log?: PreprocessLog): { x: Tensor; display: Tensor } {
  if (img.shape.length !== 3) throw new Error(`image must be [C,H,W], got [${img.shape}]`);
  const batch = toModelSize(new Tensor(img.data, [1, ...img.shape]), spec.channels, [spec.height, spec.width], spec.resize, log);
  return { x: scaleInput(batch, spec.scale), display: new Tensor(batch.data, batch.shape.slice(1)) };
}

/** Softmax of one row of logits (float64). */
export function softmaxRow(logits: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]!);
  const e = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i]! - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
