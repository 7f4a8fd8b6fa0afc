/** Predictions of a model on a sample, through the audit's cache. */
import { softmax } from '../train/metrics.js';
import type { Model } from '../runtime/model.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AuditContext, Sample } from './context.js';

/** Class probabilities [N·K] (softmax of the logits). */
export async function probabilities(ctx: AuditContext, modelId: string, model: Model, images: Tensor, imagesId: string): Promise<Float64Array> {
  const logits = await ctx.logits(modelId, model, images, imagesId);
  return softmax(logits.data, logits.shape[1]!);
}

/** Predicted class per image. */
export async function predictedClasses(ctx: AuditContext, modelId: string, model: Model, sample: Sample): Promise<number[]> {
  const logits = await ctx.logits(modelId, model, sample.images, sample.id);
  const k = logits.shape[1]!;
  const out: number[] = [];
  for (let i = 0; i < logits.shape[0]!; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits.data[i * k + j]! > logits.data[i * k + best]!) best = j;
    out.push(best);
  }
  return out;
}
