/**
 * Incremental inference (Krypton: Nakandala, Kumar & Papakonstantinou, SIGMOD 2019), the plan.
 *
 * A perturbation that changes only a box of the input (an occlusion window, a grid cell) changes, in
 * each later layer, only that box grown by the layer's receptive field. The plan walks the forward
 * graph once and records, for every tensor that depends on the input, the box it can differ in — one
 * size per spatial axis, the same for every patch (the largest needed, so one graph serves all), and one
 * origin per patch — until a box covers its whole tensor or an op is met that is not local:
 *
 *  - windowed ops (Conv, MaxPool, AveragePool): for an input box [a, a+n) on an axis with kernel k,
 *    stride s, begin pad p, dilation d, the outputs that read it are
 *      o ∈ [max(0, ⌈(a + p − (k−1)d)/s⌉), min(L_out − 1, ⌊(a + n − 1 + p)/s⌋)];
 *    their size m is the largest over patches; the origin o₀ is clamped to L_out − m so the box stays
 *    inside. Computing that box reads the input window [o₀s − p, o₀s − p + (m−1)s + (k−1)d + 1),
 *    gathered from the unperturbed activations and the box's new values (out-of-range positions take
 *    the op's padding value: 0, or −∞ for MaxPool), then the op runs unpadded;
 *  - element-wise ops keep the box; binary element-wise ops and channel Concat take the union of
 *    their operands' boxes (each operand re-gathered to it); constant operands must not vary in space;
 *  - anything else (global pooling, Flatten, Gemm, Resize, attention, …): its inputs are gathered to
 *    their whole extent ("materialised") and the node runs as in the model, as do all nodes after it.
 *
 * Everything is exact: the same arithmetic on the same values, only less of it (float32 rounding may
 * differ because onnxruntime sums in another order on smaller windows).
 */
import { type Graph, type Node, attrInt, attrInts, attrString, describeNode } from '../../onnx/ir.js';

/** Where a tensor of the incremental graph can differ from the unperturbed one. */
export interface Box {
  /** The tensor's spatial extent (all of it). */
  full: number[];
  channels: number;
  /** Box size per spatial axis (the same for every patch). */
  size: number[];
  /** Box origin per patch: patches × rank, C order. */
  origins: Int32Array;
}

/** Gather `out` = [B, C, ...size] from the unperturbed `source` and its new values, at per-patch origins. */
export interface GatherStep {
  kind: 'gather';
  out: string;
  source: string;
  /** The source's box values in the incremental graph, [B, C, ...box size]. */
  local: string;
  /** Value of positions outside the tensor (the consuming op's padding). */
  pad: number;
  size: number[];
  /** Window origins per patch (may be negative or run past the end: padding). */
  origins: Int32Array;
}

/** Emit a node of the model: inputs and outputs renamed, attributes possibly replaced (windowed ops: unpadded). */
export interface NodeStep {
  kind: 'node';
  node: Node;
}

export type Step = GatherStep | NodeStep;

export interface Plan {
  steps: Step[];
  /** Boxes of every tensor that is a gather source (its unperturbed activations are fed to the graph). */
  boxes: Map<string, Box>;
  /** Tensors whose unperturbed activations the graph reads, in feed order. */
  sources: string[];
  /** Name of the perturbed input box, [B, C, ...window]. */
  patchInput: string;
  /** The node at which the plan turned to whole tensors, and why (undefined: at the head). */
  stoppedAt?: string;
  /** Multiply–adds of the plan's Conv/Gemm/MatMul per patch, and of a full forward pass. */
  macs: number;
  fullMacs: number;
  /** Values gathered per patch (Σ over gathers of window positions × channels): the plan's data movement. */
  gathered: number;
}

const UNARY = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Softplus', 'Softsign', 'Erf',
  'Identity', 'Neg', 'Abs', 'Exp', 'Sqrt', 'Gelu', 'Mish', 'Celu', 'ThresholdedRelu', 'Floor', 'Ceil', 'Round', 'Sign', 'Log', 'Reciprocal',
  'Sin', 'Cos',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow', 'PRelu', 'Sum']);
const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);

interface Window {
  k: number[];
  s: number[];
  d: number[];
  p: number[];
  pad: number;
}

