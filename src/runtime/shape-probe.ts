/**
 * Shapes learned from the model itself (DESIGN.md §2): graphs whose shapes are computed at run time
 * (Shape → Gather → Concat → Reshape/Slice/Expand, as torch.onnx.export writes transformers and
 * channel-shuffle nets) leave static inference with unknown ranks, sizes and shape values, which backward
 * rules need. This runs the forward graph on two probe batches (2 and 3 images) with every such tensor
 * exposed, and records each one's shape and, for small integer tensors, its values. A dim or value equal to
 * k·batch in both runs becomes the symbol `batch` (k = 1) or `k*batch`; one equal in both runs is that
 * number; anything else stays unknown. Models with a static batch are probed once, at that batch.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { type Dim, type Model as IRModel, DataType, cloneModel } from '../onnx/ir.js';
import { type Inferred, type ShapeHints } from '../onnx/shape-inference.js';
import { serializeModel } from '../onnx/proto.js';
import { Rng } from '../tensor/rng.js';

export interface ProbeOrt {
  InferenceSession: { create(bytes: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
}

const MAX_VALUES = 64;
const INT_TYPES = new Set<number>([DataType.INT64, DataType.INT32]);

/**
 * Node outputs whose shape (or, for small integer tensors, values) static inference left unknown; with
 * `all`, every typed node output (for graphs rewritten after the probe, e.g. training graphs whose lowered
 * convolutions hide shapes that the forward graph's inference knew).
 */
export function unknownTensors(model: IRModel, inferred: Inferred, all = false): string[] {
  const out: string[] = [];
  for (const n of model.graph.nodes) {
    for (const o of n.outputs) {
      if (!o) continue;
      const v = inferred.info.get(o);
      if (!v || !v.elemType) continue; // no type: cannot be declared as an output
      const shapeUnknown = !v.shape || v.shape.some((d) => d === null);
      const small = INT_TYPES.has(v.elemType) && !!v.shape && v.shape.length <= 1 && (v.shape.length === 0 || (typeof v.shape[0] === 'number' && v.shape[0] <= MAX_VALUES));
      const vals = inferred.values.get(o);
      const valuesUnknown = small && (!vals || vals.some((d) => d === null));
      if (all || shapeUnknown || valuesUnknown) out.push(o);
    }
  }
  return out;
}

/** k·batch as a symbol, or null when `a`, `b` (the runs at batches ba, bb) follow no such rule. */
function combine(a: number, b: number, ba: number, bb: number, batchSym: string): Dim {
  if (a === b) return a;
  if (a % ba === 0 && b % bb === 0 && a / ba === b / bb) {
    const k = a / ba;
    return k === 1 ? batchSym : `${k}*${batchSym}`;
  }
  return null;
}

/**
 * Run `model` (forward graph, one image input) on probe batches and return hints for `tensors`.
 * `inputShape`: the full input shape with the batch dim as given by the model (number or symbol).
 */
export async function probeShapes(
  model: IRModel,
  inputName: string,
  inputShape: Dim[],
  spatial: readonly number[],
  tensors: string[],
  inferred: Inferred,
  ort: ProbeOrt,
  options: InferenceSession.SessionOptions = {},
): Promise<ShapeHints> {
  const hints: ShapeHints = new Map();
  if (!tensors.length) return hints;
  const m = cloneModel(model);
  const outs = new Set(m.graph.outputs.map((v) => v.name));
  for (const t of tensors) if (!outs.has(t)) m.graph.outputs.push({ name: t, elemType: inferred.info.get(t)!.elemType, shape: null });
  const session = await ort.InferenceSession.create(serializeModel(m), { graphOptimizationLevel: 'basic', logSeverityLevel: 3, ...options });
  try {
    const b0 = inputShape[0];
    const batches = typeof b0 === 'number' ? [b0] : [2, 3];
    const batchSym = typeof b0 === 'string' ? b0 : 'batch';
    const rng = new Rng(12345);
    const runs: Record<string, OrtTensor>[] = [];
    for (const bsz of batches) {
      const dims = [bsz, ...spatial];
      const n = dims.reduce((p, d) => p * d, 1);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = rng.normal() * 0.5;
      runs.push(await session.run({ [inputName]: new ort.Tensor('float32', data, dims) }, tensors));
    }
    for (const t of tensors) {
      const rs = runs.map((r) => r[t]);
      if (rs.some((r) => !r)) continue;
      const shapes = rs.map((r) => r!.dims as readonly number[]);
      if (shapes.some((s) => s.length !== shapes[0]!.length)) continue;
      const shape: Dim[] = shapes[0]!.map((d, i) => (shapes.length === 1 ? d : combine(d, shapes[1]![i]!, batches[0]!, batches[1]!, batchSym)));
      let values: Dim[] | undefined;
      const vs = rs.map((r) => r!.data);
      if ((rs[0]!.type === 'int64' || rs[0]!.type === 'int32') && shape.length <= 1 && vs.every((v) => v.length === vs[0]!.length && v.length <= MAX_VALUES)) {
        const nums = vs.map((v) => Array.from(v as ArrayLike<number | bigint>, (x) => Number(x)));
        values = nums[0]!.map((x, i) => (nums.length === 1 ? x : combine(x, nums[1]![i]!, batches[0]!, batches[1]!, batchSym)));
      }
      hints.set(t, values ? { shape, values } : { shape });
    }
  } finally {
    await session.release();
  }
  return hints;
}
