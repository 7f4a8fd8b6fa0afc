/**
 * Incremental inference, run: the logits of an image with one box replaced, for many boxes, computing in
 * each layer only what the box can change (plan.ts) — for occlusion and grid feature ablation.
 *
 *   const inc = await IncrementalForward.create(model, spatial, window, origins);   // or a reason not to
 *   await inc.setImage(image);                         // the unperturbed activations, once per image
 *   const logits = await inc.run(q0, q1, patches);      // patches q0…q1−1: their boxes' new values
 *
 * `create` returns a string instead when the model cannot be treated (a static batch, no local layer
 * before a global one), when the plan saves less than `minSaving` of the arithmetic, or less than
 * `minSavedFlops` over all the passes asked for: the caller then computes directly and says why.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import type { GraphSession } from '../../runtime/session.js';
import { cloneModel, topoSort } from '../../onnx/ir.js';
import { inferShapes } from '../../onnx/shape-inference.js';
import { planIncremental, type Plan } from './plan.js';
import { buildIncrementalGraphs, gatherIndices, type IncrementalGraphs } from './graph.js';

export interface IncrementalInfo {
  /** Multiply–adds per perturbed image relative to a full forward pass. */
  fraction: number;
  /** Where the computation turned to whole tensors. */
  stoppedAt?: string;
}

export class IncrementalForward {
  private sources: Tensor[] = [];
  private constructor(
    private readonly model: Model,
    readonly plan: Plan,
    private readonly graphs: IncrementalGraphs,
    private readonly cacheSession: GraphSession,
    private readonly session: GraphSession,
    readonly info: IncrementalInfo,
  ) {}

  /**
   * Plan and compile for boxes of size `window` at `origins` (patches × spatial rank) in images of
   * extent `spatial`; a string says why incremental inference is not used.
   */
  static async create(
    model: Model,
    spatial: readonly number[],
    window: readonly number[],
    origins: Int32Array,
    opts: { minSaving?: number; images?: number; minSavedFlops?: number } = {},
  ): Promise<IncrementalForward | string> {
    if (model.staticBatch !== undefined) return `the model's batch is fixed at ${model.staticBatch}`;
    const ir = cloneModel(model.ir);
    const inp = ir.graph.inputs.find((v) => v.name === model.inputName)!;
    const channels = model.inputShape[1];
    if (typeof channels !== 'number') return 'the model has no fixed channel count';
    inp.shape = ['batch', channels, ...spatial];
    const hints = await model.learnShapes([channels, ...spatial]);
    const inferred = inferShapes(ir.graph, hints);
    const inits = new Set(ir.graph.initializers.keys());
    const plan = planIncremental({
      graph: ir.graph,
      nodes: topoSort(ir.graph),
      shape: (t) => inferred.info.get(t)?.shape ?? null,
      isConstant: (t) => inits.has(t),
      input: model.inputName,
      channels,
      spatial: [...spatial],
      window: [...window],
      origins,
    });
    const fraction = plan.fullMacs > 0 ? plan.macs / plan.fullMacs : 1;
    const info: IncrementalInfo = { fraction, stoppedAt: plan.stoppedAt };
    const minSaving = opts.minSaving ?? 0;
    if (1 - fraction < minSaving || fraction >= 1) {
      return `incremental inference would save ${((1 - fraction) * 100).toFixed(0)} % of the arithmetic (whole tensors from ${plan.stoppedAt ?? 'the output'})`;
    }
    // compiling two graphs and one cached pass per image cost ~0.05–0.5 s: not worth it for a few passes
    const saved = 2 * (plan.fullMacs - plan.macs) * (origins.length / spatial.length) * (opts.images ?? 1);
    if (opts.minSavedFlops !== undefined && saved < opts.minSavedFlops) {
      return `incremental inference would save ${(saved / 1e9).toFixed(1)} GFLOP in all, less than compiling its graphs costs`;
    }
    const graphs = buildIncrementalGraphs(ir, model.inputName, plan, spatial.length, [...window]);
    const [cacheSession, session] = await Promise.all([
      model.graphSession(graphs.cache, `${model.source} (unperturbed activations)`),
      model.graphSession(graphs.incremental, `${model.source} (incremental inference)`),
    ]);
    return new IncrementalForward(model, plan, graphs, cacheSession, session, info);
  }

  /** Record the unperturbed activations of one image [C, ...spatial] (or [1, C, ...spatial]). */
  async setImage(image: Tensor): Promise<void> {
    const x = image.shape[0] === 1 && image.shape.length === this.model.inputShape.length ? image : new Tensor(image.data, [1, ...image.shape]);
    const out = await this.cacheSession.run({ [this.model.inputName]: x }, this.graphs.cacheOutputs);
    this.sources = this.graphs.cacheOutputs.map((name, i) => {
      const t = out[name]!;
      const box = this.plan.boxes.get(this.plan.sources[i]!)!;
      return new Tensor(t.data, [t.shape[1]!, box.channels]);
    });
  }

  /** Logits [q1 − q0, K] of the image with box q (q0 ≤ q < q1) replaced by patches[q − q0] ([B, C, ...window]). */
  async run(q0: number, q1: number, patches: Tensor): Promise<Tensor> {
    if (!this.sources.length) throw new Error('incremental inference: setImage first');
    const feeds: Record<string, Tensor<Float32Array | Int32Array>> = { [this.plan.patchInput]: patches };
    this.graphs.sourceInputs.forEach((name, i) => (feeds[name] = this.sources[i]!));
    this.graphs.gathers.forEach((step, i) => {
      const idx = gatherIndices(step, this.plan.boxes.get(step.source)!, q0, q1);
      feeds[this.graphs.indexInputs[i]!] = new Tensor(idx, [q1 - q0, idx.length / (q1 - q0)], 'int32');
    });
    const out = (await this.session.run(feeds, [this.model.outputName]))[this.model.outputName]!;
    const bad = out.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      const k = out.size / out.shape[0]!;
      throw new Error(`${this.model.source}: the model's output for perturbed image ${q0 + Math.floor(bad / k)} holds ${out.data[bad]} (output ${bad % k}); its weights or an operation overflow — no map is made from it`);
    }
    return out;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.cacheSession.release(), this.session.release()]);
  }
}
