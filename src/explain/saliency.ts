/**
 * Vanilla gradient (Captum `Saliency`) and the signed gradient, plus the batching helpers the
 * gradient family shares.
 *
 *  - `saliency`: attributions = |∂y_t/∂x| (Captum `Saliency(abs=True)`, its default); the map is the
 *    max over channels (DESIGN.md §3, absolute-gradient methods). Non-negative.
 *  - `gradient`: attributions = ∂y_t/∂x (Captum `Saliency(abs=False)`); the map is the channel sum
 *    (signed methods). Signed.
 *
 * y_t is the target logit (the model's raw output, no softmax), as in Captum with `target=t`.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, reduceChannels, resolveTargets, batchLayout } from './types.js';

/** Rows (images) per materialised chunk of perturbed inputs are capped at this many floats. */
const CHUNK_FLOATS = 1 << 23;

/**
 * Targets per image, and the logits of the inputs when they had to be computed (target 'pred').
 * For explicit targets no forward pass is run: the caller takes the logits from its own VJP.
 */
export async function targetsOf(model: Model, inputs: Tensor, target: Target): Promise<{ targets: number[]; logits?: Tensor }> {
  checkImages(model, inputs);
  if (target === 'pred') return resolveTargets(model, inputs, target);
  const placeholder = new Tensor(new Float32Array(0), [0, model.numClasses]);
  const { targets } = await resolveTargets(model, inputs, target, placeholder);
  return { targets };
}

/** Inputs must be an image batch [N,C,H,W] or a volume batch [N,C,D,H,W] of the model's size. */
export function checkImages(model: Model, inputs: Tensor): void {
  if (inputs.shape.length !== 4 && inputs.shape.length !== 5) throw new Error(`${model.source}: inputs must be an image batch [N, C, H, W] or a volume batch [N, C, D, H, W], got [${inputs.shape.join(', ')}]`);
  if (!(inputs.data instanceof Float32Array)) throw new Error(`${model.source}: inputs must be float32`);
  model.checkInput(inputs);
}

/** ∂y_t/∂x for every image (one VJP call, split by the model into `batchSize` chunks) and the logits. */
export async function inputGradients(model: Model, inputs: Tensor, targets: readonly number[], options: ExplainOptions = {}): Promise<{ grad: Tensor; logits: Tensor }> {
  const r = await model.vjp(inputs, { seed: model.oneHot(targets), batchSize: options.batchSize });
  return { grad: r.inputGrad!, logits: r.logits };
}

/**
 * Gradients of many perturbed copies of each image, batched: `rows` perturbed inputs per image
 * (N × rows in all) are written by `fill(image, row, out)` into a chunk, the chunk's gradients of
 * each image's target logit are computed in one `model.vjp` call (which splits it by `batchSize`),
 * and handed to `use(image, row, grad, perturbedInput)` in order (image-major, then row). Chunks are as large as
 * memory allows (≈ 8M floats), so a typical explanation is one or a few VJP calls.
 */
export async function perturbedGradients(
  model: Model,
  inputs: Tensor,
  targets: readonly number[],
  rows: number,
  fill: (image: number, row: number, out: Float32Array) => void,
  use: (image: number, row: number, grad: Float32Array, input: Float32Array) => void,
  options: ExplainOptions = {},
): Promise<void> {
  const { n, size } = batchLayout(inputs.shape);
  const total = n * rows;
  const chunk = Math.max(options.batchSize ?? 64, Math.floor(CHUNK_FLOATS / size), 1);
  const k = model.numClasses;
  let done = 0;
  for (let start = 0; start < total; start += chunk) {
    const end = Math.min(total, start + chunk);
    const m = end - start;
    const buf = new Float32Array(m * size);
    const seed = new Float32Array(m * k);
    for (let j = 0; j < m; j++) {
      const q = start + j;
      const img = Math.floor(q / rows);
      fill(img, q % rows, buf.subarray(j * size, (j + 1) * size));
      seed[j * k + targets[img]!] = 1;
    }
    const r = await model.vjp(new Tensor(buf, [m, ...inputs.shape.slice(1)]), { seed: new Tensor(seed, [m, k]), batchSize: options.batchSize });
    const g = r.inputGrad!.data;
    for (let j = 0; j < m; j++) {
      const q = start + j;
      use(Math.floor(q / rows), q % rows, g.subarray(j * size, (j + 1) * size), buf.subarray(j * size, (j + 1) * size));
    }
    done = end;
    options.onProgress?.(done, total);
  }
}

function absTensor(t: Tensor): Tensor {
  const out = new Float32Array(t.size);
  for (let i = 0; i < out.length; i++) out[i] = Math.abs(t.data[i]!);
  return new Tensor(out, t.shape);
}

/** Vanilla gradient, Captum `Saliency(abs=True)`: |∂y_t/∂x|, map = max over channels. */
export async function saliency(model: Model, inputs: Tensor, target: Target, options: ExplainOptions = {}): Promise<Attribution> {
  const { targets } = await targetsOf(model, inputs, target);
  const { grad, logits } = await inputGradients(model, inputs, targets, options);
  const attributions = absTensor(grad);
  return { method: 'saliency', attributions, map: reduceChannels(attributions, 'max-abs'), signed: false, targets, logits };
}

/** Signed gradient, Captum `Saliency(abs=False)`: ∂y_t/∂x, map = sum over channels. */
export async function gradient(model: Model, inputs: Tensor, target: Target, options: ExplainOptions = {}): Promise<Attribution> {
  const { targets } = await targetsOf(model, inputs, target);
  const { grad, logits } = await inputGradients(model, inputs, targets, options);
  return { method: 'gradient', attributions: grad, map: reduceChannels(grad, 'sum'), signed: true, targets, logits };
}
