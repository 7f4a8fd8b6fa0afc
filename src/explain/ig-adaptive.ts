/**
 * Integrated Gradients to a convergence tolerance: as many gradient evaluations as each image needs.
 *
 * The path x′ → x is cut into panels; each panel [a, b] is integrated by the 3-point Gauss–Lobatto rule
 * (Simpson's: the gradients at a, the midpoint m and b, weights (b − a)·(1, 4, 1)/6). The nodes are nested:
 * halving [a, b] reuses a, m and b and needs only the two new midpoints, and a panel's ends are shared with
 * its neighbours. The error of a panel is known exactly, not estimated: along the straight path the
 * integrand is d/dα f(x′ + α(x − x′)), so a panel's quadrature must equal f(b) − f(a) — and the VJP that
 * gives the gradient at a node gives f there too, so this costs nothing. The sum of the panel errors is
 * Captum's convergence delta, Σ attr − (f(x) − f(x′)).
 *
 * Each image starts with `panels` equal panels; while |delta| > tolerance · |f(x) − f(x′)|, the panel with the
 * largest |error| is halved. It stops when converged, or before `maxSteps` gradient evaluations (then
 * reported as not converged). The criterion is Captum's delta, the completeness of the attributions: it
 * bounds the sum of the map, not each pixel (a ReLU network's path derivative is piecewise constant, and
 * panel errors of opposite sign can cancel).
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import type { ExplainOptions } from './types.js';

export interface AdaptiveIgOptions extends ExplainOptions {
  /** |delta| ≤ tolerance · |f(x) − f(x′)| (e.g. 0.01). */
  tolerance: number;
  /** Panels to start with (default 2: nodes at 0, ¼, ½, ¾, 1). */
  panels?: number;
  /** Most gradient evaluations per image (default 256). */
  maxSteps?: number;
}

export interface AdaptiveIgResult {
  /** Σ over panels of the weighted gradients, per image, [n · size]. */
  total: Float64Array;
  /** Gradient evaluations (path nodes) per image. */
  steps: number[];
  converged: boolean[];
}

interface Node {
  grad: Float32Array;
  /** The target logit at this point of the path. */
  f: number;
}

const CHUNK_FLOATS = 1 << 23;

