/**
 * Models whose output is already a probability. candor explains logits (Captum's and
 * pytorch-grad-cam's convention; tf-keras-vis recommends replacing the last activation by a linear
 * one for the same reason: a saturated softmax or sigmoid has vanishing gradients) and computes
 * probabilities itself as softmax(logits). Keras classifiers end in Dense(softmax), or Dense(1,
 * sigmoid) for two classes; taken as logits, their outputs would be softmaxed twice, silently wrong.
 * So the output head is rewritten, the output keeping its name:
 *   Softmax / LogSoftmax over the class axis → removed: the output is its input z, and softmax(z) is
 *     exactly the file's probabilities (or exp of its log-probabilities);
 *   Sigmoid on a single unit z ([N, 1]) → two logits [−z/2, z/2]: softmax gives exactly
 *     [1 − σ(z), σ(z)]; the class-1 logit's gradient is half of z's (the map of class 0 is its negative,
 *     tf-keras-vis' BinaryScore(False) up to the same ½);
 *   a single raw output z ([N, 1], e.g. a PyTorch model trained with BCEWithLogitsLoss) → the same
 *     two logits [−z/2, z/2] ('single-logit'), so that its probability is σ(z), not softmax of one value.
 *   Sigmoid over several units ([N, K], K > 1) → removed ('sigmoid-multilabel'): a multi-label head of K
 *     independent sigmoids; the output is the K logits z_k, each explained on its own, and the model's
 *     probabilities are σ(z_k) (runtime/model.ts), not a softmax.
 */
import { A, DataType, type Graph, type Model, type Node, attrInt, cloneModel, defaultOpset } from './ir.js';
import type { Inferred } from './shape-inference.js';

export type OutputActivation = 'none' | 'softmax' | 'log-softmax' | 'sigmoid' | 'single-logit' | 'sigmoid-multilabel';

/** The node that produces `output`, looking through Identity nodes (`path`: their indices and its own). */
function producer(g: Graph, output: string): { node: Node; path: number[] } | undefined {
  let name = output;
  const path: number[] = [];
  for (;;) {
    const index = g.nodes.findIndex((n) => n.outputs.includes(name));
    if (index < 0) return undefined;
    const node = g.nodes[index]!;
    path.push(index);
    if (node.opType !== 'Identity') return { node, path };
    name = node.inputs[0]!;
  }
}

/**
 * The model with logits as its output (see the file comment). `inferred` are the shapes of `ir`;
 * the output must already be [N, K].
 */
export function toLogits(ir: Model, inferred: Inferred): { model: Model; activation: OutputActivation } {
  const g = ir.graph;
  const output = g.outputs[0]!.name;
  const k = inferred.info.get(output)?.shape?.[1];
  const found = producer(g, output);
  if (!found || found.node.domain !== '' || (found.node.opType !== 'Sigmoid' && !found.node.opType.endsWith('Softmax'))) {
    return k === 1 ? { model: replaceHead(ir, [], `${output}__z`, 'halves'), activation: 'single-logit' } : { model: ir, activation: 'none' };
  }
  const { node, path } = found;
  // The head's outputs must feed nothing but the graph output.
  if (g.nodes.some((n, i) => !path.includes(i) && n.inputs.some((t) => node.outputs.includes(t)))) return { model: ir, activation: 'none' };
  const rank = inferred.info.get(node.inputs[0]!)?.shape?.length;
  if (rank !== 2) return { model: ir, activation: 'none' };
  const opset = defaultOpset(ir);
  if (node.opType === 'Softmax' || node.opType === 'LogSoftmax') {
    const axis = attrInt(node, 'axis', opset >= 13 ? -1 : 1);
    if (axis !== 1 && axis !== -1) return { model: ir, activation: 'none' };
    return { model: replaceHead(ir, path, node.inputs[0]!, 'identity'), activation: node.opType === 'Softmax' ? 'softmax' : 'log-softmax' };
  }
  if (node.opType === 'Sigmoid') {
    if (k !== 1) return { model: replaceHead(ir, path, node.inputs[0]!, 'identity'), activation: 'sigmoid-multilabel' };
    return { model: replaceHead(ir, path, node.inputs[0]!, 'halves'), activation: 'sigmoid' };
  }
  return { model: ir, activation: 'none' };
}

