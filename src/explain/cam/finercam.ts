/**
 * FinerCAM (Zhang et al., CVPR 2025; pytorch-grad-cam's `FinerCAM` with its default base, Grad-CAM):
 * Grad-CAM of a weighted difference between the target class n and the classes the model finds most
 * similar to it, so the map shows what tells n apart from its neighbours rather than what they share.
 *
 * Per image, the classes are ranked by |y_j − y_n| (ascending; rank 0 is n itself) and the comparison set J
 * holds the classes at the ranks `comparisons` (default 1, 2, 3). With p = softmax(y) the target is
 *   T = Σ_{j∈J} p_j (y_n − α y_j) / (Σ_{j∈J} p_j + 1e-9)          (pytorch-grad-cam's FinerWeightedTarget)
 * and the gradients at the layer are G = ∂T/∂A, a VJP with the cotangent ∂T/∂y (the softmax weights are
 * differentiated too, as in PyTorch), computed here in closed form:
 *   ∂N/∂y_m = [m∈J] p_m (d_m − α) − p_m Σ_j p_j d_j + S [m = n],   d_j = y_n − α y_j, N = Σ_j p_j d_j,
 *   ∂S/∂y_m = [m∈J] p_m − p_m S,                                   S = Σ_j p_j,
 *   ∂T/∂y_m = (∂N/∂y_m (S + ε) − N ∂S/∂y_m) / (S + ε)².
 * Target 'pred' takes n = the predicted class (pytorch-grad-cam's default); a given class is its `target_idx`.
 * Options: `alpha` (default 1), `comparisons` (ranks, default 1,2,3 — as many of them as the model has
 * other classes, so a binary model compares with its other class; given ranks must exist).
 */
import { Tensor } from '../../tensor/tensor.js';
import { type CamMethod, camExplainer } from './base.js';
import { gradCamMethod } from './gradcam.js';

function settings(options: Readonly<Record<string, unknown>>, numClasses: number): { alpha: number; ranks: number[] } {
  const alpha = options.alpha === undefined ? 1 : Number(options.alpha);
  const c = options.comparisons;
  const ranks = c === undefined ? [1, 2, 3].filter((r) => r < numClasses) : Array.isArray(c) ? c.map(Number) : String(c).split(',').map((s) => Number(s.trim()));
  return { alpha, ranks };
}

/** ∂T/∂y for one image's logits y [K], main class n, comparison classes J. */
export function finerCotangent(y: ArrayLike<number>, n: number, J: readonly number[], alpha: number): Float64Array {
  const K = y.length;
  let max = -Infinity;
  for (let j = 0; j < K; j++) max = Math.max(max, y[j]!);
  const p = new Float64Array(K);
  let z = 0;
  for (let j = 0; j < K; j++) z += p[j] = Math.exp(y[j]! - max);
  for (let j = 0; j < K; j++) p[j]! /= z;
  const eps = 1e-9;
  let S = 0;
  let N = 0;
  const inJ = new Float64Array(K);
  for (const j of J) {
    inJ[j]! += 1; // a class listed twice counts twice, as in pytorch-grad-cam's sums
    S += p[j]!;
    N += p[j]! * (y[n]! - alpha * y[j]!);
  }
  const out = new Float64Array(K);
  for (let m = 0; m < K; m++) {
    const dN = inJ[m]! * p[m]! * (y[n]! - alpha * y[m]! - alpha) - p[m]! * N + (m === n ? S : 0);
    const dS = inJ[m]! * p[m]! - p[m]! * S;
    out[m] = (dN * (S + eps) - N * dS) / (S + eps) ** 2;
  }
  return out;
}

/** The comparison classes of one image: those at the given ranks of |y_j − y_n|, ascending (stable order). */
export function comparisonClasses(y: ArrayLike<number>, n: number, ranks: readonly number[]): number[] {
  const order = Array.from({ length: y.length }, (_, j) => j).sort((a, b) => Math.abs(y[a]! - y[n]!) - Math.abs(y[b]! - y[n]!) || a - b);
  return ranks.map((r) => order[r]!);
}

export const finerCamMethod: CamMethod = {
  ...gradCamMethod,
  name: 'finercam',
  validate(options, numClasses) {
    if (numClasses < 2) throw new Error(`finercam: the model has ${numClasses} output; FinerCAM compares the target with other classes`);
    const { alpha, ranks } = settings(options, numClasses);
    if (!Number.isFinite(alpha)) throw new Error(`finercam: option alpha must be a number, got '${String(options.alpha)}'`);
    if (!ranks.length || ranks.some((r) => !Number.isInteger(r) || r < 1)) throw new Error(`finercam: option comparisons must be ranks ≥ 1 (1 = the class closest to the target), got '${String(options.comparisons)}'`);
    const top = Math.max(...ranks);
    if (top >= numClasses) throw new Error(`finercam: comparison rank ${top} needs at least ${top + 1} classes; the model has ${numClasses} (set comparisons to ranks below ${numClasses}, e.g. --opt finercam.comparisons=1)`);
  },
  seed(logits, targets, options) {
    const K = logits.shape[1]!;
    const { alpha, ranks } = settings(options, K);
    const out = new Float32Array(targets.length * K);
    targets.forEach((n, i) => {
      const y = logits.data.subarray(i * K, (i + 1) * K);
      out.set(finerCotangent(y, n, comparisonClasses(y, n, ranks), alpha), i * K);
    });
    return new Tensor(out, [targets.length, K]);
  },
};

export const finerCam = camExplainer(finerCamMethod);