export async function adaptiveIgSums(model: Model, inputs: Tensor, base: Tensor, targets: readonly number[], fx: readonly number[], fb: readonly number[], opts: AdaptiveIgOptions): Promise<AdaptiveIgResult> {
  const tol = opts.tolerance;
  if (!(tol > 0 && tol < 1)) throw new Error(`integrated gradients: tolerance must be in (0, 1), got ${tol}`);
  const start = opts.panels ?? 2;
  const maxSteps = opts.maxSteps ?? 256;
  if (!(Number.isInteger(start) && start >= 1 && 2 * start + 1 <= maxSteps)) throw new Error(`integrated gradients: panels must be a positive integer with 2·panels + 1 ≤ maxSteps (${maxSteps}), got ${start}`);
  const shape = inputs.shape as number[];
  const n = shape[0]!;
  const size = inputs.size / n;
  const x = inputs.data as Float32Array;
  const b = base.data as Float32Array;
  const k = model.numClasses;
  const nodes: Map<number, Node>[] = Array.from({ length: n }, () => new Map());
  const panels: { a: number; b: number }[][] = Array.from({ length: n }, () => Array.from({ length: start }, (_, j) => ({ a: j / start, b: (j + 1) / start })));

  /** Gradient and target logit at path positions not yet evaluated, in batched VJPs. */
  const evaluate = async (want: { image: number; alpha: number }[]) => {
    const todo = want.filter((w, j) => !nodes[w.image]!.has(w.alpha) && want.findIndex((v) => v.image === w.image && v.alpha === w.alpha) === j);
    const chunk = Math.max(opts.batchSize ?? 64, Math.floor(CHUNK_FLOATS / size), 1);
    for (let s = 0; s < todo.length; s += chunk) {
      const part = todo.slice(s, s + chunk);
      const buf = new Float32Array(part.length * size);
      const seed = new Float32Array(part.length * k);
      part.forEach(({ image, alpha }, j) => {
        const off = image * size;
        for (let p = 0; p < size; p++) buf[j * size + p] = b[off + p]! + alpha * (x[off + p]! - b[off + p]!);
        seed[j * k + targets[image]!] = 1;
      });
      const r = await model.vjp(new Tensor(buf, [part.length, ...shape.slice(1)]), { seed: new Tensor(seed, [part.length, k]), batchSize: opts.batchSize });
      const g = r.inputGrad!.data;
      part.forEach(({ image, alpha }, j) => {
        nodes[image]!.set(alpha, { grad: Float32Array.from(g.subarray(j * size, (j + 1) * size)), f: r.logits.data[j * k + targets[image]!]! });
      });
    }
  };
  const dot = (i: number, g: Float32Array) => {
    let s = 0;
    const off = i * size;
    for (let p = 0; p < size; p++) s += g[p]! * (x[off + p]! - b[off + p]!);
    return s;
  };
  /** Simpson's quadrature of the path derivative on [a, b] minus f(b) − f(a). The path's ends use the exact f(x′), f(x). */
  const error = (i: number, p: { a: number; b: number }) => {
    const na = nodes[i]!.get(p.a)!;
    const nm = nodes[i]!.get((p.a + p.b) / 2)!;
    const nb = nodes[i]!.get(p.b)!;
    const quad = ((p.b - p.a) / 6) * (dot(i, na.grad) + 4 * dot(i, nm.grad) + dot(i, nb.grad));
    const fa = p.a === 0 ? fb[i]! : na.f;
    const fend = p.b === 1 ? fx[i]! : nb.f;
    return quad - (fend - fa);
  };
  const needed = (i: number) => panels[i]!.flatMap((p) => [p.a, (p.a + p.b) / 2, p.b]).map((alpha) => ({ image: i, alpha }));
  await evaluate(Array.from({ length: n }, (_, i) => needed(i)).flat());
  const errors: number[][] = Array.from({ length: n }, (_, i) => panels[i]!.map((p) => error(i, p)));
  const delta = (i: number) => errors[i]!.reduce((s, e) => s + e, 0);
  const goal = (i: number) => tol * Math.abs(fx[i]! - fb[i]!);
  for (;;) {
    const todo: { image: number; alpha: number }[] = [];
    const split: number[] = [];
    for (let i = 0; i < n; i++) {
      if (Math.abs(delta(i)) <= goal(i) || nodes[i]!.size + 2 > maxSteps) continue;
      const e = errors[i]!;
      let worst = 0;
      for (let p = 1; p < e.length; p++) if (Math.abs(e[p]!) > Math.abs(e[worst]!)) worst = p;
      const { a, b: end } = panels[i]![worst]!;
      const m = (a + end) / 2;
      panels[i]!.splice(worst, 1, { a, b: m }, { a: m, b: end });
      errors[i]!.splice(worst, 1, NaN, NaN);
      todo.push({ image: i, alpha: (a + m) / 2 }, { image: i, alpha: (m + end) / 2 });
      split.push(i);
    }
    if (!todo.length) break;
    await evaluate(todo);
    for (const i of split) errors[i] = panels[i]!.map((p, j) => (Number.isNaN(errors[i]![j]!) ? error(i, p) : errors[i]![j]!));
  }
  const total = new Float64Array(n * size);
  for (let i = 0; i < n; i++) {
    for (const p of panels[i]!) {
      const w = (p.b - p.a) / 6;
      for (const [alpha, weight] of [[p.a, w], [(p.a + p.b) / 2, 4 * w], [p.b, w]] as const) {
        const g = nodes[i]!.get(alpha)!.grad;
        for (let q = 0; q < size; q++) total[i * size + q]! += weight * g[q]!;
      }
    }
  }
  return { total, steps: nodes.map((m) => m.size), converged: Array.from({ length: n }, (_, i) => Math.abs(delta(i)) <= goal(i)) };
}
