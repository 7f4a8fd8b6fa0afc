/**
 * Integrated Gradients (Captum `IntegratedGradients`, multiply_by_inputs=True):
 *
 *   attr = (x − x′) ⊙ Σ_i w_i ∇_x y_t(x′ + α_i (x − x′))
 *
 * with Captum's step positions α_i and weights w_i (`captum/attr/_utils/approximation_methods.py`):
 *  - riemann_left:      α = linspace(0, 1 − 1/n, n),          w_i = 1/n
 *  - riemann_right:     α = linspace(1/n, 1, n),              w_i = 1/n
 *  - riemann_middle:    α = linspace(1/(2n), 1 − 1/(2n), n),  w_i = 1/n
 *  - riemann_trapezoid: α = linspace(0, 1, n),                w = [1/(2n), 1/n, …, 1/n, 1/(2n)]
 *      NB Captum's trapezoid weights sum to (n − 1)/n, not 1 (the step is taken as 1/n although the
 *      nodes are 1/(n − 1) apart), so even on a linear model it returns (n − 1)/n × the exact IG.
 *      candor follows Captum by default; `trapezoid: 'exact'` uses the textbook weights
 *      [1/(2(n−1)), 1/(n−1), …, 1/(2(n−1))] instead.
 *  - gausslegendre:     α = (1 + ξ_i)/2, w_i = ω_i/2 with (ξ, ω) = numpy.polynomial.legendre.leggauss(n)
 *      (nodes ascending), computed here by Newton's method on P_n in float64.
 * Riemann methods need n ≥ 2 (as Captum asserts); Gauss–Legendre n ≥ 1. Captum's defaults:
 * gausslegendre, n = 50, baseline zeros — also candor's.
 *
 * All steps of all images are built and differentiated in one batched VJP (a few if very large).
 * The map is the channel sum (DESIGN.md §3, signed). `extra.delta[i]` is Captum's convergence delta,
 * Σ attr_i − (y_t(x_i) − y_t(x′_i)), per image.
 *
 * Baselines: 'zeros' (0), 'black' (dataRange[0], default −1 for data in [−1, 1]), 'gray' (midpoint
 * of dataRange, 0 by default), 'blur' (the input blurred by a Gaussian of `blurSigma` pixels per
 * channel, reflect borders), 'uniform' (U(dataRange) noise, seeded), or a tensor [N|1,C,H,W].
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, reduceChannels, resolveTargets, batchLayout, sameShape } from './types.js';
import { separableFilter } from '../tensor/separable.js';
import { checkImages, perturbedGradients } from './saliency.js';
import { adaptiveIgSums } from './ig-adaptive.js';

export type IgMethod = 'riemann_left' | 'riemann_right' | 'riemann_middle' | 'riemann_trapezoid' | 'gausslegendre';
export type IgBaseline = 'zeros' | 'black' | 'gray' | 'blur' | 'uniform' | Tensor;

export const IG_METHODS: readonly IgMethod[] = ['riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid', 'gausslegendre'];
const BASELINES = ['zeros', 'black', 'gray', 'blur', 'uniform'] as const;

export interface IntegratedGradientsOptions extends ExplainOptions {
  /** Integration steps (default 50). */
  steps?: number;
  /** Quadrature (default 'gausslegendre', Captum's default). */
  method?: IgMethod;
  /** Baseline x′ (default 'zeros', Captum's default). */
  baseline?: IgBaseline;
  /** Range of the data: 'black' is its minimum, 'gray' its midpoint, 'uniform' draws from it (default [−1, 1]). */
  dataRange?: readonly [number, number];
  /** Gaussian σ in pixels for the 'blur' baseline (default the largest spatial extent / 10). */
  blurSigma?: number;
  /** Trapezoid weights: Captum's (default, sum (n−1)/n) or the textbook rule (sum 1). */
  trapezoid?: 'captum' | 'exact';
  /**
   * Converge instead of a fixed step count: refine until |delta| ≤ tolerance · |f(x) − f(x′)| per image
   * (ig-adaptive.ts; `steps` and `method` are then ignored, the steps used are in extra.steps).
   */
  tolerance?: number;
  /** Adaptive mode: panels to start with (default 2) and the most gradient evaluations per image (default 256). */
  panels?: number;
  maxSteps?: number;
}