/**
 * Drop the head node and the Identity nodes after it (`path`; empty: keep every node and rename the old
 * output to `${out}__z`), and compute the graph output from `z`: as it is ('identity'), or as the two
 * logits [−z/2, z/2] ('halves', the output becoming [N, 2]).
 */
function replaceHead(ir: Model, path: number[], z: string, logits: 'identity' | 'halves'): Model {
  const model = cloneModel(ir);
  const g = model.graph;
  const out = g.outputs[0]!.name;
  g.nodes = g.nodes.filter((_, i) => !path.includes(i));
  if (!path.length) {
    const rename = (t: string) => (t === out ? `${out}__z` : t);
    for (const n of g.nodes) {
      n.inputs = n.inputs.map(rename);
      n.outputs = n.outputs.map(rename);
    }
  }
  const node = (opType: string, name: string, inputs: string[], output: string, attrs = {}) => g.nodes.push({ opType, domain: '', name, inputs, outputs: [output], attrs });
  if (logits === 'identity') node('Identity', `${out}__logits`, [z], out);
  else {
    for (const [suffix, v] of [['neg_half', -0.5], ['half', 0.5]] as const) {
      const c = `${out}__c_${suffix}`;
      g.initializers.set(c, { name: c, dataType: DataType.FLOAT, dims: [], data: new Float32Array([v]) });
      node('Mul', `${out}__${suffix}`, [z, c], `${out}__${suffix}`);
    }
    node('Concat', `${out}__logits`, [`${out}__neg_half`, `${out}__half`], out, { axis: A.i(1) });
    const o = g.outputs[0]!;
    if (o.shape) g.outputs[0] = { ...o, shape: [o.shape[0] ?? 'batch', 2] };
  }
  g.valueInfo.delete(out);
  return model;
}

/**
 * Finding k of a multi-label model (logits z [N, K]) as a binary classifier with logits [−z_k/2, z_k/2]:
 * its softmax is [1 − σ(z_k), σ(z_k)] and its class-1 maps are those of z_k/2 (the single-sigmoid
 * convention above). The audit of a multi-label model runs on this view, one finding at a time.
 */
export function findingView(ir: Model, k: number): Model {
  const model = cloneModel(ir);
  const g = model.graph;
  const out = g.outputs[0]!.name;
  const z = `${out}__all_findings`;
  for (const n of g.nodes) n.outputs = n.outputs.map((t) => (t === out ? z : t));
  for (const n of g.nodes) n.inputs = n.inputs.map((t) => (t === out ? z : t));
  const idx = `${out}__finding_index`;
  const half = `${out}__finding_halves`;
  g.initializers.set(idx, { name: idx, dataType: DataType.INT64, dims: [1], data: BigInt64Array.from([BigInt(k)]) });
  g.initializers.set(half, { name: half, dataType: DataType.FLOAT, dims: [2], data: new Float32Array([-0.5, 0.5]) });
  g.nodes.push({ opType: 'Gather', domain: '', name: `${out}__finding`, inputs: [z, idx], outputs: [`${out}__zk`], attrs: { axis: A.i(1) } });
  g.nodes.push({ opType: 'Mul', domain: '', name: `${out}__finding_logits`, inputs: [`${out}__zk`, half], outputs: [out], attrs: {} });
  const o = g.outputs[0]!;
  g.outputs[0] = { ...o, shape: [o.shape?.[0] ?? 'batch', 2] };
  g.valueInfo.delete(out);
  return model;
}
