/**
 * Integrated Gradients to a convergence tolerance: as many gradient evaluations as each image needs.
 *
 * The path x′ → x is cut into panels; each panel [a, b] is integrated by Gauss–Legendre with `order` nodes
 * (the gradients at the nodes, one batched VJP for every panel being evaluated). The error of a panel is
 * known exactly, not estimated: along the straight path the integrand is d/dα f(x′ + α(x − x′)), so a
 * panel's quadrature must equal f(end) − f(start), which one forward pass gives (the path's two ends are
 * f(x′) and f(x)). The sum of the panel errors is Captum's convergence delta, Σ attr − (f(x) − f(x′)).
 *
 * Each image starts with `panels` equal panels; while |delta| > tolerance · |f(x) − f(x′)|, the panel with
 * the largest |error| is halved (both halves evaluated afresh). The criterion is Captum's delta, the
 * completeness of the attributions; it bounds the sum of the map, not each pixel (a ReLU network's path
 * derivative is piecewise constant, and panel errors of opposite sign can cancel). It stops when converged, or at `maxSteps`
 * gradient evaluations (then reported as not converged). The attributions are (x − x′) ⊙ Σ_panels Σ_j
 * w_j ∇f(node_j), so a converged map's delta is within the tolerance by construction; the steps used per
 * image are in `extra.steps`.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { gaussLegendre } from './integrated-gradients.js';
import { perturbedGradients } from './saliency.js';
import type { ExplainOptions } from './types.js';

export interface AdaptiveIgOptions extends ExplainOptions {
  /** |delta| ≤ tolerance · |f(x) − f(x′)| (e.g. 0.01). */
  tolerance: number;
  /** Gauss–Legendre nodes per panel (default 2: a ReLU network's path derivative is piecewise constant, so many low-order panels beat few high-order ones). */
  order?: number;
  /** Panels to start with (default 2). */
  panels?: number;
  /** Most gradient evaluations per image (default 256). */
  maxSteps?: number;
}

interface Panel {
  a: number;
  b: number;
  /** Σ_j w_j ∇f(node_j) over this panel, per input element (float64). */
  sum: Float64Array;
  /** Its quadrature of the path derivative, and its exact value f(b) − f(a). */
  quad: number;
  exact: number;
}

export interface AdaptiveIgResult {
  /** Σ over panels of Σ_j w_j ∇f, per image, [n · size]. */
  total: Float64Array;
  steps: number[];
  forwards: number[];
  converged: boolean[];
}

/**
 * The weighted gradient sums of IG along x′ → x for each image, refined until converged.
 * `fx`, `fb`: the target logit at x and at x′ per image.
 */