/** Step positions α_i ∈ [0, 1] and weights w_i of an integration method, as Captum defines them. */
export function igSteps(method: IgMethod, n: number, trapezoid: 'captum' | 'exact' = 'captum'): { alphas: number[]; weights: number[] } {
  if (!IG_METHODS.includes(method)) throw new Error(`integrated gradients: unknown method '${method}' (valid: ${IG_METHODS.join(', ')})`);
  if (!Number.isInteger(n) || n < (method === 'gausslegendre' ? 1 : 2)) {
    throw new Error(`integrated gradients: ${method} needs an integer number of steps ≥ ${method === 'gausslegendre' ? 1 : 2}, got ${n}`);
  }
  if (method === 'gausslegendre') {
    const { nodes, weights } = gaussLegendre(n);
    return { alphas: nodes.map((x) => 0.5 * (1 + x)), weights: weights.map((w) => 0.5 * w) };
  }
  // numpy.linspace(a, b, n): a + i·(b − a)/(n − 1), with the last point exactly b.
  const linspace = (a: number, b: number) => Array.from({ length: n }, (_, i) => (i === n - 1 ? b : a + (i * (b - a)) / (n - 1)));
  const uniform = Array<number>(n).fill(1 / n);
  switch (method) {
    case 'riemann_left':
      return { alphas: linspace(0, 1 - 1 / n), weights: uniform };
    case 'riemann_right':
      return { alphas: linspace(1 / n, 1), weights: uniform };
    case 'riemann_middle':
      return { alphas: linspace(1 / (2 * n), 1 - 1 / (2 * n)), weights: uniform };
    default: {
      const d = trapezoid === 'exact' ? 1 / (n - 1) : 1 / n;
      const weights = Array<number>(n).fill(d);
      weights[0] = d / 2;
      weights[n - 1] = d / 2;
      return { alphas: linspace(0, 1), weights };
    }
  }
}

/** P_n(x) and P_{n−1}(x) by the three-term recurrence. */
function legendre(n: number, x: number): { pn: number; pprev: number } {
  let p0 = 1;
  let p1 = x;
  for (let k = 2; k <= n; k++) {
    const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
    p0 = p1;
    p1 = p2;
  }
  return { pn: p1, pprev: p0 };
}

/** Gauss–Legendre nodes (ascending) and weights on [−1, 1], as numpy.polynomial.legendre.leggauss. */
export function gaussLegendre(n: number): { nodes: number[]; weights: number[] } {
  const nodes = new Array<number>(n);
  const weights = new Array<number>(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    // Tricomi's initial guess for the i-th largest root, then Newton on P_n.
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      const { pn, pprev } = legendre(n, x);
      dp = (n * (x * pn - pprev)) / (x * x - 1);
      const dx = pn / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    if (n % 2 === 1 && i === (n - 1) / 2) x = 0;
    // recompute P_n' at the converged root for the weight
    const { pn, pprev } = legendre(n, x);
    dp = n === 1 ? 1 : (n * (x * pn - pprev)) / (x * x - 1);
    const w = 2 / ((1 - x * x) * dp * dp);
    nodes[n - 1 - i] = x;
    nodes[i] = -x;
    weights[n - 1 - i] = w;
    weights[i] = w;
  }
  return { nodes, weights };
}

/**
 * Separable Gaussian blur per channel over every spatial axis (last axis first), reflect borders
 * (scipy.ndimage 'reflect': d c b a | a b c d | d c b a), kernel radius ⌈3σ⌉.
 */
export function gaussianBlur(x: Tensor, sigma: number): Tensor {
  const { n, c, spatial } = batchLayout(x.shape);
  if (!(sigma > 0)) return new Tensor(Float32Array.from(x.data as Float32Array), x.shape);
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= s;
  const axes = spatial.map((_, a) => spatial.length - 1 - a);
  return new Tensor(Float32Array.from(separableFilter(x.data, n * c, spatial, k, axes)), x.shape);
}