/** The window of a Conv/MaxPool/AveragePool this plan can compute in pieces, or why not. */
function windowOf(node: Node, rank: number, inFull: number[], outFull: number[], convKernel: number[] | undefined): Window | string {
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') return `auto_pad ${autoPad}`;
  const kernel = attrInts(node, 'kernel_shape') ?? convKernel;
  if (!kernel || kernel.length !== rank) return 'no kernel_shape of the spatial rank';
  const s = attrInts(node, 'strides', Array(rank).fill(1));
  const d = attrInts(node, 'dilations', Array(rank).fill(1));
  const pads = autoPad === 'VALID' ? Array(2 * rank).fill(0) : attrInts(node, 'pads', Array(2 * rank).fill(0));
  const p = pads.slice(0, rank);
  for (let a = 0; a < rank; a++) {
    // the output length must be the floor rule (ceil_mode's extra windows read past the padding)
    const span = (kernel[a]! - 1) * d[a]! + 1;
    if (outFull[a] !== Math.floor((inFull[a]! + pads[a]! + pads[a + rank]! - span) / s[a]!) + 1) return 'ceil_mode output length';
  }
  let pad = 0;
  if (node.opType === 'MaxPool') {
    if (node.outputs.length > 1 && node.outputs[1]) return 'MaxPool with indices';
    pad = -Infinity;
  } else if (node.opType === 'AveragePool') {
    if (pads.some((v) => v !== 0) && attrInt(node, 'count_include_pad', 0) === 0) return 'AveragePool excluding its padding';
  }
  return { k: kernel, s, d, p, pad };
}

export interface PlanInput {
  graph: Graph;
  nodes: Node[];
  /** Concrete shapes (batch may be symbolic) of every tensor, from shape inference at this input size. */
  shape: (name: string) => (number | string | null)[] | null;
  input: string;
  channels: number;
  spatial: number[];
  /** The perturbed box: its size, and its origin per patch (patches × rank). */
  window: number[];
  origins: Int32Array;
}

