/**
 * The shape of an explainer (DESIGN.md §3–4): every method is a function
 * `(model, inputs, target, options) → Attribution`. Inputs are [N,C,...spatial] with one spatial
 * axis or more — [N,C,H,W] images and [N,C,D,H,W] volumes alike (the spatial rank is read from the
 * shape, never assumed). Attributions keep the input's shape; a map is [N,...spatial]. Maps are raw
 * (no normalisation); display scaling is a viz step.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';

/** A class index for every image, the predicted class, or one index per image. */
export type Target = number | 'pred' | readonly number[];

/** Options shared by every method. */
export interface ExplainOptions {
  /** Images per onnxruntime call (perturbation methods pack many perturbed images per call). */
  batchSize?: number;
  /** Seed for methods with randomness (SmoothGrad noise, RISE masks, baselines). */
  seed?: number;
  /** Progress of long methods: done / total units of work. */
  onProgress?: (done: number, total: number) => void;
}

export interface Attribution {
  /** Method name as given to the registry, e.g. 'gradcam'. */
  method: string;
  /** Per-input attribution [N,C,...spatial] (gradient family, occlusion); absent for CAMs. */
  attributions?: Tensor;
  /** The map [N,...spatial] at input resolution: the channel reduction of `attributions`, or the CAM. */
  map: Tensor;
  /** Whether the map is signed (diverging colormap) or non-negative. */
  signed: boolean;
  /** Target class per image. */
  targets: number[];
  /** Logits of the unperturbed inputs [N,K]. */
  logits: Tensor;
  /** Method-specific diagnostics, e.g. Integrated Gradients' convergence delta per image. */
  extra?: Record<string, number[] | Tensor | string | number>;
}

export type Explainer<O extends ExplainOptions = ExplainOptions> = (model: Model, inputs: Tensor, target: Target, options?: O) => Promise<Attribution>;

/** Resolve a target to one class index per image (computing the prediction when asked). */
export async function resolveTargets(model: Model, inputs: Tensor, target: Target, logits?: Tensor): Promise<{ targets: number[]; logits: Tensor }> {
  const n = inputs.shape[0]!;
  const k = model.numClasses;
  const lg = logits ?? (await model.forward(inputs));
  let targets: number[];
  if (target === 'pred') {
    targets = [];
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (lg.data[i * k + j]! > lg.data[i * k + best]!) best = j;
      targets.push(best);
    }
  } else if (typeof target === 'number') targets = Array(n).fill(target);
  else {
    if (target.length !== n) throw new Error(`${model.source}: ${target.length} targets given for ${n} images`);
    targets = [...target];
  }
  for (const t of targets) {
    if (!Number.isInteger(t) || t < 0 || t >= k) throw new Error(`${model.source}: target ${t} is out of range (the model has ${k} classes: 0..${k - 1})`);
  }
  return { targets, logits: lg };
}

/** A batch's layout [N, C, ...spatial]: spatial rank 1 or more (2 for images, 3 for volumes). */
export interface BatchLayout {
  n: number;
  c: number;
  /** Spatial extent, e.g. [H, W] or [D, H, W]. */
  spatial: number[];
  /** Pixels or voxels per channel: the product of `spatial`. */
  voxels: number;
  /** Values per image: c · voxels. */
  size: number;
}

export function batchLayout(shape: readonly number[]): BatchLayout {
  if (shape.length < 3) throw new Error(`expected a batch [N, C, ...spatial], got [${shape.join(', ')}]`);
  const [n, c, ...spatial] = shape as number[];
  const voxels = spatial.reduce((a, b) => a * b, 1);
  return { n: n!, c: c!, spatial, voxels, size: c! * voxels };
}

export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Channel reductions (DESIGN.md §3): absolute-gradient methods take max |·| over channels;
 * signed methods sum over channels. [N,C,...spatial] → [N,...spatial].
 */
export function reduceChannels(t: Tensor, how: 'max-abs' | 'sum'): Tensor {
  const { n, c, spatial, voxels: hw } = batchLayout(t.shape);
  const out = new Float32Array(n * hw);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < hw; p++) {
      let acc = how === 'sum' ? 0 : -Infinity;
      for (let ch = 0; ch < c; ch++) {
        const v = t.data[(i * c + ch) * hw + p]!;
        acc = how === 'sum' ? acc + v : Math.max(acc, Math.abs(v));
      }
      out[i * hw + p] = acc;
    }
  }
  return new (t.constructor as typeof Tensor)(out, [n, ...spatial]) as Tensor;
}
