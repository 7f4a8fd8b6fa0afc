/** Backward rules for pooling. */
import { A, DataType, attrInt, attrInts, attrString } from '../../onnx/ir.js';
import { type RuleContext, type RuleSet, resolvePads, transposedPadding } from '../rule.js';

/**
 * AveragePool divisor along one spatial axis, per output position: the window taps inside the padded
 * input [−p_begin, H + p_end) when count_include_pad (taps beyond it, from ceil_mode, never count),
 * else the taps inside the input. The divisor of a window is the product over axes.
 * (Matches onnxruntime, checked in pool.test.ts.)
 */
function avgPoolCounts(H: number, Ho: number, k: number, s: number, d: number, pb: number, pe: number, includePad: boolean): number[] {
  const out: number[] = [];
  for (let o = 0; o < Ho; o++) {
    let n = 0;
    for (let j = 0; j < k; j++) {
      const i = o * s - pb + j * d;
      if (includePad ? i >= -pb && i < H + pe : i >= 0 && i < H) n++;
    }
    out.push(n);
  }
  return out;
}

/** Kernel = stride in every spatial dim, no padding or dilation: windows never overlap. */
function nonOverlapping(c: RuleContext): boolean {
  const n = c.node;
  const k = attrInts(n, 'kernel_shape');
  if (!k) return false;
  const s = attrInts(n, 'strides') ?? k.map(() => 1);
  const pads = attrInts(n, 'pads') ?? [];
  const d = attrInts(n, 'dilations') ?? [];
  const auto = attrString(n, 'auto_pad', 'NOTSET');
  return k.every((v, i) => s[i] === v) && pads.every((p) => p === 0) && d.every((v) => v === 1) && (auto === 'NOTSET' || auto === 'VALID');
}

/**
 * MaxPool's input gradient without its Indices output. The input, padded with −∞ (and at the end as far as
 * ceil_mode reads), is read at every kernel tap t as a strided Slice [N, C, …Ho]; each window's first tap
 * equal to its maximum (the taps in row-major order, as MaxPool scans a window) takes dY, as one of K
 * channels, put back in place by one ConvTranspose whose K kernels are one-hot at their tap, with the Conv
 * rule's padding — overlapping windows sum, as the scatter-add does. Float arithmetic only: every node runs
 * on the WebGPU provider. Equal to the Indices form, ties included (pool.test.ts).
 */
