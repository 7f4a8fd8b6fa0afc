/**
 * Incremental inference, run: the logits of an image with one box replaced, for many boxes, computing in
 * each layer only what the box can change (plan.ts) — for occlusion and grid feature ablation.
 *
 *   const inc = await IncrementalForward.plan(model, spatial, window, origins);   // or why not
 *   const acts = await inc.activations(image);              // the unperturbed activations, once per image
 *   const logits = await inc.run(acts, q0, q1, patches);     // patches q0…q1−1: their boxes' new values
 *
 * `plan` returns a string instead when the model cannot be treated (a static batch, no local layer
 * before a global one); the caller then computes directly and says why. Its graphs are compiled on
 * first use; `Model.resource` keeps a plan with its model (boxed-logits.ts), released with it.
 */
import { Tensor, firstNonFinite } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import type { GraphSession } from '../../runtime/session.js';
import { cloneModel, topoSort } from '../../onnx/ir.js';
import { inferShapes } from '../../onnx/shape-inference.js';
import { planIncremental, type Plan } from './plan.js';
import { buildIncrementalGraphs, gatherIndices, type IncrementalGraphs } from './graph.js';

/** Gather indices kept per plan for reuse across images: up to 2^24 int32 (64 MB). */
const INDEX_CACHE_INTS = 1 << 24;

/** The model's output for a perturbed image is not finite: the model's own overflow, never worked around. */
export class NonFiniteOutput extends Error {}

export interface IncrementalInfo {
  /** Multiply–adds per perturbed image relative to a full forward pass. */
  fraction: number;
  /** Where the computation turned to whole tensors. */
  stoppedAt?: string;
}

export class IncrementalForward {
  private compiled?: Promise<{ cache: GraphSession; incremental: GraphSession }>;
  private readonly indexCache = new Map<string, Int32Array[]>();
  private indexCached = 0;
  private constructor(
    private readonly model: Model,
    readonly plan: Plan,
    private readonly graphs: IncrementalGraphs,
    readonly info: IncrementalInfo,
  ) {}

  /**
   * The plan for boxes of size `window` at `origins` (patches × spatial rank) in images of extent
   * `spatial` (its graphs are compiled on first use), or a sentence saying why incremental inference
   * cannot be used (a static batch, or no local layer before a global one).
   */
  static async plan(model: Model, spatial: readonly number[], window: readonly number[], origins: Int32Array): Promise<IncrementalForward | string> {
    if (model.staticBatch !== undefined) return `the model's batch is fixed at ${model.staticBatch}`;
    const ir = cloneModel(model.ir);
    const inp = ir.graph.inputs.find((v) => v.name === model.inputName)!;
    const channels = model.inputShape[1];
    if (typeof channels !== 'number') return 'the model has no fixed channel count';
    inp.shape = ['batch', channels, ...spatial];
    const hints = await model.learnShapes([channels, ...spatial]);
    const inferred = inferShapes(ir.graph, hints);
    const plan = planIncremental({
      graph: ir.graph,
      nodes: topoSort(ir.graph),
      shape: (t) => inferred.info.get(t)?.shape ?? null,
      input: model.inputName,
      channels,
      spatial: [...spatial],
      window: [...window],
      origins,
    });
    const fraction = plan.fullMacs > 0 && Number.isFinite(plan.macs / plan.fullMacs) ? plan.macs / plan.fullMacs : 1;
    if (fraction >= 1) return `incremental inference would save 0 % of the arithmetic (whole tensors from ${plan.stoppedAt ?? 'the output'})`;
    const graphs = buildIncrementalGraphs(ir, model.inputName, plan, spatial.length, [...window]);
    return new IncrementalForward(model, plan, graphs, { fraction, stoppedAt: plan.stoppedAt });
  }

  /** Outputs per image. */
  get classes(): number {
    return this.model.numClasses;
  }

  /** FLOPs saved per perturbed image (Conv, Gemm and MatMul multiply–adds × 2). */
  get savedFlops(): number {
    return 2 * (this.plan.fullMacs - this.plan.macs);
  }

  private sessions(): Promise<{ cache: GraphSession; incremental: GraphSession }> {
    this.compiled ??= (async () => {
      const [cache, incremental] = await Promise.all([
        this.model.graphSession(this.graphs.cache, `${this.model.source} (unperturbed activations)`),
        this.model.graphSession(this.graphs.incremental, `${this.model.source} (incremental inference)`),
      ]);
      return { cache, incremental };
    })();
    return this.compiled;
  }

  /** The unperturbed activations the graph reads, of one image [1, C, ...spatial]. */
  async activations(image: Tensor): Promise<Tensor[]> {
    const { cache } = await this.sessions();
    const out = await cache.run({ [this.model.inputName]: image }, this.graphs.cacheOutputs);
    return this.graphs.cacheOutputs.map((name, i) => {
      const t = out[name]!;
      return new Tensor(t.data, t.shape.slice(1)); // [positions, C]
    });
  }

  /** The gathers' indices for patches q0…q1−1 (the same for every image: kept while they are small). */
  private indices(q0: number, q1: number): Int32Array[] {
    const key = `${q0}:${q1}`;
    const hit = this.indexCache.get(key);
    if (hit) return hit;
    const idx = this.graphs.gathers.map((step) => gatherIndices(step, this.plan.boxes.get(step.source)!, q0, q1));
    const n = idx.reduce((a, b) => a + b.length, 0);
    if (this.indexCached + n <= INDEX_CACHE_INTS) {
      this.indexCache.set(key, idx);
      this.indexCached += n;
    }
    return idx;
  }

  async dispose(): Promise<void> {
    if (!this.compiled) return;
    const { cache, incremental } = await this.compiled;
    await Promise.all([cache.release(), incremental.release()]);
  }

  /**
   * Logits [q1 − q0, K] of an image (its `activations`) with box q (q0 ≤ q < q1) replaced by
   * patches[q − q0] ([B, C, ...window]).
   */
  async run(sources: readonly Tensor[], q0: number, q1: number, patches: Tensor): Promise<Tensor> {
    const { incremental } = await this.sessions();
    const feeds: Record<string, Tensor<Float32Array | Int32Array>> = { [this.plan.patchInput]: patches };
    this.graphs.sourceInputs.forEach((name, i) => (feeds[name] = sources[i]!));
    this.indices(q0, q1).forEach((idx, i) => (feeds[this.graphs.indexInputs[i]!] = new Tensor(idx, [q1 - q0, idx.length / (q1 - q0)], 'int32')));
    const out = (await incremental.run(feeds, [this.model.outputName]))[this.model.outputName]!;
    const bad = firstNonFinite(out.data as ArrayLike<number>);
    if (bad >= 0) {
      const k = out.size / out.shape[0]!;
      throw new NonFiniteOutput(`${this.model.source}: the model's output for perturbed image ${q0 + Math.floor(bad / k)} holds ${out.data[bad]} (output ${bad % k}); its weights or an operation overflow — no map is made from it`);
    }
    return out;
  }

}