export async function adaptiveIgSums(
  model: Model,
  inputs: Tensor,
  base: Tensor,
  targets: readonly number[],
  fx: readonly number[],
  fb: readonly number[],
  opts: AdaptiveIgOptions,
): Promise<AdaptiveIgResult> {
  const tol = opts.tolerance;
  if (!(tol > 0 && tol < 1)) throw new Error(`integrated gradients: tolerance must be in (0, 1), got ${tol}`);
  const order = opts.order ?? 2;
  const startPanels = opts.panels ?? 2;
  const maxSteps = opts.maxSteps ?? 256;
  if (!(Number.isInteger(order) && order >= 1 && order <= 64)) throw new Error(`integrated gradients: order must be an integer in [1, 64], got ${order}`);
  if (!(Number.isInteger(startPanels) && startPanels >= 1)) throw new Error(`integrated gradients: panels must be a positive integer, got ${startPanels}`);
  const gl = gaussLegendre(order);
  const shape = inputs.shape as number[];
  const n = shape[0]!;
  const size = inputs.size / n;
  const x = inputs.data as Float32Array;
  const b = base.data as Float32Array;
  const k = model.numClasses;
  const panels: Panel[][] = Array.from({ length: n }, () => []);
  const steps = new Array<number>(n).fill(0);
  const forwards = new Array<number>(n).fill(0);
  const known: Map<number, number>[] = Array.from({ length: n }, (_, i) => new Map([[0, fb[i]!], [1, fx[i]!]]));

  /** f at path positions not yet known, one batched forward for all images. */
  const logitsAt = async (want: { image: number; alpha: number }[]) => {
    const todo = want.filter((w) => !known[w.image]!.has(w.alpha));
    if (!todo.length) return;
    const buf = new Float32Array(todo.length * size);
    todo.forEach(({ image, alpha }, j) => {
      const off = image * size;
      for (let p = 0; p < size; p++) buf[j * size + p] = b[off + p]! + alpha * (x[off + p]! - b[off + p]!);
    });
    const out = await model.forward(new Tensor(buf, [todo.length, ...shape.slice(1)]), { batchSize: opts.batchSize });
    todo.forEach(({ image, alpha }, j) => {
      known[image]!.set(alpha, out.data[j * k + targets[image]!]!);
      forwards[image]!++;
    });
  };

  /** Evaluate new panels (image, a, b): gradients at their nodes, and their exact values. */
  const evaluate = async (todo: { image: number; a: number; b: number }[]) => {
    await logitsAt(todo.flatMap((t) => [{ image: t.image, alpha: t.a }, { image: t.image, alpha: t.b }]));
    const made = todo.map((t) => ({ ...t, sum: new Float64Array(size), quad: 0, exact: known[t.image]!.get(t.b)! - known[t.image]!.get(t.a)! }));
    // One perturbed-gradient pass over "images" = panels, rows = nodes.
    const rows = order;
    const pseudo = new Tensor(new Float32Array(made.length * size), [made.length, ...shape.slice(1)]);
    await perturbedGradients(
      model,
      pseudo,
      made.map((m) => targets[m.image]!),
      rows,
      (q, j, out) => {
        const m = made[q]!;
        const alpha = m.a + ((gl.nodes[j]! + 1) / 2) * (m.b - m.a);
        const off = m.image * size;
        for (let p = 0; p < size; p++) out[p] = b[off + p]! + alpha * (x[off + p]! - b[off + p]!);
      },
      (q, j, g) => {
        const m = made[q]!;
        const w = (gl.weights[j]! / 2) * (m.b - m.a);
        const off = m.image * size;
        let dot = 0;
        for (let p = 0; p < size; p++) {
          m.sum[p]! += w * g[p]!;
          dot += g[p]! * (x[off + p]! - b[off + p]!);
        }
        m.quad += w * dot;
      },
      opts,
    );
    for (const m of made) {
      panels[m.image]!.push({ a: m.a, b: m.b, sum: m.sum, quad: m.quad, exact: m.exact });
      steps[m.image]! += order;
    }
  };

  const delta = (i: number) => panels[i]!.reduce((s, p) => s + (p.quad - p.exact), 0);
  const goal = (i: number) => tol * Math.abs(fx[i]! - fb[i]!);
  await evaluate(Array.from({ length: n }, (_, image) => Array.from({ length: startPanels }, (_, j) => ({ image, a: j / startPanels, b: (j + 1) / startPanels }))).flat());
  for (;;) {
    const todo: { image: number; a: number; b: number }[] = [];
    for (let i = 0; i < n; i++) {
      if (Math.abs(delta(i)) <= goal(i) || steps[i]! + 2 * order > maxSteps) continue;
      // Halve the panel with the largest error.
      const list = panels[i]!;
      let worst = 0;
      for (let p = 1; p < list.length; p++) if (Math.abs(list[p]!.quad - list[p]!.exact) > Math.abs(list[worst]!.quad - list[worst]!.exact)) worst = p;
      const [old] = list.splice(worst, 1); // its evaluations were spent: they stay counted in steps
      const mid = (old!.a + old!.b) / 2;
      todo.push({ image: i, a: old!.a, b: mid }, { image: i, a: mid, b: old!.b });
    }
    if (!todo.length) break;
    await evaluate(todo);
  }
  const total = new Float64Array(n * size);
  for (let i = 0; i < n; i++) for (const p of panels[i]!) for (let q = 0; q < size; q++) total[i * size + q]! += p.sum[q]!;
  return { total, steps, forwards, converged: Array.from({ length: n }, (_, i) => Math.abs(delta(i)) <= goal(i)) };
}