function maxPoolGradByTaps(c: RuleContext): string {
  const b = c.b;
  const x = c.node.inputs[0]!;
  const y = c.node.outputs[0]!;
  const r = c.rank(x);
  const sp = r - 2;
  const axes = Array.from({ length: sp }, (_, i) => i + 2);
  const H = c.staticDims(x, axes);
  const Ho = c.staticDims(y, axes);
  const k = attrInts(c.node, 'kernel_shape');
  if (!k) return c.fail('MaxPool without kernel_shape');
  const s = attrInts(c.node, 'strides') ?? Array(sp).fill(1);
  const d = attrInts(c.node, 'dilations') ?? Array(sp).fill(1);
  const pads = resolvePads(c, H, k, s, d);
  const readEnd = H.map((h, i) => Math.max(0, (Ho[i]! - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1 - h - pads[i]!));
  const xp = b.op('Pad', [x, b.int64([0, 0, ...pads.slice(0, sp), 0, 0, ...readEnd]), b.float(-Infinity)], { mode: A.s('constant') });
  const K = k.reduce((p, q) => p * q, 1);
  const taps: string[] = [];
  const onehot = new Float32Array(K * K);
  for (let t = 0; t < K; t++) {
    const at: number[] = [];
    let rem = t;
    for (let i = sp - 1; i >= 0; i--) {
      at[i] = rem % k[i]!;
      rem = Math.floor(rem / k[i]!);
    }
    const starts = at.map((a, i) => a * d[i]!);
    taps.push(b.op('Slice', [xp, b.int64(starts), b.int64(starts.map((st, i) => st + (Ho[i]! - 1) * s[i]! + 1)), b.int64(axes), b.int64(s)]));
    onehot[t * K + t] = 1;
  }
  // The first tap equal to the window's maximum, in float arithmetic only (no int64 ArgMax, which the
  // WebGPU provider leaves to the CPU): sel_t = [x_t = max] · (1 − taken), taken += sel_t.
  const top = b.op('Max', taps);
  let taken: string | undefined;
  const routedTaps: string[] = [];
  for (const tap of taps) {
    const eq = b.op('Cast', [b.op('Equal', [tap, top])], { to: A.i(DataType.FLOAT) });
    const sel = taken ? b.op('Mul', [eq, b.op('Sub', [b.float(1), taken])]) : eq;
    taken = taken ? b.op('Add', [taken, sel]) : sel;
    routedTaps.push(b.op('Unsqueeze', [b.op('Mul', [sel, c.dy[0]!]), b.int64([0])]));
  }
  const routed = b.op('Concat', routedTaps, { axis: A.i(0) });
  const perm = [1, 2, 0, ...axes.map((a) => a + 1)];
  const channels = b.op('Reshape', [b.op('Transpose', [routed], { perm: A.ints(perm) }), b.int64([-1, K, ...Ho])]);
  const kernels = b.initializer('maxpool_tap_kernels', DataType.FLOAT, [K, 1, ...k], onehot);
  const { padEnd, tail } = transposedPadding(H, Ho, k, s, d, pads);
  let dx = b.op('ConvTranspose', [channels, kernels], { strides: A.ints(s), dilations: A.ints(d), kernel_shape: A.ints(k), pads: A.ints([...pads.slice(0, sp), ...padEnd]) });
  if (tail.some((t) => t > 0)) dx = b.op('Pad', [dx, b.int64([0, 0, ...Array(sp).fill(0), 0, 0, ...tail])], { mode: A.s('constant') });
  return b.op('Reshape', [dx, c.shapeTensor(x)]);
}

export const poolRules: RuleSet = {
  /**
   * Re-emit the MaxPool with its Indices output and scatter-add dY at those (flattened) indices.
   * MaxUnpool would be wrong when windows overlap (ResNet's 3×3/2 pool).
   */
  MaxPool: (c) => {
    const x = c.node.inputs[0]!;
    if (attrInt(c.node, 'storage_order', 0) !== 0) c.fail('MaxPool with storage_order=1 is not supported');
    if (c.options.maxPoolWithoutIndices) return [maxPoolGradByTaps(c)];
    const b = c.b;
    const attrs = { ...c.node.attrs };
    const [, idx] = b.node('MaxPool', [x], attrs, 2);
    if (nonOverlapping(c) && !c.options.maxPoolScatter) {
      // Each input position is in at most one window, so the indices are distinct and
      // MaxUnpool (zero-filled, no reduction) is exact and cheaper than a scatter-add.
      const k = attrInts(c.node, 'kernel_shape')!;
      return [b.op('MaxUnpool', [c.dy[0]!, idx!, c.shapeTensor(x)], { kernel_shape: A.ints(k), strides: A.ints(k) })];
    }
    const flat = b.int64([-1]);
    const zeros = b.op('Reshape', [c.zerosLike(x), flat]);
    const scattered = b.op('ScatterElements', [zeros, b.op('Reshape', [idx!, flat]), b.op('Reshape', [c.dy[0]!, flat])], {
      axis: A.i(0),
      reduction: A.s('add'),
    });
    return [b.op('Reshape', [scattered, c.shapeTensor(x)])];
  },
  /**
   * MaxUnpool(X, I, shape) writes X[j] at the flat index I[j] of a zero tensor (the MaxPool rule emits it for
   * non-overlapping windows); its backward reads those positions back: dX = Gather(flatten(dY), I). Needed when
   * a VJP graph is differentiated again (src/autodiff/hvp.ts).
   */
  MaxUnpool: (c) => {
    if (!c.needs[0]) return [];
    const b = c.b;
    return [b.op('Gather', [b.op('Reshape', [c.dy[0]!, b.int64([-1])]), c.node.inputs[1]!], { axis: A.i(0) })];
  },
  /**
   * dX = ConvTranspose(dY / count) with a ones kernel, on [N·C, 1, …] so C need not be static;
   * the count map (static spatial shape) is a constant; pads as in the Conv rule.
   */
  AveragePool: (c) => {
    const b = c.b;
    const x = c.node.inputs[0]!;
    const y = c.node.outputs[0]!;
    const r = c.rank(x);
    const sp = r - 2;
    const spatialAxes = Array.from({ length: sp }, (_, i) => i + 2);
    const H = c.staticDims(x, spatialAxes);
    const Ho = c.staticDims(y, spatialAxes);
    const k = attrInts(c.node, 'kernel_shape');
    if (!k) return c.fail('AveragePool without kernel_shape');
    const s = attrInts(c.node, 'strides') ?? Array(sp).fill(1);
    const d = attrInts(c.node, 'dilations') ?? Array(sp).fill(1);
    const pads = resolvePads(c, H, k, s, d);
    const includePad = attrInt(c.node, 'count_include_pad', 0) === 1;
    const perAxis = H.map((h, i) => avgPoolCounts(h, Ho[i]!, k[i]!, s[i]!, d[i]!, pads[i]!, pads[i + sp]!, includePad));
    const total = Ho.reduce((p, q) => p * q, 1);
    const inv = new Float32Array(total);
    for (let flat = 0; flat < total; flat++) {
      let rem = flat;
      let n = 1;
      for (let i = sp - 1; i >= 0; i--) {
        n *= perAxis[i]![rem % Ho[i]!]!;
        rem = Math.floor(rem / Ho[i]!);
      }
      inv[flat] = n > 0 ? 1 / n : 0;
    }
    const scaled = b.op('Mul', [c.dy[0]!, b.initializer('avgpool_inv_count', DataType.FLOAT, [...Ho], inv)]);
    const flat = b.op('Reshape', [scaled, b.int64([-1, 1, ...Ho])]);
    const { padEnd, tail } = transposedPadding(H, Ho, k, s, d, pads);
    const ones = b.initializer('avgpool_ones', DataType.FLOAT, [1, 1, ...k], new Float32Array(k.reduce((p, q) => p * q, 1)).fill(1));
    let dx = b.op('ConvTranspose', [flat, ones], { strides: A.ints(s), dilations: A.ints(d), kernel_shape: A.ints(k), pads: A.ints([...pads.slice(0, sp), ...padEnd]) });
    if (tail.some((t) => t > 0)) dx = b.op('Pad', [dx, b.int64([0, 0, ...Array(sp).fill(0), 0, 0, ...tail])], { mode: A.s('constant') });
    return [b.op('Reshape', [dx, c.shapeTensor(x)])];
  },
  /**
   * The whole gradient of each (n, c) goes to the first maximum of its spatial map (row-major order,
   * ArgMax with select_last_index=0). With ties this is one valid subgradient; PyTorch's
   * adaptive_max_pool2d backward picks one tied element too.
   */
  GlobalMaxPool: (c) => {
    const b = c.b;
    const x = c.node.inputs[0]!;
    const flat = b.op('Reshape', [x, b.int64([0, 0, -1])]);
    const idx = b.op('ArgMax', [flat], { axis: A.i(2), keepdims: A.i(1) });
    const zeros = b.op('ConstantOfShape', [b.op('Shape', [flat])], { value: A.t({ name: '', dataType: DataType.FLOAT, dims: [1], data: new Float32Array([0]) }) });
    const upd = b.op('Reshape', [c.dy[0]!, b.int64([0, 0, 1])]);
    const scattered = b.op('ScatterElements', [zeros, idx, upd], { axis: A.i(2) });
    return [b.op('Reshape', [scattered, c.shapeTensor(x)])];
  },
  GlobalAveragePool: (c) => {
    const x = c.node.inputs[0]!;
    const r = c.rank(x);
    const s = c.shape(x)!;
    const b = c.b;
    let count: string;
    const spatial = s.slice(2);
    if (spatial.every((d) => typeof d === 'number')) count = b.float(1 / (spatial as number[]).reduce((p, q) => p * q, 1));
    else {
      const n = b.op('ReduceProd', [b.op('Slice', [c.shapeTensor(x), b.int64([2]), b.int64([r])])], { keepdims: A.i(0) });
      count = b.op('Reciprocal', [b.op('Cast', [n], { to: A.i(1) })]);
    }
    return [b.op('Expand', [b.op('Mul', [c.dy[0]!, count]), c.shapeTensor(x)])];
  },
};
