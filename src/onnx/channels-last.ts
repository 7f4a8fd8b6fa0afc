/**
 * Channels-last image models. Keras models exported by tf2onnx (and TensorFlow models in general)
 * take [N, H, W, C] images and transpose them to [N, C, H, W] inside the graph, because ONNX's Conv
 * is channels-first; elementwise preprocessing (Keras' Rescaling: Mul, Add) often sits on the NHWC
 * tensor before that Transpose. candor works on [N, C, H, W] images everywhere (loaders, maps,
 * CAM upsampling), so such a model gets a channels-first input of the same name followed by a
 * Transpose to NHWC; onnxruntime folds that Transpose into the model's own. The rewritten graph
 * computes exactly the same function of the image, with its axes in candor's order.
 *
 * Detection (both must hold): the input is [N, H, W, C] with a static C of 1–4 and H not a static
 * 1–4, and following the input through elementwise ops only leads to a Transpose with perm
 * [0, 3, 1, 2] (every path; a Conv or a reshape on the way means the model is not channels-last; a Shape
 * of the NHWC tensor, as tf2onnx emits for dynamic reshapes, is allowed: it still reads that tensor).
 */
import { A, DataType, type Graph, type Model, attrInts, cloneModel } from './ir.js';

/** Ops that keep the layout of their (first) input: the data path may pass through them. */
const ELEMENTWISE = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Cast', 'Identity', 'Clip', 'Relu', 'Neg', 'Abs', 'Sqrt', 'Pow', 'Min', 'Max', 'Sigmoid', 'Tanh',
]);

export type InputLayout = 'auto' | 'nchw' | 'nhwc';

/** Whether the graph's image input is channels-last (see the file comment). */
export function isChannelsLast(g: Graph, input: string): boolean {
  const shape = g.inputs.find((v) => v.name === input)?.shape;
  if (!shape || shape.length !== 4) return false;
  const [, h, , c] = shape;
  if (typeof c !== 'number' || c < 1 || c > 4) return false;
  if (typeof h === 'number' && h <= 4) return false;
  const consumers = new Map<string, typeof g.nodes>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  let reached = false;
  const seen = new Set<string>();
  const stack = [input];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    for (const n of consumers.get(t) ?? []) {
      if (n.opType === 'Transpose') {
        const perm = attrInts(n, 'perm');
        if (perm?.join() !== '0,3,1,2') return false;
        reached = true;
      } else if (ELEMENTWISE.has(n.opType) && n.domain === '') stack.push(...n.outputs);
      else if (n.opType === 'Shape' && n.domain === '') continue; // reads the NHWC tensor's shape, which it still gets
      else return false;
    }
  }
  return reached;
}

/**
 * The model with a channels-first image input when its input is channels-last (layout 'auto'
 * detects, 'nhwc' asserts, 'nchw' leaves the model alone); `channelsLast` says whether it was.
 */
export function toChannelsFirst(ir: Model, input: string, layout: InputLayout = 'auto', source = 'model'): { model: Model; channelsLast: boolean } {
  if (layout === 'nchw') return { model: ir, channelsLast: false };
  const v = ir.graph.inputs.find((i) => i.name === input)!;
  if (layout === 'auto' && !isChannelsLast(ir.graph, input)) return { model: ir, channelsLast: false };
  if (!v.shape || v.shape.length !== 4) {
    throw new Error(`${source}: input '${input}' is [${v.shape?.join(', ') ?? '?'}]; a channels-last (NHWC) image input must be 4-D`);
  }
  const model = cloneModel(ir);
  const g = model.graph;
  const inner = `${input}__nhwc`;
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === input ? inner : i));
  g.nodes.unshift({ opType: 'Transpose', domain: '', name: `${input}__to_nhwc`, inputs: [input], outputs: [inner], attrs: { perm: A.ints([0, 2, 3, 1]) } });
  const [n, h, w, c] = v.shape;
  const gi = g.inputs.findIndex((i) => i.name === input);
  g.inputs[gi] = { name: input, elemType: v.elemType ?? DataType.FLOAT, shape: [n!, c!, h!, w!] };
  g.valueInfo.delete(inner);
  return { model, channelsLast: true };
}
