/**
 * Type and shape inference for the ops candor supports, with propagation of small
 * integer values (shape arithmetic such as Shape→Gather→Unsqueeze→Concat→Reshape),
 * so that Reshape targets and pads resolve statically, symbolic batch included.
 *
 * Dimensions are numbers, symbolic names ('batch') or null (unknown). Unknown ops
 * get unknown outputs rather than an error: only ops on a differentiated path must
 * be understood, and the VJP builder reports those.
 */
import {
  type Dim,
  type Graph,
  type Node,
  type TensorData,
  type ValueInfo,
  DataType,
  attrInt,
  attrInts,
  attrString,
  attrTensor,
  describeNode,
  topoSort,
} from './ir.js';

export interface Inferred {
  /** Type and shape of every tensor that could be inferred (inputs, initializers, node outputs). */
  info: Map<string, ValueInfo>;
  /** Known values of small integer tensors (rank ≤ 1), as dims (numbers or symbols). */
  values: Map<string, Dim[]>;
}

const MAX_VALUE_LEN = 64;

function initValues(t: TensorData): Dim[] | undefined {
  if (t.dims.length > 1 || t.data.length > MAX_VALUE_LEN) return undefined;
  if (t.dataType !== DataType.INT64 && t.dataType !== DataType.INT32) return undefined;
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

function broadcast(shapes: (Dim[] | null)[]): Dim[] | null {
  if (shapes.some((s) => s === null)) return null;
  const ss = shapes as Dim[][];
  const r = Math.max(...ss.map((s) => s.length));
  const out: Dim[] = [];
  for (let k = 0; k < r; k++) {
    let d: Dim = 1;
    for (const s of ss) {
      const e = s[s.length - r + k];
      if (e === undefined || e === 1) continue;
      if (d === 1) d = e;
      else if (d !== e) {
        if (typeof d === 'number' && typeof e === 'number') throw new Error(`shapes [${ss.map((x) => x.join(',')).join('] and [')}] do not broadcast`);
        d = typeof d === 'number' ? d : typeof e === 'number' ? e : d === e ? d : null;
      }
    }
    out.push(d);
  }
  return out;
}

const normAxis = (a: number, r: number): number => (a < 0 ? a + r : a);

function mulDims(ds: Dim[]): Dim {
  let p = 1;
  for (const d of ds) {
    if (typeof d !== 'number') return ds.length === 1 ? d : null;
    p *= d;
  }
  return p;
}

function poolOut(inp: Dim, k: number, s: number, pb: number, pe: number, d: number, ceil: boolean): Dim {
  if (typeof inp !== 'number') return null;
  const span = inp + pb + pe - ((k - 1) * d + 1);
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // PyTorch/ONNX ceil_mode: the last window must start inside the (left-padded) input.
  if (ceil && (o - 1) * s >= inp + pb) o -= 1;
  return o;
}

const UNARY_SAME = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Softmax', 'LogSoftmax', 'Elu', 'Selu',
  'Celu', 'Softplus', 'Softsign', 'Exp', 'Log', 'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Erf', 'Gelu', 'Mish', 'Clip',
  'Identity', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin', 'Cos', 'ThresholdedRelu', 'Hardmax', 'LRN',
  'InstanceNormalization', 'GroupNormalization', 'BatchNormalization', 'LayerNormalization', 'Dropout', 'ScatterElements', 'ScatterND',
  'Trilu', 'CumSum', 'Not',
]);
const BINARY_ARITH = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mean', 'Sum', 'Mod', 'BitShift']);
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);
const REDUCE = new Set(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']);

/**
 * Shapes (and small integer values) learned from the model itself, e.g. by one onnxruntime run of a probe
 * batch (src/runtime/shape-probe.ts), for tensors whose shapes are computed at run time. A hint fills what
 * static inference leaves unknown (a null rank, null dims, unknown values); it never overrides a dim or
 * value that static inference knows.
 */
export type ShapeHints = Map<string, { shape: Dim[]; values?: Dim[] }>;

/** `a` with its unknown (null) dims taken from `b` when ranks agree, or `b` when `a` is unknown. */
function mergeDims(a: Dim[] | null | undefined, b: Dim[]): Dim[] {
  if (!a || a.length !== b.length) return a && a.length !== b.length ? a : [...b];
  return a.map((d, i) => (d === null ? b[i]! : d));
}

export function inferShapes(graph: Graph, hints?: ShapeHints): Inferred {
  const info = new Map<string, ValueInfo>();
  const values = new Map<string, Dim[]>();
  for (const v of graph.inputs) info.set(v.name, v);
  for (const [name, t] of graph.initializers) {
    info.set(name, { name, elemType: t.dataType, shape: [...t.dims] });
    const vals = initValues(t);
    if (vals) values.set(name, vals);
  }
  for (const v of graph.valueInfo.values()) if (!info.has(v.name)) info.set(v.name, v);

  const get = (n: string | undefined): ValueInfo | undefined => (n ? info.get(n) : undefined);
  const shapeOf = (n: string | undefined): Dim[] | null => get(n)?.shape ?? null;
  const typeOf = (n: string | undefined): number => get(n)?.elemType ?? 0;

  for (const node of topoSort(graph)) {
    let outs: { elemType: number; shape: Dim[] | null }[];
    try {
      outs = inferNode(node);
    } catch (e) {
      throw new Error(`shape inference: ${describeNode(node)}: ${(e as Error).message}`);
    }
    node.outputs.forEach((o, k) => {
      if (!o) return;
      const r = outs[k] ?? { elemType: 0, shape: null };
      const declared = graph.valueInfo.get(o) ?? graph.outputs.find((v) => v.name === o);
      // Prefer our inference; fall back to what the file declares.
      let shape = r.shape ?? declared?.shape ?? null;
      const elemType = r.elemType || declared?.elemType || 0;
      const hint = hints?.get(o);
      if (hint) {
        shape = mergeDims(shape, hint.shape);
        const known = values.get(o);
        if (hint.values && (!known || known.some((d) => d === null))) values.set(o, mergeDims(known, hint.values));
      }
      info.set(o, { name: o, elemType, shape });
    });
  }
  return { info, values };

  function inferNode(node: Node): { elemType: number; shape: Dim[] | null }[] {
    const op = node.opType;
    const x = node.inputs[0];
    const xs = shapeOf(x);
    const xt = typeOf(x);
    const same = [{ elemType: xt, shape: xs }];
    if (node.domain && node.domain !== 'ai.onnx') return [];
    const setVals = (k: number, v: Dim[] | undefined) => {
      if (v && node.outputs[k]) values.set(node.outputs[k]!, v);
    };
    const v = (n: string | undefined) => (n ? values.get(n) : undefined);
    if (UNARY_SAME.has(op)) {
      const outs = [...same];
      if (op === 'Dropout' && node.outputs[1]) outs.push({ elemType: DataType.BOOL, shape: xs });
      if (op === 'Identity') setVals(0, v(x));
      if (op === 'LayerNormalization' && xs) {
        const ax = normAxis(attrInt(node, 'axis', -1), xs.length);
        const st = [...xs.slice(0, ax), ...xs.slice(ax).map(() => 1)];
        outs.push({ elemType: DataType.FLOAT, shape: st }, { elemType: DataType.FLOAT, shape: st });
      }
      return outs;
    }
    if (BINARY_ARITH.has(op) || COMPARE.has(op)) {
      const shp = broadcast(node.inputs.map(shapeOf));
      const et = COMPARE.has(op) ? DataType.BOOL : xt;
      const vs = node.inputs.map(v);
      if (vs.every((a) => a) && (op === 'Add' || op === 'Sub' || op === 'Mul' || op === 'Div') && node.inputs.length === 2) {
        const [a, b] = vs as Dim[][];
        const n = Math.max(a.length, b.length);
        const at = (arr: Dim[], i: number) => (arr.length === 1 ? arr[0]! : arr[i]!);
        const res: Dim[] = [];
        for (let i = 0; i < n; i++) {
          const p = at(a, i);
          const q = at(b, i);
          if (typeof p !== 'number' || typeof q !== 'number') res.push(null);
          else res.push(op === 'Add' ? p + q : op === 'Sub' ? p - q : op === 'Mul' ? p * q : Math.trunc(p / q));
        }
        setVals(0, res);
      }
      return [{ elemType: et, shape: shp }];
    }
    if (REDUCE.has(op)) {
      if (!xs) return [{ elemType: xt, shape: null }];
      const keep = attrInt(node, 'keepdims', 1) === 1;
      let axes = attrInts(node, 'axes');
      if (!axes && node.inputs[1]) {
        const av = v(node.inputs[1]);
        if (!av || av.some((d) => typeof d !== 'number')) return [{ elemType: xt, shape: null }];
        axes = av as number[];
      }
      if (!axes || axes.length === 0) {
        if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return same;
        axes = xs.map((_, i) => i);
      }
      const ax = new Set(axes.map((a) => normAxis(a, xs.length)));
      const shp: Dim[] = [];
      xs.forEach((d, i) => {
        if (!ax.has(i)) shp.push(d);
        else if (keep) shp.push(1);
      });
      return [{ elemType: xt, shape: shp }];
    }
    switch (op) {
      case 'Constant': {
        const t = attrTensor(node, 'value');
        if (t) {
          const vals = initValues(t);
          setVals(0, vals);
          return [{ elemType: t.dataType, shape: [...t.dims] }];
        }
        const ints = attrInts(node, 'value_ints');
        if (ints) {
          setVals(0, ints);
          return [{ elemType: DataType.INT64, shape: [ints.length] }];
        }
        const i = attrInt(node, 'value_int');
        if (i !== undefined) {
          setVals(0, [i]);
          return [{ elemType: DataType.INT64, shape: [] }];
        }
        if (node.attrs['value_float'] !== undefined) return [{ elemType: DataType.FLOAT, shape: [] }];
        if (node.attrs['value_floats']?.type === 'floats') return [{ elemType: DataType.FLOAT, shape: [(node.attrs['value_floats'].value as number[]).length] }];
        return [];
      }
      case 'Cast':
        setVals(0, v(x));
        return [{ elemType: attrInt(node, 'to', 0), shape: xs }];
      case 'CastLike':
        return [{ elemType: typeOf(node.inputs[1]), shape: xs }];
      case 'Shape': {
        if (!xs) return [{ elemType: DataType.INT64, shape: [null] }];
        const r = xs.length;
        const start = normAxis(Math.max(-r, Math.min(r, attrInt(node, 'start', 0))), r);
        const endRaw = attrInt(node, 'end');
        const end = endRaw === undefined ? r : normAxis(Math.max(-r, Math.min(r, endRaw)), r);
        const dims = xs.slice(start, Math.max(start, end));
        setVals(0, dims);
        return [{ elemType: DataType.INT64, shape: [dims.length] }];
      }
      case 'Size':
        if (xs) setVals(0, [mulDims(xs)]);
        return [{ elemType: DataType.INT64, shape: [] }];
      case 'Gather': {
        const is = shapeOf(node.inputs[1]);
        if (!xs || !is) return [{ elemType: xt, shape: null }];
        const ax = normAxis(attrInt(node, 'axis', 0), xs.length);
        const xv = v(x);
        const iv = v(node.inputs[1]);
        if (xv && iv && xs.length === 1) {
          const g = iv.map((i) => (typeof i === 'number' ? xv[normAxis(i, xv.length)] ?? null : null));
          setVals(0, g);
        }
        return [{ elemType: xt, shape: [...xs.slice(0, ax), ...is, ...xs.slice(ax + 1)] }];
      }
      case 'GatherElements':
        return [{ elemType: xt, shape: shapeOf(node.inputs[1]) }];
      case 'GatherND': {
        const is = shapeOf(node.inputs[1]);
        const bd = attrInt(node, 'batch_dims', 0);
        const k = is?.[is.length - 1];
        if (!xs || !is || typeof k !== 'number') return [{ elemType: xt, shape: null }];
        return [{ elemType: xt, shape: [...is.slice(0, -1), ...xs.slice(bd + k)] }];
      }
      case 'Einsum': {
        const eq = attrString(node, 'equation', '').replace(/\s+/g, '');
        const shapes = node.inputs.map(shapeOf);
        if (shapes.some((s) => !s) || !eq.includes('->') || eq.includes('...')) return [{ elemType: xt, shape: null }];
        const [lhs, rhs] = eq.split('->') as [string, string];
        const dims = new Map<string, Dim>();
        lhs.split(',').forEach((t, i) => [...t].forEach((l, k) => {
          const d = shapes[i]![k]!;
          if (!dims.has(l) || dims.get(l) === 1 || dims.get(l) === null) dims.set(l, d);
        }));
        return [{ elemType: xt, shape: [...rhs].map((l) => dims.get(l) ?? null) }];
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        let axes = attrInts(node, 'axes');
        if (!axes && node.inputs[1]) {
          const av = v(node.inputs[1]);
          if (!av || av.some((d) => typeof d !== 'number')) return [{ elemType: xt, shape: null }];
          axes = av as number[];
        }
        setVals(0, v(x));
        if (!xs) return [{ elemType: xt, shape: null }];
        if (op === 'Unsqueeze') {
          const r = xs.length + (axes ?? []).length;
          const ax = new Set((axes ?? []).map((a) => normAxis(a, r)));
          const out: Dim[] = [];
          let k = 0;
          for (let i = 0; i < r; i++) out.push(ax.has(i) ? 1 : xs[k++]!);
          return [{ elemType: xt, shape: out }];
        }
        const ax = axes ? new Set(axes.map((a) => normAxis(a, xs.length))) : null;
        return [{ elemType: xt, shape: xs.filter((d, i) => (ax ? !ax.has(i) : d !== 1)) }];
      }
      case 'Concat': {
        const shapes = node.inputs.map(shapeOf);
        const vs = node.inputs.map(v);
        if (vs.every((a) => a)) setVals(0, (vs as Dim[][]).flat());
        if (shapes.some((s) => !s)) return [{ elemType: xt, shape: null }];
        const ss = shapes as Dim[][];
        const ax = normAxis(attrInt(node, 'axis', 0), ss[0]!.length);
        const out = [...ss[0]!];
        let total: Dim = 0;
        for (const s of ss) total = typeof total === 'number' && typeof s[ax] === 'number' ? total + (s[ax] as number) : null;
        out[ax] = total;
        // Other axes: prefer a known number.
        for (let i = 0; i < out.length; i++) if (i !== ax) for (const s of ss) if (typeof s[i] === 'number') out[i] = s[i]!;
        return [{ elemType: xt, shape: out }];
      }
      case 'Split': {
        if (!xs) return node.outputs.map(() => ({ elemType: xt, shape: null }));
        const ax = normAxis(attrInt(node, 'axis', 0), xs.length);
        let split = attrInts(node, 'split');
        if (!split && node.inputs[1]) {
          const sv = v(node.inputs[1]);
          if (sv && sv.every((d) => typeof d === 'number')) split = sv as number[];
        }
        const n = node.outputs.length;
        if (!split && typeof xs[ax] === 'number') {
          const total = xs[ax] as number;
          const chunk = Math.ceil(total / n);
          split = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, total - i * chunk)));
        }
        return node.outputs.map((_, k) => {
          const s = [...xs];
          s[ax] = split ? split[k]! : null;
          return { elemType: xt, shape: s };
        });
      }
      case 'Flatten': {
        if (!xs) return [{ elemType: xt, shape: null }];
        const ax = normAxis(attrInt(node, 'axis', 1), xs.length);
        return [{ elemType: xt, shape: [mulDims(xs.slice(0, ax)), mulDims(xs.slice(ax))] }];
      }
      case 'Reshape': {
        const target = v(node.inputs[1]);
        const ts = shapeOf(node.inputs[1]);
        if (!target) return [{ elemType: xt, shape: ts && typeof ts[0] === 'number' ? Array(ts[0]).fill(null) : null }];
        const allowZero = attrInt(node, 'allowzero', 0) === 1;
        const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? xs?.[i] ?? null : d));
        const neg = out.indexOf(-1);
        if (neg >= 0) {
          out[neg] = null;
          if (xs) {
            const total = mulDims(xs);
            const rest = mulDims(out.filter((_, i) => i !== neg));
            if (typeof total === 'number' && typeof rest === 'number' && rest !== 0) out[neg] = total / rest;
            else if (typeof total !== 'number' && typeof rest === 'number') {
              // e.g. [batch, C, H, W] → [batch, -1]: cancel the symbolic factor.
              const sym = xs.filter((d) => typeof d !== 'number');
              const symOut = out.filter((d, i) => i !== neg && typeof d !== 'number');
              if (sym.length === 1 && symOut.length === 1 && sym[0] === symOut[0] && sym[0] !== null) {
                const numIn = mulDims(xs.filter((d) => typeof d === 'number'));
                const numOut = mulDims(out.filter((d, i) => i !== neg && typeof d === 'number'));
                if (typeof numIn === 'number' && typeof numOut === 'number') out[neg] = numIn / numOut;
              }
            }
          }
        }
        setVals(0, v(x));
        return [{ elemType: xt, shape: out }];
      }
      case 'Transpose': {
        if (!xs) return [{ elemType: xt, shape: null }];
        const perm = attrInts(node, 'perm') ?? xs.map((_, i) => xs.length - 1 - i);
        return [{ elemType: xt, shape: perm.map((p) => xs[p]!) }];
      }
      case 'Expand': {
        const target = v(node.inputs[1]);
        if (!target || !xs) return [{ elemType: xt, shape: null }];
        return [{ elemType: xt, shape: broadcast([xs, target.map((d) => (d === -1 ? 1 : d))]) }];
      }
      case 'Tile': {
        const reps = v(node.inputs[1]);
        if (!reps || !xs) return [{ elemType: xt, shape: null }];
        return [{ elemType: xt, shape: xs.map((d, i) => (typeof d === 'number' && typeof reps[i] === 'number' ? d * (reps[i] as number) : null)) }];
      }
      case 'MaxUnpool': {
        const target = node.inputs[2] ? v(node.inputs[2]) : undefined;
        if (target) return [{ elemType: xt, shape: target }];
        const k = attrInts(node, 'kernel_shape');
        const st = attrInts(node, 'strides') ?? k?.map(() => 1);
        const pads = attrInts(node, 'pads') ?? k?.map(() => 0).concat(k.map(() => 0));
        if (!xs || !k) return [{ elemType: xt, shape: null }];
        const sp = k.length;
        return [{ elemType: xt, shape: xs.map((d, i) => (i < 2 ? d : typeof d === 'number' ? (d - 1) * st![i - 2]! + k[i - 2]! - pads![i - 2]! - pads![i - 2 + sp]! : null)) }];
      }
      case 'ConstantOfShape': {
        const t = attrTensor(node, 'value');
        const target = v(x);
        const xsh = shapeOf(x);
        return [{ elemType: t?.dataType ?? DataType.FLOAT, shape: target ?? (xsh && typeof xsh[0] === 'number' ? Array(xsh[0]).fill(null) : null) }];
      }
      case 'Range':
        return [{ elemType: xt, shape: [null] }];
      case 'Where': {
        return [{ elemType: typeOf(node.inputs[1]), shape: broadcast(node.inputs.map(shapeOf)) }];
      }
      case 'Slice': {
        if (!xs) return [{ elemType: xt, shape: null }];
        const starts = attrInts(node, 'starts') ?? v(node.inputs[1]);
        const ends = attrInts(node, 'ends') ?? v(node.inputs[2]);
        const axesIn = attrInts(node, 'axes') ?? (node.inputs[3] ? v(node.inputs[3]) : xs.map((_, i) => i));
        const steps = node.inputs[4] ? v(node.inputs[4]) : undefined;
        if (!starts || !ends || !axesIn || (node.inputs[4] && !steps)) return [{ elemType: xt, shape: xs.map(() => null) }];
        const out = [...xs];
        const xv = v(x);
        let vals: Dim[] | undefined;
        axesIn.forEach((a, k) => {
          const ax = normAxis(a as number, xs.length);
          const d = xs[ax];
          const st = steps ? (steps[k] as number) : 1;
          if (typeof d !== 'number' || typeof starts[k] !== 'number' || typeof ends[k] !== 'number') {
            out[ax] = null;
            return;
          }
          const [b, e] = sliceRange(starts[k] as number, ends[k] as number, st, d);
          out[ax] = Math.max(0, Math.ceil((e - b) / st));
          if (xv && xs.length === 1) {
            vals = [];
            for (let i = b; st > 0 ? i < e : i > e; i += st) vals.push(xv[i] ?? null);
          }
        });
        setVals(0, vals);
        return [{ elemType: xt, shape: out }];
      }
      case 'Pad': {
        if (!xs) return [{ elemType: xt, shape: null }];
        const pads = attrInts(node, 'pads') ?? v(node.inputs[1]);
        if (!pads || pads.some((p) => typeof p !== 'number')) return [{ elemType: xt, shape: xs.map(() => null) }];
        const axesV = node.inputs[3] ? v(node.inputs[3]) : undefined;
        const axes = axesV ? (axesV as number[]).map((a) => normAxis(a, xs.length)) : xs.map((_, i) => i);
        const out = [...xs];
        axes.forEach((ax, k) => {
          const d = out[ax];
          const add = (pads[k] as number) + (pads[k + axes.length] as number);
          out[ax] = typeof d === 'number' ? d + add : add === 0 ? d! : null; // an unpadded symbolic axis keeps its symbol
        });
        return [{ elemType: xt, shape: out }];
      }
      case 'Gemm': {
        const a = xs;
        const b = shapeOf(node.inputs[1]);
        const ta = attrInt(node, 'transA', 0);
        const tb = attrInt(node, 'transB', 0);
        return [{ elemType: xt, shape: [a ? a[ta ? 1 : 0]! : null, b ? b[tb ? 0 : 1]! : null] }];
      }
      case 'MatMul': {
        const a = xs;
        const b = shapeOf(node.inputs[1]);
        if (!a || !b) return [{ elemType: xt, shape: null }];
        const a2 = a.length === 1 ? [1, a[0]!] : a;
        const b2 = b.length === 1 ? [b[0]!, 1] : b;
        const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)]) ?? [];
        const out = [...batch, a2[a2.length - 2]!, b2[b2.length - 1]!];
        if (a.length === 1) out.splice(out.length - 2, 1);
        if (b.length === 1) out.splice(out.length - 1, 1);
        return [{ elemType: xt, shape: out }];
      }
      case 'Conv':
      case 'ConvTranspose':
      case 'MaxPool':
      case 'AveragePool':
      case 'LpPool': {
        if (!xs) return [{ elemType: xt, shape: null }, { elemType: DataType.INT64, shape: null }];
        const sp = xs.length - 2;
        const w = shapeOf(node.inputs[1]);
        const isConv = op === 'Conv' || op === 'ConvTranspose';
        const k = attrInts(node, 'kernel_shape') ?? (isConv && w ? (w.slice(2) as number[]) : undefined);
        if (!k || k.some((d) => typeof d !== 'number')) return [{ elemType: xt, shape: null }];
        const s = attrInts(node, 'strides') ?? Array(sp).fill(1);
        const d = attrInts(node, 'dilations') ?? Array(sp).fill(1);
        let pads = attrInts(node, 'pads') ?? Array(2 * sp).fill(0);
        const autoPad = attrString(node, 'auto_pad', 'NOTSET');
        const ceil = attrInt(node, 'ceil_mode', 0) === 1;
        let channels: Dim;
        if (op === 'Conv') channels = w ? w[0]! : null;
        else if (op === 'ConvTranspose') channels = w && typeof w[1] === 'number' ? (w[1] as number) * attrInt(node, 'group', 1) : null;
        else channels = xs[1]!;
        const spatial: Dim[] = [];
        for (let i = 0; i < sp; i++) {
          const inp = xs[2 + i]!;
          if (op === 'ConvTranspose') {
            const outShape = attrInts(node, 'output_shape');
            if (outShape) {
              spatial.push(outShape[outShape.length - sp + i]!);
              continue;
            }
            const op2 = attrInts(node, 'output_padding') ?? Array(sp).fill(0);
            spatial.push(typeof inp === 'number' ? s[i]! * (inp - 1) + op2[i]! + (k[i]! - 1) * d[i]! + 1 - pads[i]! - pads[i + sp]! : null);
            continue;
          }
          if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') spatial.push(typeof inp === 'number' ? Math.ceil(inp / s[i]!) : null);
          else {
            if (autoPad === 'VALID') pads = Array(2 * sp).fill(0);
            spatial.push(poolOut(inp, k[i]!, s[i]!, pads[i]!, pads[i + sp]!, d[i]!, ceil));
          }
        }
        const out = [xs[0]!, channels, ...spatial];
        return [{ elemType: xt, shape: out }, { elemType: DataType.INT64, shape: out }];
      }
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
      case 'GlobalLpPool':
        return [{ elemType: xt, shape: xs ? [xs[0]!, xs[1]!, ...xs.slice(2).map(() => 1)] : null }];
      case 'Resize':
      case 'Upsample': {
        if (!xs) return [{ elemType: xt, shape: null }];
        const sizes = node.inputs[3] ? v(node.inputs[3]) : undefined;
        if (sizes) return [{ elemType: xt, shape: sizes }];
        const scalesName = op === 'Upsample' ? node.inputs[1] : node.inputs[2];
        const sc = scalesName ? graph.initializers.get(scalesName) : undefined;
        const scales = sc ? Array.from(sc.data as Float32Array) : (node.attrs['scales']?.value as number[] | undefined);
        if (!scales || scales.length !== xs.length) return [{ elemType: xt, shape: xs.map(() => null) }];
        // onnxruntime computes (int64)(scale · in) in float32: 10 × 0.7 gives 7, not 6.
        return [{ elemType: xt, shape: xs.map((dd, i) => (typeof dd === 'number' ? Math.trunc(Math.fround(Math.fround(scales[i]!) * dd)) : scales[i] === 1 ? dd : null)) }];
      }
      case 'ArgMax':
      case 'ArgMin': {
        if (!xs) return [{ elemType: DataType.INT64, shape: null }];
        const ax = normAxis(attrInt(node, 'axis', 0), xs.length);
        const keep = attrInt(node, 'keepdims', 1) === 1;
        return [{ elemType: DataType.INT64, shape: keep ? xs.map((d, i) => (i === ax ? 1 : d)) : xs.filter((_, i) => i !== ax) }];
      }
      case 'TopK': {
        if (!xs) return [{ elemType: xt, shape: null }, { elemType: DataType.INT64, shape: null }];
        const ax = normAxis(attrInt(node, 'axis', -1), xs.length);
        const kv = v(node.inputs[1]);
        const shp = xs.map((d, i) => (i === ax ? (kv && typeof kv[0] === 'number' ? kv[0] : null) : d));
        return [{ elemType: xt, shape: shp }, { elemType: DataType.INT64, shape: shp }];
      }
      case 'NonZero':
        return [{ elemType: DataType.INT64, shape: xs ? [xs.length, null] : null }];
      case 'EyeLike':
        return same;
      case 'DepthToSpace':
      case 'SpaceToDepth': {
        if (!xs) return [{ elemType: xt, shape: null }];
        const b = attrInt(node, 'blocksize', 1);
        const [n, c, h, w] = xs;
        const m = (d: Dim | undefined, f: number) => (typeof d === 'number' ? d * f : null);
        return op === 'DepthToSpace'
          ? [{ elemType: xt, shape: [n!, typeof c === 'number' ? c / (b * b) : null, m(h, b), m(w, b)] }]
          : [{ elemType: xt, shape: [n!, m(c, b * b), typeof h === 'number' ? h / b : null, typeof w === 'number' ? w / b : null] }];
      }
      default:
        return [];
    }
  }
}

/** ONNX Slice start/end clamping for a dimension of size d. */
export function sliceRange(start: number, end: number, step: number, d: number): [number, number] {
  let b = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) {
    b = Math.max(0, Math.min(d, b));
    e = Math.max(0, Math.min(d, e));
  } else {
    b = Math.max(-1, Math.min(d - 1, b));
    e = Math.max(-1, Math.min(d - 1, e));
  }
  return [b, e];
}

/** Rank of a tensor, or an error naming it. */
export function rankOf(inf: Inferred, name: string, where: string): number {
  const s = inf.info.get(name)?.shape;
  if (!s) throw new Error(`${where}: the rank of tensor '${name}' could not be inferred`);
  return s.length;
}