/** The baseline tensor [N,C,...spatial] for the inputs. */
export function makeBaseline(inputs: Tensor, baseline: IgBaseline, options: IntegratedGradientsOptions = {}): Tensor {
  const { n, size, spatial } = batchLayout(inputs.shape);
  const [lo, hi] = options.dataRange ?? [-1, 1];
  if (!(hi > lo)) throw new Error(`integrated gradients: dataRange must be [min, max] with min < max, got [${lo}, ${hi}]`);
  if (baseline instanceof Tensor) {
    const s = baseline.shape;
    const image = inputs.shape.slice(1);
    const ok = (s.length === image.length + 1 && (s[0] === n || s[0] === 1) && sameShape(s.slice(1), image)) || sameShape(s, image);
    if (!ok) throw new Error(`integrated gradients: baseline has shape [${s.join(', ')}], expected [${n}, ${image.join(', ')}], [1, ${image.join(', ')}] or [${image.join(', ')}]`);
    if (baseline.size === inputs.size) return new Tensor(Float32Array.from(baseline.data as ArrayLike<number>), inputs.shape);
    const out = new Float32Array(n * size);
    for (let i = 0; i < n; i++) out.set(Float32Array.from(baseline.data as ArrayLike<number>), i * size);
    return new Tensor(out, inputs.shape);
  }
  switch (baseline) {
    case 'zeros':
      return Tensor.zeros(inputs.shape);
    case 'black':
      return new Tensor(new Float32Array(inputs.size).fill(lo), inputs.shape);
    case 'gray':
      return new Tensor(new Float32Array(inputs.size).fill((lo + hi) / 2), inputs.shape);
    case 'uniform':
      return new Tensor(new Rng(options.seed ?? 0).fork('ig-uniform-baseline').fillUniform(new Float32Array(inputs.size), lo, hi), inputs.shape);
    case 'blur':
      return gaussianBlur(inputs, options.blurSigma ?? Math.max(...spatial) / 10);
    default:
      throw new Error(`integrated gradients: unknown baseline '${String(baseline)}' (valid: ${BASELINES.join(', ')}, or a tensor)`);
  }
}

export async function integratedGradients(model: Model, inputs: Tensor, target: Target, options: IntegratedGradientsOptions = {}): Promise<Attribution> {
  checkImages(model, inputs);
  const method = options.method ?? 'gausslegendre';
  const steps = options.steps ?? 50;
  const { alphas, weights } = igSteps(method, steps, options.trapezoid);
  const baselineOpt = options.baseline ?? 'zeros';
  const base = makeBaseline(inputs, baselineOpt, options);
  const { n, size } = batchLayout(inputs.shape);
  const k = model.numClasses;

  // f(x) and f(x′) in one forward call.
  const both = await model.forward(Tensor.concat0([inputs as Tensor, base]), { batchSize: options.batchSize });
  const logits = both.slice0(0, n);
  const baseLogits = both.slice0(n, 2 * n);
  const { targets } = await resolveTargets(model, inputs, target, logits);

  const x = inputs.data as Float32Array;
  const b = base.data;
  if (options.tolerance !== undefined) {
    const fx = targets.map((t, i) => logits.data[i * k + t]!);
    const fb = targets.map((t, i) => baseLogits.data[i * k + t]!);
    const r = await adaptiveIgSums(model, inputs, base, targets, fx, fb, { ...options, tolerance: options.tolerance });
    return finish(r.total, { method: 'adaptive lobatto', steps: r.steps, converged: r.converged, tolerance: options.tolerance });
  }
  const total = new Float64Array(n * size);
  await perturbedGradients(
    model,
    inputs,
    targets,
    steps,
    (i, s, out) => {
      const a = alphas[s]!;
      const off = i * size;
      for (let p = 0; p < size; p++) out[p] = b[off + p]! + a * (x[off + p]! - b[off + p]!);
    },
    (i, s, g) => {
      const wt = weights[s]!;
      const off = i * size;
      for (let p = 0; p < size; p++) total[off + p]! += wt * g[p]!;
    },
    options,
  );
  return finish(total, { method, steps });

  function finish(total: Float64Array, how: Record<string, unknown>): Attribution {
    const out = new Float32Array(n * size);
    for (let q = 0; q < out.length; q++) out[q] = (x[q]! - b[q]!) * total[q]!;
    const delta: number[] = [];
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let p = i * size; p < (i + 1) * size; p++) sum += out[p]!;
      const t = targets[i]!;
      delta.push(sum - (logits.data[i * k + t]! - baseLogits.data[i * k + t]!));
    }
    const attributions = new Tensor(out, inputs.shape);
    return {
      method: 'integrated_gradients',
      attributions,
      map: reduceChannels(attributions, 'sum'),
      signed: true,
      targets,
      logits,
      extra: { delta, ...how, baseline: baselineOpt instanceof Tensor ? 'tensor' : baselineOpt, baselineLogits: baseLogits },
    };
  }
}