export function planIncremental(pi: PlanInput): Plan {
  const rank = pi.spatial.length;
  const npatch = pi.origins.length / rank;
  const steps: Step[] = [];
  const boxes = new Map<string, Box>();
  const sources: string[] = [];
  /** Tensors that depend on the input: their box (local), or 'whole' (a full tensor of the perturbed batch). */
  const state = new Map<string, Box | 'whole'>();
  const materialised = new Map<string, string>();
  let counter = 0;
  let macs = 0;
  let fullMacs = 0;
  let gathered = 0;
  let stoppedAt: string | undefined;
  const fresh = (hint: string) => `inc/${hint}_${counter++}`;

  const patchInput = 'inc/patch';
  const inBox: Box = { full: [...pi.spatial], channels: pi.channels, size: [...pi.window], origins: Int32Array.from(pi.origins) };
  state.set(pi.input, inBox);
  // the box tensor of the input is the patch feed itself
  const localName = new Map<string, string>([[pi.input, patchInput]]);

  const spatialOf = (t: string): number[] | undefined => {
    const s = pi.shape(t);
    if (!s || s.length !== rank + 2) return undefined;
    const sp = s.slice(2);
    return sp.every((v) => typeof v === 'number') && typeof s[1] === 'number' ? (sp as number[]) : undefined;
  };
  const isWhole = (b: Box) => b.size.every((v, a) => v >= b.full[a]!);
  const sameBox = (a: Box, b: Box) => a.size.every((v, i) => v === b.size[i]) && a.origins.every((v, i) => v === b.origins[i]);

  /** Gather the values of tensor `t` (box `b`) over a window of `size` at `origins`; returns the gathered name. */
  const gather = (t: string, b: Box, size: number[], origins: Int32Array, pad: number, hint: string): string => {
    if (!boxes.has(t)) {
      boxes.set(t, b);
      sources.push(t);
    }
    const out = fresh(hint);
    steps.push({ kind: 'gather', out, source: t, local: localName.get(t)!, pad, size, origins });
    gathered += prod(size) * b.channels;
    return out;
  };
  /** The whole perturbed tensor `t`. */
  const whole = (t: string): string => {
    const s = state.get(t);
    if (s === undefined || s === 'whole') return t;
    if (isWhole(s)) return localName.get(t)!;
    let m = materialised.get(t);
    if (!m) {
      m = gather(t, s, s.full, new Int32Array(npatch * rank), 0, 'whole');
      materialised.set(t, m);
    }
    return m;
  };
  /** `t` re-gathered to box `target` (or as it is when its box is that box). */
  const recrop = (t: string, target: Box): string => {
    const s = state.get(t) as Box;
    return sameBox(s, target) ? localName.get(t)! : gather(t, s, target.size, target.origins, 0, 'recrop');
  };
  const emit = (node: Node, inputs: string[], outputs: string[], attrs = node.attrs) => {
    steps.push({ kind: 'node', node: { ...node, name: fresh('n'), inputs, outputs, attrs } });
  };
  const runWhole = (node: Node, why: string) => {
    if (!stoppedAt && node.inputs.some((i) => state.get(i) !== undefined && state.get(i) !== 'whole')) stoppedAt = `${describeNode(node)} (${why})`;
    emit(node, node.inputs.map((i) => (state.has(i) ? whole(i) : i)), [...node.outputs]);
    for (const o of node.outputs) if (o) state.set(o, 'whole');
  };
  const setLocal = (o: string, b: Box): string => {
    state.set(o, b);
    const name = isWhole(b) ? o : fresh('box');
    localName.set(o, name);
    return name;
  };

  for (const node of pi.nodes) {
    const outFull = node.outputs[0] ? spatialOf(node.outputs[0]) : undefined;
    const macsOf = (outVoxels: number) => {
      if (node.opType !== 'Conv') return 0;
      const w = pi.shape(node.inputs[1]!);
      return w ? prod(w.slice(1) as number[]) * outVoxels * (pi.shape(node.outputs[0]!)![1] as number) : 0;
    };
    if (node.opType === 'Conv' && outFull) fullMacs += macsOf(prod(outFull));
    else if ((node.opType === 'Gemm' || node.opType === 'MatMul') && node.inputs[1]) {
      const w = pi.shape(node.inputs[1]);
      const y = pi.shape(node.outputs[0]!);
      const inner = w?.[w.length - 2];
      if (w && y && typeof inner === 'number') {
        const m = inner * prod(y.slice(1).map((v) => (typeof v === 'number' ? v : 1)));
        fullMacs += m;
        if (node.inputs.some((i) => state.has(i))) macs += m;
      }
    }
    const dep = node.inputs.filter((i) => i && state.has(i));
    if (!dep.length) {
      emit(node, [...node.inputs], [...node.outputs]);
      continue;
    }
    const local = dep.every((i) => state.get(i) !== 'whole');
    const op = node.opType;
    if (!local || !outFull || node.outputs.filter(Boolean).length !== 1) {
      runWhole(node, !local ? 'after a whole tensor' : 'not a spatial map');
      if (node.opType === 'Conv' && outFull) macs += macsOf(prod(outFull));
      continue;
    }
    const out = node.outputs[0]!;
    const b0 = state.get(dep[0]!) as Box;
    if (op === 'Conv' || op === 'MaxPool' || op === 'AveragePool') {
      const inFull = spatialOf(node.inputs[0]!);
      const wShape = op === 'Conv' ? pi.shape(node.inputs[1]!) : null;
      const convKernel = wShape && wShape.slice(2).every((v) => typeof v === 'number') ? (wShape.slice(2) as number[]) : undefined;
      const w = inFull && dep.length === 1 && dep[0] === node.inputs[0] ? windowOf(node, rank, inFull, outFull, convKernel) : 'weights depend on the input';
      if (typeof w === 'string') {
        runWhole(node, w);
        macs += macsOf(prod(outFull));
        continue;
      }
      if (isWhole(b0)) {
        emit(node, [localName.get(dep[0]!)!, ...node.inputs.slice(1)], [out]);
        setLocal(out, { full: outFull, channels: pi.shape(out)![1] as number, size: [...outFull], origins: new Int32Array(npatch * rank) });
        macs += macsOf(prod(outFull));
        continue;
      }
      const size = Array<number>(rank).fill(0);
      const lo = new Int32Array(npatch * rank);
      for (let q = 0; q < npatch; q++) {
        for (let a = 0; a < rank; a++) {
          const start = b0.origins[q * rank + a]!;
          const first = Math.max(0, Math.ceil((start + w.p[a]! - (w.k[a]! - 1) * w.d[a]!) / w.s[a]!));
          const last = Math.min(outFull[a]! - 1, Math.floor((start + b0.size[a]! - 1 + w.p[a]!) / w.s[a]!));
          lo[q * rank + a] = first;
          size[a] = Math.max(size[a]!, last - first + 1);
        }
      }
      const origins = new Int32Array(npatch * rank);
      const inOrigins = new Int32Array(npatch * rank);
      for (let q = 0; q < npatch; q++) {
        for (let a = 0; a < rank; a++) {
          const o = Math.min(lo[q * rank + a]!, outFull[a]! - size[a]!);
          origins[q * rank + a] = o;
          inOrigins[q * rank + a] = o * w.s[a]! - w.p[a]!;
        }
      }
      const inSize = size.map((m, a) => (m - 1) * w.s[a]! + (w.k[a]! - 1) * w.d[a]! + 1);
      const g = gather(node.inputs[0]!, b0, inSize, inOrigins, w.pad, `win_${op}`);
      const attrs: Node['attrs'] = { ...node.attrs, pads: { type: 'ints', value: Array<number>(2 * rank).fill(0) } };
      delete attrs['auto_pad'];
      const box: Box = { full: outFull, channels: pi.shape(out)![1] as number, size, origins };
      emit(node, [g, ...node.inputs.slice(1)], [setLocal(out, box)], attrs);
      macs += macsOf(prod(size));
      continue;
    }
    if (UNARY.has(op) || op === 'BatchNormalization' || op === 'Dropout' || BINARY.has(op) || (op === 'Concat' && attrInt(node, 'axis', 0) === 1)) {
      // constant operands must broadcast over space
      const bad = node.inputs.find((i, k) => {
        if (!i || state.has(i)) return false;
        if (op === 'BatchNormalization' || (op === 'Clip' && k > 0)) return false;
        const s = pi.shape(i);
        if (!s) return true;
        const r = s.length;
        for (let a = 0; a < Math.min(rank, r); a++) if (s[r - 1 - a] !== 1) return true;
        return op === 'Concat';
      });
      const shapesMatch = dep.every((i) => {
        const sp = spatialOf(i);
        return sp && sp.every((v, a) => v === outFull[a]);
      });
      if (bad || !shapesMatch || (op === 'Dropout' && node.outputs.length > 1 && node.outputs[1])) {
        runWhole(node, bad ? `operand '${bad}' varies in space` : 'operands of different extents');
        continue;
      }
      let target = b0;
      if (dep.length > 1) {
        const boxesIn = dep.map((i) => state.get(i) as Box);
        const size = Array<number>(rank).fill(0);
        const lo = new Int32Array(npatch * rank);
        for (let q = 0; q < npatch; q++) {
          for (let a = 0; a < rank; a++) {
            let first = Infinity;
            let end = -Infinity;
            for (const b of boxesIn) {
              first = Math.min(first, b.origins[q * rank + a]!);
              end = Math.max(end, b.origins[q * rank + a]! + b.size[a]!);
            }
            lo[q * rank + a] = first;
            size[a] = Math.max(size[a]!, end - first);
          }
        }
        for (let q = 0; q < npatch; q++) for (let a = 0; a < rank; a++) lo[q * rank + a] = Math.min(lo[q * rank + a]!, outFull[a]! - size[a]!);
        target = { full: outFull, channels: 0, size, origins: lo };
      }
      const inputs = node.inputs.map((i) => (i && state.has(i) ? recrop(i, target) : i));
      const box: Box = { ...target, channels: pi.shape(out)![1] as number };
      emit(node, inputs, [setLocal(out, box), ...node.outputs.slice(1)]);
      continue;
    }
    runWhole(node, 'not a local op');
  }
  for (const o of pi.graph.outputs) if (state.has(o.name) && state.get(o.name) !== 'whole') throw new Error(`incremental plan: output '${o.name}' is a spatial map`);
  return { steps, boxes, sources, patchInput, stoppedAt, macs, fullMacs, gathered };
}
