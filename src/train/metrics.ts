/**
 * Quick classification metrics for training cards: accuracy, balanced accuracy, confusion matrix, AUROC
 * (binary, and macro one-vs-rest), cross-entropy and binary cross-entropy from logits, softmax.
 * Definitions follow scikit-learn (accuracy_score, balanced_accuracy_score, confusion_matrix,
 * roc_auc_score, log_loss) and PyTorch (cross_entropy, binary_cross_entropy_with_logits); checked against
 * both in metrics.test.ts. Confidence intervals live in src/trust.
 *
 * Multi-class scores and logits are flat row-major `[N, K]` arrays; K is inferred as length / N.
 * Accumulation is in float64 whatever the input type.
 */

type Nums = ArrayLike<number>;

function checkSameLength(what: string, a: Nums, b: Nums): void {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} predictions/scores but ${b.length} labels`);
}

/** K from a flat `[N, K]` array and N labels. */
export function inferClasses(what: string, flat: Nums, n: number): number {
  if (n === 0) throw new Error(`${what}: no samples`);
  const k = flat.length / n;
  if (!Number.isInteger(k) || k < 1) throw new Error(`${what}: ${flat.length} values are not a whole number of rows for ${n} labels`);
  return k;
}

function classIndex(what: string, v: number, k: number): number {
  if (!Number.isInteger(v) || v < 0 || v >= k) throw new Error(`${what}: label ${v} is not a class index in [0, ${k})`);
  return v;
}

/** Index of the largest value in each row of a flat `[N, K]` array (first on ties, as numpy/torch). */
export function argmax(values: Nums, numClasses: number): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1 || values.length % numClasses !== 0) {
    throw new Error(`argmax: ${values.length} values are not rows of ${numClasses}`);
  }
  const n = values.length / numClasses;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = values[i * numClasses]!;
    for (let c = 1; c < numClasses; c++) {
      const v = values[i * numClasses + c]!;
      if (v > bv || (bv !== bv && v === v)) { // NaN never wins over a number
        bv = v;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Fraction of predictions equal to the labels. */
export function accuracy(predictions: Nums, labels: Nums): number {
  checkSameLength('accuracy', predictions, labels);
  if (labels.length === 0) throw new Error('accuracy: no samples');
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) ok++;
  return ok / labels.length;
}

/**
 * K×K confusion matrix, rows = true class, columns = predicted class (scikit-learn's orientation).
 * K defaults to 1 + the largest label or prediction.
 */
export function confusionMatrix(predictions: Nums, labels: Nums, numClasses?: number): number[][] {
  checkSameLength('confusionMatrix', predictions, labels);
  let k = numClasses ?? 0;
  if (numClasses === undefined) {
    for (let i = 0; i < labels.length; i++) k = Math.max(k, labels[i]! + 1, predictions[i]! + 1);
  }
  if (!Number.isInteger(k) || k < 1) throw new Error(`confusionMatrix: cannot infer the number of classes (${k})`);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = classIndex('confusionMatrix', labels[i]!, k);
    const p = classIndex('confusionMatrix (prediction)', predictions[i]!, k);
    m[t]![p]!++;
  }
  return m;
}

/**
 * Mean per-class recall over the classes present in the labels (scikit-learn balanced_accuracy_score:
 * a class that never occurs in the labels has no recall and is left out of the mean).
 */
export function balancedAccuracy(predictions: Nums, labels: Nums, numClasses?: number): number {
  if (labels.length === 0) throw new Error('balancedAccuracy: no samples');
  const cm = confusionMatrix(predictions, labels, numClasses);
  let sum = 0;
  let present = 0;
  cm.forEach((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (total > 0) {
      sum += row[c]! / total;
      present++;
    }
  });
  return sum / present;
}

/**
 * Area under the ROC curve for binary labels (0/1) and scores (higher = more positive): the
 * Mann–Whitney U statistic with average ranks for ties, U / (n₊·n₋), equal to scikit-learn's
 * roc_auc_score. Returns `undefined` when only one class is present (AUROC is not defined then).
 */
export function auroc(scores: Nums, labels: Nums): number | undefined {
  checkSameLength('auroc', scores, labels);
  const n = labels.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y === 1) nPos++;
    else if (y !== 0) throw new Error(`auroc: labels must be 0 or 1, got ${y} at ${i}`);
    if (Number.isNaN(scores[i])) throw new Error(`auroc: score ${i} is NaN`);
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return undefined;
  const s = Float64Array.from(scores);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => s[a]! - s[b]! || 0);
  // Sum of the (1-based, tie-averaged) ranks of the positives.
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    const v = s[order[i]!]!;
    while (j < n && s[order[j]!] === v) j++;
    const avgRank = (i + 1 + j) / 2; // ranks i+1 … j
    let pos = 0;
    for (let q = i; q < j; q++) if (labels[order[q]!] === 1) pos++;
    rankSum += pos * avgRank;
    i = j;
  }
  const u = rankSum - (nPos * (nPos + 1)) / 2;
  return u / (nPos * nNeg);
}

/**
 * One-vs-rest AUROC of each class from flat `[N, K]` scores: class c's column against (label == c).
 * Only the order within a column matters; note that softmax probabilities and raw logits order a column
 * differently (scikit-learn expects probabilities). `undefined` for a class that is absent from the
 * labels (or is every label).
 */
export function aurocOneVsRest(scores: Nums, labels: Nums, numClasses?: number): (number | undefined)[] {
  const n = labels.length;
  const k = numClasses ?? inferClasses('aurocOneVsRest', scores, n);
  if (scores.length !== n * k) throw new Error(`aurocOneVsRest: ${scores.length} scores for ${n} labels × ${k} classes`);
  for (let i = 0; i < n; i++) classIndex('aurocOneVsRest', labels[i]!, k);
  const col = new Float64Array(n);
  const bin = new Uint8Array(n);
  const out: (number | undefined)[] = [];
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      col[i] = scores[i * k + c]!;
      bin[i] = labels[i] === c ? 1 : 0;
    }
    out.push(auroc(col, bin));
  }
  return out;
}

/**
 * Macro-averaged one-vs-rest AUROC (scikit-learn roc_auc_score(multi_class='ovr', average='macro')).
 * `undefined` when any class's AUROC is undefined (a class absent from the labels), where scikit-learn
 * raises. With K = 2 this is the binary AUROC of column 1.
 */
export function macroAuroc(scores: Nums, labels: Nums, numClasses?: number): number | undefined {
  const per = aurocOneVsRest(scores, labels, numClasses);
  let sum = 0;
  for (const a of per) {
    if (a === undefined) return undefined;
    sum += a;
  }
  return sum / per.length;
}

/** Row-wise log-softmax of flat `[N, K]` logits, computed stably (max subtracted). */
export function logSoftmax(logits: Nums, numClasses: number): Float64Array {
  if (!Number.isInteger(numClasses) || numClasses < 1 || logits.length % numClasses !== 0) {
    throw new Error(`logSoftmax: ${logits.length} logits are not rows of ${numClasses}`);
  }
  const out = new Float64Array(logits.length);
  const k = numClasses;
  for (let r = 0; r < logits.length; r += k) {
    const lse = logSumExp(logits, r, k);
    for (let c = 0; c < k; c++) out[r + c] = logits[r + c]! - lse;
  }
  return out;
}

/** Row-wise softmax of flat `[N, K]` logits (stable). */
export function softmax(logits: Nums, numClasses: number): Float64Array {
  const out = logSoftmax(logits, numClasses);
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i]!);
  return out;
}

function logSumExp(x: Nums, off: number, k: number): number {
  let m = -Infinity;
  for (let c = 0; c < k; c++) m = Math.max(m, x[off + c]!);
  if (m === -Infinity || m === Infinity) return m;
  let s = 0;
  for (let c = 0; c < k; c++) s += Math.exp(x[off + c]! - m);
  return m + Math.log(s);
}

export interface LossOptions {
  /** 'mean' (default; weighted mean with class weights, as PyTorch) or 'sum'. */
  reduction?: 'mean' | 'sum';
}

export interface CrossEntropyOptions extends LossOptions {
  /** Per-class weights (PyTorch `weight`): mean = Σ w[yᵢ]·lᵢ / Σ w[yᵢ]. */
  classWeights?: Nums;
}

/** Per-sample cross-entropy −log softmax(z)[y] from flat `[N, K]` logits (stable log-sum-exp). */
export function crossEntropyPerSample(logits: Nums, labels: Nums): Float64Array {
  const n = labels.length;
  const k = inferClasses('crossEntropy', logits, n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = classIndex('crossEntropy', labels[i]!, k);
    out[i] = logSumExp(logits, i * k, k) - logits[i * k + y]!;
  }
  return out;
}

/**
 * Cross-entropy of integer labels under flat `[N, K]` logits: PyTorch's F.cross_entropy (mean, or class-
 * weighted mean), equal to scikit-learn's log_loss of the softmax probabilities where it does not clip.
 */
export function crossEntropy(logits: Nums, labels: Nums, opts: CrossEntropyOptions = {}): number {
  const per = crossEntropyPerSample(logits, labels);
  const w = opts.classWeights;
  const k = logits.length / labels.length;
  if (w !== undefined && w.length !== k) throw new Error(`crossEntropy: ${w.length} class weights for ${k} classes`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < per.length; i++) {
    const wi = w === undefined ? 1 : w[labels[i]!]!;
    num += wi * per[i]!;
    den += wi;
  }
  return (opts.reduction ?? 'mean') === 'sum' ? num : num / den;
}

/**
 * Element-wise binary cross-entropy from logits, `max(x, 0) − x·y + log1p(exp(−|x|))` (stable for any x;
 * targets in [0, 1]). For binary or multi-label outputs, flat arrays of equal length.
 */
export function binaryCrossEntropyPerElement(logits: Nums, targets: Nums): Float64Array {
  checkSameLength('binaryCrossEntropy', logits, targets);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i]!;
    const y = targets[i]!;
    if (!(y >= 0 && y <= 1)) throw new Error(`binaryCrossEntropy: target ${y} at ${i} is not in [0, 1]`);
    out[i] = Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
  }
  return out;
}

/** Mean (or sum) binary cross-entropy from logits: PyTorch's binary_cross_entropy_with_logits. */
export function binaryCrossEntropy(logits: Nums, targets: Nums, opts: LossOptions = {}): number {
  const per = binaryCrossEntropyPerElement(logits, targets);
  if (per.length === 0) throw new Error('binaryCrossEntropy: no samples');
  let s = 0;
  for (let i = 0; i < per.length; i++) s += per[i]!;
  return (opts.reduction ?? 'mean') === 'sum' ? s : s / per.length;
}
