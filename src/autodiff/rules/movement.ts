/**
 * Backward rules for data movement: the inverse movement of the gradient.
 *
 *  Reshape / Flatten / Squeeze / Unsqueeze  reshape dY back to X's shape
 *  Transpose        transpose dY by the inverse permutation
 *  Concat / Split   slice dY per input / concatenate the output gradients (zeros where an output has none)
 *  Slice            step 1: zero-Pad dY back into place (one sliced axis: a placement, see RuleContext.place);
 *                   other steps (negative too): ScatterElements along the axis
 *  Pad              constant: Pad dY with the negated pads (crops what was padded, re-pads what was cropped);
 *                   reflect / edge / wrap: scatter-add along each padded axis with the static source-index map
 *  Dropout          inference: identity; training: dY · mask / (1 − ratio) (a mask output is added when missing)
 *  Expand / Tile    sum over the broadcast axes / over the tiles
 *  Gather / GatherElements   scatter-add dY at the gathered indices (ScatterND / ScatterElements, reduction 'add');
 *                   a constant scalar or run of consecutive indices: dY placed as a slab (a Pad, or one Concat)
 */
import { type Attr, type Dim, A, DataType, attrInt, attrInts, attrString, constantValues } from '../../onnx/ir.js';
import { sliceRange } from '../../onnx/shape-inference.js';
import type { BackwardRule, RuleContext, RuleSet } from '../rule.js';

const normAxis = (a: number, r: number) => (a < 0 ? a + r : a);
const isStatic = (s: Dim[] | null): s is number[] => !!s && s.every((d) => typeof d === 'number');

const reshapeBack: BackwardRule = (c) => {
  const x = c.node.inputs[0]!;
  const s = c.shape(x);
  const target = isStatic(s) ? c.b.int64(s) : c.shapeTensor(x);
  return [c.b.op('Reshape', [c.dy[0]!, target])];
};

/** Value of a small constant tensor (initializer or Constant node), any numeric type; undefined if not constant. */
export function constValues(c: RuleContext, name: string | undefined): number[] | undefined {
  return c.intValues(name) ?? constantValues(c.b.graph, name);
}

/**
 * Shape tensor of a tensor that has X's dims on the axes where `fromX` is true and Y's elsewhere
 * (X, Y: the rule's input and output); static when those dims are.
 */
function mixedShape(c: RuleContext, x: string, y: string, fromX: boolean[]): string {
  const sx = c.shape(x);
  const sy = c.shape(y);
  if (sx && sy) {
    const dims = fromX.map((f, i) => (f ? sx[i] : sy[i]));
    if (dims.every((d) => typeof d === 'number')) return c.b.int64(dims as number[]);
  }
  if (fromX.every((f) => f)) return c.shapeTensor(x);
  if (fromX.every((f) => !f)) return c.shapeTensor(y);
  const m = fromX.map((f) => (f ? 1 : 0));
  const b = c.b;
  return b.op('Add', [b.op('Mul', [c.shapeTensor(x), b.int64(m)]), b.op('Mul', [c.shapeTensor(y), b.int64(m.map((v) => 1 - v))])]);
}

/**
 * Move `cur` back along `axis`: cur[..., j, ...] goes to index[j] of an axis of length `len`
 * (summing when indices repeat). `curShape`/`outShape`: shape tensors of cur and of the result.
 */
function scatterAxis(c: RuleContext, cur: string, axis: number, rank: number, index: number[], curShape: string, outShape: string, add: boolean): string {
  const b = c.b;
  const idxDims = Array.from({ length: rank }, (_, i) => (i === axis ? index.length : 1));
  const idx = b.initializer('scatter_idx', DataType.INT64, idxDims, BigInt64Array.from(index.map((v) => BigInt(v))));
  const zeros = b.op('ConstantOfShape', [outShape], { value: A.t({ name: '', dataType: DataType.FLOAT, dims: [1], data: new Float32Array([0]) }) });
  const attrs: Record<string, Attr> = add ? { axis: A.i(axis), reduction: A.s('add') } : { axis: A.i(axis) };
  return b.op('ScatterElements', [zeros, b.op('Expand', [idx, curShape]), cur], attrs);
}

