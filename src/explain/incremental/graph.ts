/**
 * Incremental inference, the graphs (plan.ts says what is computed where):
 *
 *  - the cache graph: the model with, for every tensor the plan gathers from, its unperturbed values laid
 *    out as rows of channels, [N, positions, C] (run once per image);
 *  - the incremental graph: inputs are the perturbed box of the input [B, C, ...window], each source's
 *    unperturbed rows [positions, C] and, per gather, int32 row indices [B, window positions]. A gather
 *    reads rows of  Concat(unperturbed rows, the box's new rows (B·box positions), one padding row)  —
 *    one plain Gather per window, no scatter — and lays them back out as [B, C, ...window].
 *
 * gatherIndices computes those indices for a run of patches (C order, positions outside the tensor
 * pointing at the padding row).
 */
import { type Graph, type Model as IRModel, DataType, cloneModel } from '../../onnx/ir.js';
import { GraphBuilder } from '../../onnx/builder.js';
import type { Box, GatherStep, Plan } from './plan.js';

const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);
const toRows = (rank: number) => [0, ...Array.from({ length: rank }, (_, a) => a + 2), 1];

export interface IncrementalGraphs {
  cache: IRModel;
  /** Cache graph outputs, one per plan source. */
  cacheOutputs: string[];
  incremental: IRModel;
  /** Incremental graph inputs: one per plan source (unperturbed rows), one per gather step (indices). */
  sourceInputs: string[];
  indexInputs: string[];
  gathers: GatherStep[];
}

export function buildIncrementalGraphs(model: IRModel, inputName: string, plan: Plan, rank: number, window: number[]): IncrementalGraphs {
  // cache graph: the model plus each source as rows
  const cache = cloneModel(model);
  const cb = new GraphBuilder(cache.graph, 'inc_cache');
  const cacheOutputs = plan.sources.map((s) => {
    const box = plan.boxes.get(s)!;
    const t = cb.op('Transpose', [s], { perm: { type: 'ints', value: toRows(rank) } });
    const out = cb.op('Reshape', [t, cb.int64([0, -1, box.channels])]);
    cache.graph.outputs.push({ name: out, elemType: DataType.FLOAT, shape: ['batch', prod(box.full), box.channels] });
    return out;
  });

  const inp = model.graph.inputs.find((v) => v.name === inputName)!;
  const channels = plan.boxes.get(inputName)?.channels ?? (inp.shape?.[1] as number);
  const graph: Graph = {
    name: `${model.graph.name}_incremental`,
    nodes: [],
    inputs: [{ name: plan.patchInput, elemType: DataType.FLOAT, shape: ['batch', channels, ...window] }],
    outputs: model.graph.outputs.map((o) => ({ ...o, shape: o.shape ? [...o.shape] : null })),
    initializers: new Map(model.graph.initializers),
    valueInfo: new Map(),
  };
  const b = new GraphBuilder(graph, 'inc');
  const sourceInputs = plan.sources.map((s, i) => {
    const box = plan.boxes.get(s)!;
    const name = `inc/cache/${i}`;
    graph.inputs.push({ name, elemType: DataType.FLOAT, shape: [prod(box.full), box.channels] });
    return name;
  });
  const rowsOf = new Map<string, string>();
  const indexInputs: string[] = [];
  const gathers: GatherStep[] = [];
  for (const step of plan.steps) {
    if (step.kind === 'node') {
      graph.nodes.push(step.node);
      continue;
    }
    const box = plan.boxes.get(step.source)!;
    const key = `${step.source}|${step.pad}`;
    let rows = rowsOf.get(key);
    if (!rows) {
      const local = b.op('Reshape', [b.op('Transpose', [step.local], { perm: { type: 'ints', value: toRows(rank) } }), b.int64([-1, box.channels])]);
      const padRow = b.initializer('pad_row', DataType.FLOAT, [1, box.channels], new Float32Array(box.channels).fill(step.pad));
      rows = b.op('Concat', [sourceInputs[plan.sources.indexOf(step.source)]!, local, padRow], { axis: { type: 'int', value: 0 } });
      rowsOf.set(key, rows);
    }
    const idx = `inc/index/${indexInputs.length}`;
    graph.inputs.push({ name: idx, elemType: DataType.INT32, shape: ['batch', prod(step.size)] });
    indexInputs.push(idx);
    gathers.push(step);
    const g = b.op('Gather', [rows, idx], { axis: { type: 'int', value: 0 } }); // [B, window positions, C]
    const t = b.op('Transpose', [g], { perm: { type: 'ints', value: [0, 2, 1] } });
    b.node('Reshape', [t, b.int64([-1, box.channels, ...step.size])], {}, 1, [step.out]);
  }
  const incremental: IRModel = { ...model, opsets: new Map(model.opsets), graph, passthrough: { ...model.passthrough } };
  return { cache, cacheOutputs, incremental, sourceInputs, indexInputs, gathers };
}

/**
 * Row indices of one gather for patches q0 … q1−1 of the plan (batch row j = patch q0 + j), into
 * Concat(unperturbed rows [P], box rows [(q1 − q0)·box positions], padding row).
 */
export function gatherIndices(step: GatherStep, source: Box, q0: number, q1: number): Int32Array {
  const rank = source.full.length;
  const full = source.full;
  const P = prod(full);
  const boxPositions = prod(source.size);
  const batch = q1 - q0;
  const padRow = P + batch * boxPositions;
  const m = prod(step.size);
  const out = new Int32Array(batch * m);
  const fullStride = new Array<number>(rank);
  const boxStride = new Array<number>(rank);
  fullStride[rank - 1] = 1;
  boxStride[rank - 1] = 1;
  for (let a = rank - 2; a >= 0; a--) {
    fullStride[a] = fullStride[a + 1]! * full[a + 1]!;
    boxStride[a] = boxStride[a + 1]! * source.size[a + 1]!;
  }
  const w = new Array<number>(rank);
  for (let j = 0; j < batch; j++) {
    const q = q0 + j;
    const boxBase = P + j * boxPositions;
    w.fill(0);
    for (let e = 0; e < m; e++) {
      let outside = false;
      let inBox = true;
      let fullFlat = 0;
      let boxFlat = 0;
      for (let a = 0; a < rank; a++) {
        const g = step.origins[q * rank + a]! + w[a]!;
        if (g < 0 || g >= full[a]!) {
          outside = true;
          break;
        }
        fullFlat += g * fullStride[a]!;
        const rel = g - source.origins[q * rank + a]!;
        if (rel < 0 || rel >= source.size[a]!) inBox = false;
        else boxFlat += rel * boxStride[a]!;
      }
      out[j * m + e] = outside ? padRow : inBox ? boxBase + boxFlat : fullFlat;
      for (let a = rank - 1; a >= 0; a--) {
        if (++w[a]! < step.size[a]!) break;
        w[a] = 0;
      }
    }
  }
  return out;
}
