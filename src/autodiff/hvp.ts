/**
 * Hessian-vector products at an intermediate layer, as one ONNX graph: the VJP graph differentiated again
 * (DESIGN.md §2, "second derivatives"). ShapleyCAM needs H·v with H = ∂²T/∂A² for a layer A and a target
 * score T of the logits y (pytorch-grad-cam's `torch.autograd.grad(grads, activations, grad_outputs=v)`).
 *
 *   1. The first VJP graph of the model gives g = ∂T/∂A = Jᵀ s for a cotangent s on the logits. Its seed
 *      input is replaced by s computed *inside* the graph from the logits, so that the second sweep also
 *      differentiates s(y): for the raw logit s = e_c (constant); for pytorch-grad-cam's ReST score
 *      T = y_c − CE(y, c) = 2 y_c − logsumexp(y), s = 2 e_c − softmax(y).
 *   2. u = Σ g ⊙ v per image (v an input, the direction), and the VJP of that graph with respect to A:
 *      ∂u/∂A = H v  (= Jᵀ ∇²T (J v) + Σ_k s_k ∇²y_k v: the score's curvature through the head, and the
 *      curvature of the part of the network after A — zero almost everywhere for ReLU/max-pool/linear parts,
 *      where the rectifiers' masks, boolean tensors, are not differentiated, as autograd treats them).
 *
 * Every op of the first VJP graph needs a backward rule of its own (Where, ScatterElements, ConvTranspose,
 * Expand… have them); a missing one is reported with the op, as for first derivatives.
 *
 * Graph inputs: the model's input, `onehot` [N, K] (e_c per image), `hvp:v` (A's shape).
 * Outputs: the logits, `hvp:grad` (g = ∂T/∂A) and `hvp:Hv`.
 */
import { GraphBuilder } from '../onnx/builder.js';
import { type Dim, type Model, A as Attr, DataType, cloneModel } from '../onnx/ir.js';
import type { ShapeHints } from '../onnx/shape-inference.js';
import { buildVjp } from './vjp.js';

/** The target score whose curvature is taken: the raw logit y_c, or ReST = y_c − cross-entropy(y, c). */
export type HvpScore = 'logit' | 'rest';

export interface HvpGraph {
  model: Model;
  onehot: string;
  direction: string;
  grad: string;
  hvp: string;
  /** The first graph's output name for the logits (kept). */
  logits: string;
}

export function buildHvp(
  forward: Model,
  req: { layer: string; score: HvpScore; source?: string; inputShapes?: Record<string, Dim[]>; shapeHints?: ShapeHints },
): HvpGraph {
  const source = req.source ?? 'model';
  const logits = forward.graph.outputs[0]?.name;
  if (!logits) throw new Error(`${source}: the model has no outputs`);
  const first = buildVjp(forward, { wrt: [req.layer], source, inputShapes: req.inputShapes, shapeHints: req.shapeHints, seedName: 'hvp:seed1' });
  const m = cloneModel(first.model);
  const g = m.graph;
  const b = new GraphBuilder(g, 'hvp');
  // The seed becomes s(y), computed from the logits and a one-hot input.
  const seedInput = g.inputs.find((v) => v.name === first.seed)!;
  g.inputs = g.inputs.filter((v) => v !== seedInput);
  const onehot = 'hvp:onehot';
  g.inputs.push({ name: onehot, elemType: DataType.FLOAT, shape: seedInput.shape });
  if (req.score === 'rest') {
    const p = b.op('Softmax', [logits], { axis: Attr.i(1) });
    b.node('Sub', [b.op('Mul', [onehot, b.float(2)]), p], {}, 1, [first.seed]);
  } else {
    b.node('Identity', [onehot], {}, 1, [first.seed]);
  }
  // The first gradient keeps its value under its own name (the second sweep adds its own grad:<layer>).
  const gradOut = first.grads.get(req.layer)!;
  const grad = 'hvp:grad';
  for (const n of g.nodes) n.outputs = n.outputs.map((o) => (o === gradOut ? grad : o));
  const gradInfo = g.outputs.find((o) => o.name === gradOut)!;
  gradInfo.name = grad;
  const direction = 'hvp:v';
  g.inputs.push({ name: direction, elemType: DataType.FLOAT, shape: gradInfo.shape });
  const rank = gradInfo.shape?.length;
  if (!rank) throw new Error(`${source}: the rank of layer '${req.layer}' is unknown`);
  const axes = b.int64(Array.from({ length: rank - 1 }, (_, i) => i + 1));
  const u = b.op('ReduceSum', [b.op('Mul', [grad, direction]), axes], { keepdims: Attr.i(0) });
  g.outputs.unshift({ name: u, elemType: DataType.FLOAT, shape: [gradInfo.shape![0]!] });
  const second = buildVjp(m, { output: u, wrt: [req.layer], source, seedName: 'hvp:seed2', shapeHints: req.shapeHints });
  // u and its seed are internal: the seed is fixed to ones per image.
  const sg = second.model.graph;
  const seed2 = sg.inputs.find((v) => v.name === second.seed)!;
  sg.inputs = sg.inputs.filter((v) => v !== seed2);
  const b2 = new GraphBuilder(sg, 'hvp2');
  b2.node('ConstantOfShape', [b2.op('Shape', [u])], { value: { type: 'tensor', value: { name: '', dataType: DataType.FLOAT, dims: [1], data: new Float32Array([1]) } } }, 1, [second.seed]);
  const hvpOut = second.grads.get(req.layer)!;
  sg.outputs = sg.outputs.filter((o) => o.name === logits || o.name === grad || o.name === hvpOut);
  return { model: second.model, onehot, direction, grad, hvp: hvpOut, logits };
}
