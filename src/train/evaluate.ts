/**
 * Quick metrics of a classifier's logits on a labelled split, for training histories and model
 * cards (confidence intervals and calibration are the trust module's job).
 */
import type { Tensor } from '../tensor/tensor.js';
import type { ImageDataset } from '../data/dataset.js';
import { accuracy, argmax, auroc, balancedAccuracy, binaryCrossEntropy, confusionMatrix, crossEntropy, macroAuroc, softmax } from './metrics.js';

export interface EpochMetrics {
  n: number;
  loss: number;
  accuracy: number;
  balancedAccuracy?: number;
  /** Binary: AUROC of the positive-class probability; multi-class: macro one-vs-rest; multi-label: macro over labels. */
  auroc?: number;
  /** Binary only: recall of class 1 and of class 0. */
  sensitivity?: number;
  specificity?: number;
  /** Rows: true class, columns: predicted (single-label). */
  confusion?: number[][];
}

export function evaluateLogits(logits: Tensor, ds: ImageDataset): EpochMetrics {
  const n = logits.shape[0]!;
  const k = logits.shape[1]!;
  if (ds.task === 'multi') {
    const y = ds.labels.data;
    let correct = 0;
    for (let i = 0; i < n * k; i++) if ((logits.data[i]! > 0 ? 1 : 0) === y[i]) correct++;
    const per: number[] = [];
    for (let j = 0; j < k; j++) {
      const s = Float64Array.from({ length: n }, (_, i) => logits.data[i * k + j]!);
      const l = Float64Array.from({ length: n }, (_, i) => y[i * k + j]!);
      const a = auroc(s, l);
      if (a !== undefined) per.push(a);
    }
    return {
      n,
      loss: binaryCrossEntropy(logits.data, y),
      accuracy: correct / (n * k),
      auroc: per.length ? per.reduce((p, q) => p + q, 0) / per.length : undefined,
    };
  }
  const labels = ds.labels;
  const pred = argmax(logits.data, k);
  const probs = softmax(logits.data, k);
  const out: EpochMetrics = {
    n,
    loss: crossEntropy(logits.data, labels),
    accuracy: accuracy(pred, labels),
    balancedAccuracy: balancedAccuracy(pred, labels, k),
    confusion: confusionMatrix(pred, labels, k),
  };
  if (k === 2) {
    out.auroc = auroc(Float64Array.from({ length: n }, (_, i) => probs[i * 2 + 1]!), labels);
    const cm = out.confusion!;
    const pos = cm[1]![0]! + cm[1]![1]!;
    const neg = cm[0]![0]! + cm[0]![1]!;
    if (pos) out.sensitivity = cm[1]![1]! / pos;
    if (neg) out.specificity = cm[0]![0]! / neg;
  } else out.auroc = macroAuroc(probs, labels, k);
  return out;
}