const BIG = 2 ** 31 - 1;

export const movementRules: RuleSet = {
  Identity: (c) => [c.dy[0]!],
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,

  Transpose: (c) => {
    const r = c.rank(c.node.inputs[0]!);
    const perm = attrInts(c.node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    const inv = Array<number>(r);
    perm.forEach((p, i) => (inv[p] = i));
    return [c.b.op('Transpose', [c.dy[0]!], { perm: A.ints(inv) })];
  },

  Concat: (c) => {
    const b = c.b;
    const xs = c.node.inputs;
    const r = c.rank(xs[0]!);
    const axis = normAxis(attrInt(c.node, 'axis', 0), r);
    const dy = c.dy[0]!;
    // Offsets along the axis: numbers while static, then int64 [1] tensors.
    let off: number | string = 0;
    const out: (string | undefined)[] = [];
    xs.forEach((x, i) => {
      const d = c.shape(x)?.[axis];
      const len: number | string = typeof d === 'number' ? d : b.op('Slice', [c.shapeTensor(x), b.int64([axis]), b.int64([axis + 1])]);
      const end: number | string =
        typeof off === 'number' && typeof len === 'number' ? off + len : b.op('Add', [typeof off === 'number' ? b.int64([off]) : off, typeof len === 'number' ? b.int64([len]) : len]);
      if (c.needs[i]) {
        const st = typeof off === 'number' ? b.int64([off]) : off;
        const en = typeof end === 'number' ? b.int64([end]) : end;
        out[i] = b.op('Slice', [dy, st, en, b.int64([axis])]);
      }
      off = end;
    });
    return out;
  },

  Split: (c) => {
    const x = c.node.inputs[0]!;
    const axis = normAxis(attrInt(c.node, 'axis', 0), c.rank(x));
    const parts = c.node.outputs.map((o, k) => (o ? c.dyOrZeros(k) : ''));
    if (parts.some((p) => !p)) c.fail('Split with an omitted output is not supported');
    return [parts.length === 1 ? parts[0]! : c.b.op('Concat', parts, { axis: A.i(axis) })];
  },

  Slice: (c) => {
    const b = c.b;
    const [x, sName, eName, aName, stName] = c.node.inputs as [string, string, string, string | undefined, string | undefined];
    const y = c.node.outputs[0]!;
    const xs = c.shape(x);
    if (!xs) return c.fail(`the shape of '${x}' could not be inferred`);
    const r = xs.length;
    const starts = c.intValues(sName);
    const ends = c.intValues(eName);
    const axes = aName ? c.intValues(aName) : starts?.map((_, i) => i);
    const steps = stName ? c.intValues(stName) : starts?.map(() => 1);
    if (!starts || !ends || !axes || !steps) return c.fail('Slice backward needs constant starts, ends, axes and steps');
    const padB = Array<number>(r).fill(0);
    const padE = Array<number>(r).fill(0);
    const scatters: { axis: number; index: number[] }[] = [];
    for (let k = 0; k < starts.length; k++) {
      const a = normAxis(axes[k]!, r);
      const st = steps[k]!;
      const d = xs[a];
      if (typeof d !== 'number') {
        // Dynamic length: only "from a fixed start to the end" with step 1.
        if (st === 1 && starts[k]! >= 0 && ends[k]! >= BIG) {
          padB[a] = starts[k]!;
          continue;
        }
        return c.fail(`Slice along axis ${a} of dynamic length ${d ?? '?'} needs a static length for its backward rule`);
      }
      const [s0, e0] = sliceRange(starts[k]!, ends[k]!, st, d);
      const n = Math.max(0, Math.ceil((e0 - s0) / st));
      if (n === 0) return [c.zerosLike(x)];
      if (st === 1) {
        padB[a] = s0;
        padE[a] = d - s0 - n;
      } else scatters.push({ axis: a, index: Array.from({ length: n }, (_, j) => s0 + j * st) });
    }
    const padded = padB.map((p, i) => p !== 0 || padE[i] !== 0);
    // Strided sub-grids that run to the end of axes whose length the step divides (Swin's patch merging,
    // x[:, o::2, p::2, :]): a strided placement (phase axis, Pad, Reshape), joined with its siblings.
    const grid = scatters.map((sc) => {
      const d = xs[sc.axis] as number;
      const st = sc.index.length > 1 ? sc.index[1]! - sc.index[0]! : d;
      return { axis: sc.axis, offset: sc.index[0]!, step: st, ok: st > 1 && d % st === 0 && sc.index[0]! < st && sc.index.length === d / st };
    });
    if (scatters.length && !padded.some(Boolean) && grid.every((g) => g.ok)) {
      return [c.placeStrided(c.dy[0]!, x, grid.map((g) => g.axis), grid.map((g) => g.offset), grid.map((g) => g.step))];
    }
    const a = padded.indexOf(true);
    if (!scatters.length && padded.filter(Boolean).length === 1 && typeof xs[a] === 'number') {
      return [c.place(c.dy[0]!, x, a, padB[a]!, (xs[a] as number) - padB[a]! - padE[a]!)];
    }
    let cur = c.dy[0]!;
    const restored = Array<boolean>(r).fill(false);
    for (const s of scatters) {
      const curShape = mixedShape(c, x, y, restored);
      restored[s.axis] = true;
      cur = scatterAxis(c, cur, s.axis, r, s.index, curShape, mixedShape(c, x, y, restored), false);
    }
    if (padB.some((p) => p !== 0) || padE.some((p) => p !== 0)) cur = b.op('Pad', [cur, b.int64([...padB, ...padE])], { mode: A.s('constant') });
    return [cur];
  },

  Pad: (c) => {
    const b = c.b;
    const [x, pName, cvName, aName] = c.node.inputs as [string, string | undefined, string | undefined, string | undefined];
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    const mode = attrString(c.node, 'mode', 'constant');
    const r = c.rank(x);
    const padsAttr = attrInts(c.node, 'pads');
    const pads = padsAttr ?? c.intValues(pName);
    const axesV = aName ? c.intValues(aName) : undefined;
    if (aName && !axesV) return c.fail('Pad backward needs constant axes');
    const axes = axesV ? axesV.map((a) => normAxis(a, r)) : Array.from({ length: r }, (_, i) => i);
    const out: (string | undefined)[] = [];
    if (mode === 'constant') {
      // dX = Pad(dY, −pads): positive pads were added (crop them), negative pads cropped X (pad zeros back).
      let neg: string;
      if (pads) neg = b.int64(pads.map((p) => -p));
      else if (pName) neg = b.op('Neg', [pName]);
      else return c.fail('Pad without pads');
      const inputs = [dy, neg, '', ...(aName ? [aName] : [])];
      const dx = b.op('Pad', inputs, { mode: A.s('constant') });
      if (c.needs[0]) out[0] = dx;
      if (cvName && c.needs[2]) {
        // The constant fills every output element that does not come from X.
        const diff = b.op('Sub', [b.op('ReduceSum', [dy], { keepdims: A.i(0) }), b.op('ReduceSum', [dx], { keepdims: A.i(0) })]);
        out[2] = b.op('Reshape', [diff, c.shapeTensor(cvName)]);
      }
      return out;
    }
    if (mode !== 'reflect' && mode !== 'edge' && mode !== 'wrap') return c.fail(`Pad mode '${mode}' has no backward rule`);
    if (!pads) return c.fail(`Pad mode '${mode}' backward needs constant pads`);
    const n = axes.length;
    const xs = c.shape(x)!;
    let cur = dy;
    const restored = Array<boolean>(r).fill(false);
    for (let k = 0; k < n; k++) {
      const a = axes[k]!;
      const pb = pads[k]!;
      const pe = pads[k + n]!;
      if (pb === 0 && pe === 0) continue;
      const d = xs[a];
      if (typeof d !== 'number') return c.fail(`Pad mode '${mode}' backward needs a static length on axis ${a}`);
      const len = d + pb + pe;
      const index: number[] = [];
      for (let o = 0; o < len; o++) {
        let i = o - pb;
        if (mode === 'edge') i = Math.min(d - 1, Math.max(0, i));
        else if (mode === 'wrap') i = ((i % d) + d) % d;
        else if (d === 1) i = 0;
        else {
          const period = 2 * (d - 1);
          i = ((i % period) + period) % period;
          if (i >= d) i = period - i;
        }
        index.push(i);
      }
      const curShape = mixedShape(c, x, y, restored);
      restored[a] = true;
      cur = scatterAxis(c, cur, a, r, index, curShape, mixedShape(c, x, y, restored), true);
    }
    out[0] = cur;
    if (cvName && c.needs[2]) out[2] = c.zerosLike(cvName);
    return out;
  },

  /**
   * Inference: identity. Training (training_mode true or not a constant): dX = dY · mask · 1/(1 − ratio),
   * the factor being 1 when training_mode is false at run time (then the mask is all true).
   */
  Dropout: (c) => {
    const b = c.b;
    const [, ratioName, tmName] = c.node.inputs as [string, string | undefined, string | undefined];
    const tm = tmName ? constValues(c, tmName) : [0];
    if (tm && tm.length === 1 && tm[0] === 0) return [c.dy[0]!];
    let mask = c.node.outputs[1];
    if (!mask) {
      mask = b.fresh('dropout_mask');
      c.node.outputs[1] = mask;
    }
    const ratioV = ratioName ? constValues(c, ratioName) : [0.5];
    let scale: string;
    if (ratioV && ratioV.length === 1) scale = b.float(1 / (1 - ratioV[0]!));
    else scale = b.op('Div', [b.float(1), b.op('Sub', [b.float(1), ratioName!])]);
    if (!tm) {
      // training_mode known only at run time: scale = tm ? 1/(1−r) : 1
      const t = b.op('Cast', [tmName!], { to: A.i(DataType.FLOAT) });
      scale = b.op('Add', [b.float(1), b.op('Mul', [t, b.op('Sub', [scale, b.float(1)])])]);
    }
    const m = b.op('Cast', [mask], { to: A.i(DataType.FLOAT) });
    return [b.op('Mul', [b.op('Mul', [c.dy[0]!, m]), scale])];
  },

  Expand: (c) => [c.unbroadcast(c.dy[0]!, c.node.inputs[0]!, c.node.outputs[0]!)],

  /** Y = Tile(X, reps): dY reshaped to [r0, d0, r1, d1, …], summed over the r axes. */
  Tile: (c) => {
    const b = c.b;
    const x = c.node.inputs[0]!;
    const reps = c.intValues(c.node.inputs[1]);
    if (!reps) return c.fail('Tile backward needs constant repeats');
    const xs = c.shape(x);
    if (!xs) return c.fail(`the shape of '${x}' could not be inferred`);
    if (reps.every((v) => v === 1)) return [c.dy[0]!];
    let target: string;
    if (isStatic(xs)) target = b.int64(xs.flatMap((d, i) => [reps[i]!, d]));
    else {
      const sx = c.shapeTensor(x);
      const pieces = xs.flatMap((_, i) => [b.int64([reps[i]!]), b.op('Slice', [sx, b.int64([i]), b.int64([i + 1])])]);
      target = b.op('Concat', pieces, { axis: A.i(0) });
    }
    const split = b.op('Reshape', [c.dy[0]!, target]);
    const sumAxes = xs.map((_, i) => 2 * i).filter((_, i) => reps[i] !== 1);
    const summed = b.op('ReduceSum', [split, b.int64(sumAxes)], { keepdims: A.i(0) });
    // Remaining [1, d] pairs for reps 1: reshape to X's shape.
    return [sumAxes.length === xs.length ? summed : b.op('Reshape', [summed, isStatic(xs) ? b.int64(xs) : c.shapeTensor(x)])];
  },

  /**
   * Y = Gather(X, I, axis): move the gathered axis of X first, scatter-add dY (its index dims moved first)
   * with ScatterND, move the axis back. Negative indices are wrapped with Mod.
   */
  Gather: (c) => {
    if (!c.needs[0]) return [];
    const b = c.b;
    const [x, ind] = c.node.inputs as [string, string];
    const xs = c.shape(x);
    const is = c.shape(ind);
    if (!xs || !is) return c.fail('Gather backward needs the ranks of data and indices');
    const r = xs.length;
    const q = is.length;
    const axis = normAxis(attrInt(c.node, 'axis', 0), r);
    // A constant scalar index, or consecutive constant indices: the gradient is dY placed as a slab.
    const iv = c.intValues(ind);
    const d0 = xs[axis];
    if (iv && iv.length > 0 && typeof d0 === 'number' && q <= 1) {
      const idx = iv.map((v) => (v < 0 ? v + d0 : v));
      if (idx.every((v, k) => v === idx[0]! + k && v >= 0 && v < d0)) {
        const src = q === 0 ? b.op('Unsqueeze', [c.dy[0]!, b.int64([axis])]) : c.dy[0]!;
        return [c.place(src, x, axis, idx[0]!, idx.length)];
      }
    }
    // dY: [x[:axis], I..., x[axis+1:]] → [I..., x[:axis], x[axis+1:]]
    const permY = [...Array.from({ length: q }, (_, i) => axis + i), ...Array.from({ length: axis }, (_, i) => i), ...Array.from({ length: r - axis - 1 }, (_, i) => axis + q + i)];
    const dyT = permY.every((p, i) => p === i) ? c.dy[0]! : b.op('Transpose', [c.dy[0]!], { perm: A.ints(permY) });
    const permX = [axis, ...Array.from({ length: axis }, (_, i) => i), ...Array.from({ length: r - axis - 1 }, (_, i) => axis + 1 + i)];
    const zShape = isStatic(xs) ? b.int64(permX.map((p) => xs[p] as number)) : b.op('Gather', [c.shapeTensor(x), b.int64(permX)]);
    const zeros = b.op('ConstantOfShape', [zShape], { value: A.t({ name: '', dataType: DataType.FLOAT, dims: [1], data: new Float32Array([0]) }) });
    const d = typeof xs[axis] === 'number' ? b.int64([xs[axis] as number]) : b.op('Slice', [c.shapeTensor(x), b.int64([axis]), b.int64([axis + 1])]);
    const i64 = b.op('Cast', [ind], { to: A.i(DataType.INT64) });
    const wrapped = b.op('Mod', [i64, q === 0 ? b.op('Squeeze', [d, b.int64([0])]) : d]);
    const idx = b.op('Unsqueeze', [wrapped, b.int64([-1])]);
    const scattered = b.op('ScatterND', [zeros, idx, dyT], { reduction: A.s('add') });
    const inv = Array<number>(r);
    permX.forEach((p, i) => (inv[p] = i));
    return [axis === 0 ? scattered : b.op('Transpose', [scattered], { perm: A.ints(inv) })];
  },

  GatherElements: (c) => {
    if (!c.needs[0]) return [];
    const b = c.b;
    const [x, ind] = c.node.inputs as [string, string];
    const r = c.rank(x);
    const axis = normAxis(attrInt(c.node, 'axis', 0), r);
    const xs = c.shape(x)!;
    const d = typeof xs[axis] === 'number' ? b.int64([xs[axis] as number]) : b.op('Slice', [c.shapeTensor(x), b.int64([axis]), b.int64([axis + 1])]);
    const idx = b.op('Mod', [b.op('Cast', [ind], { to: A.i(DataType.INT64) }), d]);
    return [b.op('ScatterElements', [c.zerosLike(x), idx, c.dy[0]!], { axis: A.i(axis), reduction: A.s('add') })];
  },
};
