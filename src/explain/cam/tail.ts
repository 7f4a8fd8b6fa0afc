/**
 * The part of a model after one of its layers, as its own graph (ONNX, onnxruntime session made on first use):
 * Ablation-CAM runs it on ablated activations, Deep Feature Factorization on its concepts' signatures, and the
 * applicability check reads its frontier. Errors name the method that asked ('ablationcam' historically).
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { type Model as IRModel, type Node, DataType, producers, cloneModel, topoSort } from '../../onnx/ir.js';
import type { GraphSession } from '../../runtime/session.js';

/**
 * The part of the graph after a layer: from the layer tensor and the tensors computed before it that the
 * rest still reads (`frontier`: skip connections, e.g. a transformer block's residual around its norm),
 * to the logits. Run with the (ablated) layer and, per row, the frontier values of the same image.
 */
export interface Tail {
  layer: string;
  frontier: string[];
  run(layer: Tensor, frontier: Tensor[]): Promise<Tensor>;
  dispose(): Promise<void>;
}

const tails = new WeakMap<Model, Map<string, Tail>>();

/** The tail after `layer` (cached per model and layer). */
export function tailModel(model: Model, layer: string): Tail {
  let byLayer = tails.get(model);
  if (!byLayer) tails.set(model, (byLayer = new Map()));
  const cached = byLayer.get(layer);
  if (cached) return cached;
  const g = model.ir.graph;
  const prod = producers(g);
  const inits = g.initializers;
  // Tensors that depend on the layer.
  const after = new Set([layer]);
  const fromImage = new Set([model.inputName]);
  for (const n of topoSort(g)) {
    if (n.inputs.some((i) => after.has(i))) for (const o of n.outputs) if (o) after.add(o);
    if (n.inputs.some((i) => fromImage.has(i))) for (const o of n.outputs) if (o) fromImage.add(o);
  }
  const keep = new Set<Node>();
  const usedInits = new Set<string>();
  const frontier: string[] = [];
  const stack = [model.outputName];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (!t || seen.has(t) || t === layer) continue;
    seen.add(t);
    if (inits.has(t)) {
      usedInits.add(t);
      continue;
    }
    const n = prod.get(t);
    // A float tensor computed from the image before the layer is fed; constants and shape arithmetic
    // (Shape of such a tensor) are recomputed inside the tail.
    if (!after.has(t) && (!n || (fromImage.has(t) && (model.inferred.info.get(t)?.elemType ?? 1) === DataType.FLOAT))) {
      if (!n && !g.inputs.some((v) => v.name === t)) throw new Error(`${model.source}: ablationcam: tensor '${t}' has no producer`);
      frontier.push(t);
      continue;
    }
    if (!n) throw new Error(`${model.source}: ablationcam: tensor '${t}' has no producer`);
    if (Object.values(n.attrs).some((a) => a.type === 'graph' || a.type === 'graphs')) {
      throw new Error(`${model.source}: ablationcam: node ${n.name || n.opType} after layer '${layer}' has a sub-graph, which the tail extraction does not support`);
    }
    keep.add(n);
    for (const i of n.inputs) stack.push(i);
  }
  const info = (t: string) => {
    const v = model.inferred.info.get(t);
    if (!v?.shape) throw new Error(`${model.source}: ablationcam: unknown shape for '${t}' (needed by the part of the graph after layer '${layer}')`);
    return { name: t, elemType: v.elemType || 1, shape: ['N', ...v.shape.slice(1)] };
  };
  const ir: IRModel = cloneModel(model.ir);
  ir.graph.nodes = g.nodes.filter((n) => keep.has(n)).map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] }));
  ir.graph.initializers = new Map([...inits].filter(([k]) => usedInits.has(k)));
  ir.graph.inputs = [info(layer), ...frontier.map(info)];
  ir.graph.outputs = [g.outputs[0]!];
  ir.graph.valueInfo = new Map([...g.valueInfo].filter(([k]) => seen.has(k)));
  const source = `${model.source} [after ${layer}]`;
  let session: Promise<GraphSession> | undefined;
  const tail: Tail = {
    layer,
    frontier,
    async run(x, fr) {
      session ??= model.graphSession(ir, source);
      const s = await session;
      const feeds: Record<string, Tensor> = { [layer]: x };
      frontier.forEach((f, i) => (feeds[f] = fr[i]!));
      const out = await s.run(feeds, [model.outputName]);
      return out[model.outputName]!;
    },
    async dispose() {
      if (session) await (await session).release();
      session = undefined;
      byLayer.delete(layer);
    },
  };
  byLayer.set(layer, tail);
  return tail;
}

