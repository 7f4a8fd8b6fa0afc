/**
 * Upgrades a model's default-domain (ai.onnx) opset, rewriting the nodes whose
 * semantics or signature changed in between, so that the result computes exactly
 * the same function. The VJP builder emits opset-17 ops, so models exported at
 * opset 7–16 (torch.onnx, tf2onnx, keras2onnx) go through here first.
 *
 * Each change is one small rewrite in the RULES table: `op → { changedAt, rewrite }`.
 * A rule applies to a node when the op changed at some opset v with from < v ≤ to.
 * Rewrites that need a tensor's rank or element type run in a second pass, after
 * shape inference over the structurally upgraded graph. Ops that changed in a way
 * not handled here raise an Error naming the op, the node and the model; nothing
 * is ever silently left wrong.
 *
 * Not handled (errors): opsets below 7 (legacy broadcast/axis attributes, Reshape-1,
 * is_test…), targets above 17, Scan-8, changed ops inside If/Loop/Scan bodies, nodes of
 * custom domains, BatchNormalization with spatial=0 or with used saved_mean/saved_var,
 * used Dropout masks, Resize-10 nearest with non-constant scales, tf_half_pixel_for_nn
 * without an opset-13 equivalent, and the experimental ATen/ConstantFill/GivenTensorFill/GRUUnit.
 */
import { GraphBuilder } from './builder.js';
import {
  type Attr,
  type Dim,
  type Model,
  type Node,
  type TensorData,
  A,
  DataType,
  attrFloat,
  attrFloats,
  attrInt,
  attrInts,
  attrString,
  attrTensor,
  cloneModel,
  defaultOpset,
} from './ir.js';
import { type Inferred, inferShapes } from './shape-inference.js';

/** Oldest default-domain opset that can be upgraded (onnxruntime's oldest, too). */
export const MIN_SUPPORTED_OPSET = 7;
/** Newest target: opset 18 moves the axes of every Reduce* op to an input, which is not implemented. */
export const MAX_SUPPORTED_OPSET = 17;
/** Opset 17 belongs to IR version 8 (ONNX 1.12). */
const MIN_IR_VERSION = 8;

export interface UpgradeOptions {
  /** Model name used in error messages (e.g. the file name). */
  source?: string;
}

/** Domains versioned independently of ai.onnx: their nodes are unaffected by the upgrade. */
const INDEPENDENT_DOMAINS = new Set(['ai.onnx.ml']);

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

// ---------------------------------------------------------------------------------------------
// Rewrite context
// ---------------------------------------------------------------------------------------------

class Ctx {
  private readonly i64Cache = new Map<string, string>();
  private inferred: Inferred | null = null;

  constructor(
    readonly from: number,
    readonly to: number,
    readonly source: string,
    readonly b: GraphBuilder,
    /** Tensor names read by some node or listed as graph outputs (in the original graph). */
    private readonly used: Set<string>,
    /** Outputs of Constant nodes with a tensor value. */
    private readonly constants: Map<string, TensorData>,
  ) {}

  /** Did `op` change at some opset v with from < v ≤ to? */
  crosses(v: number): boolean {
    return this.from < v && v <= this.to;
  }

  fail(node: Node, why: string): never {
    throw new Error(
      `${this.source}: op ${node.opType} (node '${node.name}') cannot be upgraded from opset ${this.from} to ${this.to}: ${why}`,
    );
  }

  isUsed(name: string | undefined): boolean {
    return !!name && this.used.has(name);
  }

  /** A new node. With `like`, it replaces that node: same name and outputs unless given. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outputs?: string[], like?: Node): Node {
    return {
      opType,
      domain: '',
      name: like ? like.name : this.b.fresh(`${opType}_node`),
      inputs: [...inputs],
      outputs: outputs ?? (like ? [...like.outputs] : [this.b.fresh(opType)]),
      attrs,
    };
  }

  /** A 1-D int64 initializer; values beyond ±2^63 (INT64_MAX read from protobuf as a double) are clamped. */
  int64(values: readonly number[]): string {
    const key = values.join(',');
    let name = this.i64Cache.get(key);
    if (!name) {
      const data = BigInt64Array.from(values, (v) => {
        const x = BigInt(Math.trunc(v));
        return x > INT64_MAX ? INT64_MAX : x < INT64_MIN ? INT64_MIN : x;
      });
      name = this.b.initializer('const_i64', DataType.INT64, [values.length], data);
      this.i64Cache.set(key, name);
    }
    return name;
  }

  /** A float32 initializer (scalar unless dims given). */
  float(values: number | readonly number[], dims?: number[]): string {
    return this.b.float(values, dims);
  }

  /** An omitted `roi` for Resize: '' from opset 13, an empty float tensor before. */
  emptyRoi(): string {
    return this.to >= 13 ? '' : this.b.initializer('roi_empty', DataType.FLOAT, [0], new Float32Array(0));
  }

  /** The values of a float constant (initializer that is not a graph input, or Constant node), if it is one. */
  constFloats(name: string): number[] | undefined {
    if (this.b.graph.inputs.some((v) => v.name === name)) return undefined;
    const t = this.b.graph.initializers.get(name) ?? this.constants.get(name);
    if (!t || t.dataType !== DataType.FLOAT) return undefined;
    return Array.from(t.data as Float32Array);
  }

  /** Set by the engine before the second pass (shape inference of the structurally upgraded graph). */
  setInferred(inf: Inferred | null): void {
    this.inferred = inf;
  }

  shape(name: string): Dim[] | null {
    return this.inferred?.info.get(name)?.shape ?? null;
  }

  elemType(name: string): number {
    return this.inferred?.info.get(name)?.elemType ?? 0;
  }

  /**
   * A scalar with the element type of tensor `like` (for Clip min/max, Pad constant_value).
   * Returns the tensor name and the nodes that compute it (none for float32).
   */
  scalarLike(like: string, value: number, node: Node): [string, Node[]] {
    const t = this.elemType(like);
    const f = this.float(value);
    if (t === DataType.FLOAT) return [f, []];
    if (t === DataType.DOUBLE) return [this.b.initializer('const_f64', DataType.DOUBLE, [], Float64Array.of(value)), []];
    if (t !== 0) {
      const c = this.node('Cast', [f], { to: A.i(t) });
      return [c.outputs[0]!, [c]];
    }
    if (this.to >= 15) {
      const c = this.node('CastLike', [f, like]);
      return [c.outputs[0]!, [c]];
    }
    this.fail(node, `the element type of '${like}' is unknown, so the value ${value} cannot be typed`);
  }
}

type Rewrite = (node: Node, ctx: Ctx) => Node[];

interface Rule {
  /** Opsets at which the op's signature or semantics changed. */
  changedAt: number[];
  /** 2: needs ranks / element types (runs after shape inference of the pass-1 graph). */
  pass: 1 | 2;
  rewrite: Rewrite;
}

/** Copy of attrs without the named keys. */
function without(attrs: Record<string, Attr>, ...keys: string[]): Record<string, Attr> {
  const out = { ...attrs };
  for (const k of keys) delete out[k];
  return out;
}

const normAxis = (a: number, r: number): number => (a < 0 ? a + r : a);

// ---------------------------------------------------------------------------------------------
// One function per change
// ---------------------------------------------------------------------------------------------

/**
 * Softmax / LogSoftmax / Hardmax < 13 coerce the input to 2-D at `axis` (default 1) and normalise
 * over the whole flattened tail; from 13 they act on the one axis (default −1). Equal when every
 * dimension after `axis` is 1 (always for the last axis); otherwise Flatten → op(axis=1) → Reshape.
 */
function softmaxFamily(node: Node, ctx: Ctx): Node[] {
  const x = node.inputs[0]!;
  const axis = attrInt(node, 'axis', 1);
  const shape = ctx.shape(x);
  if (shape) {
    const ax = normAxis(axis, shape.length);
    if (ax < 0 || ax >= shape.length) ctx.fail(node, `axis ${axis} is out of range for rank ${shape.length}`);
    if (shape.slice(ax + 1).every((d) => d === 1)) return [{ ...node, attrs: { ...node.attrs, axis: A.i(ax) } }];
  }
  const flat = ctx.node('Flatten', [x], { axis: A.i(axis) });
  const op = ctx.node(node.opType, flat.outputs, { ...node.attrs, axis: A.i(1) });
  const shp = ctx.node('Shape', [x]);
  const back = ctx.node('Reshape', [op.outputs[0]!, shp.outputs[0]!], {}, undefined, node);
  return [flat, op, shp, back];
}

/** Squeeze / Unsqueeze 13: `axes` attribute → optional int64 input. */
function axesToInput(node: Node, ctx: Ctx): Node[] {
  const axes = attrInts(node, 'axes');
  const attrs = without(node.attrs, 'axes');
  if (!axes || axes.length === 0) {
    if (node.opType === 'Unsqueeze') ctx.fail(node, 'Unsqueeze has no axes');
    return [{ ...node, attrs }];
  }
  return [{ ...node, inputs: [node.inputs[0]!, ctx.int64(axes)], attrs }];
}

/** ReduceSum 13: `axes` → input. No axes still means "reduce everything" (noop_with_empty_axes = 0). */
function reduceSumAxes(node: Node, ctx: Ctx): Node[] {
  const axes = attrInts(node, 'axes');
  const attrs = without(node.attrs, 'axes');
  if (!axes || axes.length === 0) return [{ ...node, attrs }];
  return [{ ...node, inputs: [node.inputs[0]!, ctx.int64(axes)], attrs }];
}

/** Split 13: `split` attribute → input (no attribute: equal parts, unchanged). */
function splitToInput(node: Node, ctx: Ctx): Node[] {
  const split = attrInts(node, 'split');
  const attrs = without(node.attrs, 'split');
  if (!split || split.length === 0) return [{ ...node, attrs }];
  return [{ ...node, inputs: [node.inputs[0]!, ctx.int64(split)], attrs }];
}

/** Pad 11: `pads` → int64 input, `value` → constant_value input of the data type. */
function padToInputs(node: Node, ctx: Ctx): Node[] {
  const pads = attrInts(node, 'pads');
  if (!pads) ctx.fail(node, 'missing pads attribute');
  const mode = attrString(node, 'mode', 'constant');
  const value = attrFloat(node, 'value', 0);
  const attrs = without(node.attrs, 'pads', 'value');
  const x = node.inputs[0]!;
  if (mode !== 'constant' || value === 0) return [{ ...node, inputs: [x, ctx.int64(pads)], attrs }];
  const [cv, pre] = ctx.scalarLike(x, value, node);
  return [...pre, { ...node, inputs: [x, ctx.int64(pads), cv], attrs }];
}

/** Slice 10: `starts`/`ends`/`axes` → int64 inputs (steps 1). */
function sliceToInputs(node: Node, ctx: Ctx): Node[] {
  const starts = attrInts(node, 'starts');
  const ends = attrInts(node, 'ends');
  if (!starts || !ends) ctx.fail(node, 'missing starts/ends attributes');
  const axes = attrInts(node, 'axes');
  const inputs = [node.inputs[0]!, ctx.int64(starts), ctx.int64(ends)];
  if (axes) inputs.push(ctx.int64(axes));
  return [{ ...node, inputs, attrs: without(node.attrs, 'starts', 'ends', 'axes') }];
}

/** Clip 11: `min`/`max` attributes → scalar inputs of the data type (absent: ±∞, input omitted). */
function clipToInputs(node: Node, ctx: Ctx): Node[] {
  const x = node.inputs[0]!;
  const min = attrFloat(node, 'min');
  const max = attrFloat(node, 'max');
  const pre: Node[] = [];
  const inputs = [x];
  if (min !== undefined || max !== undefined) {
    if (min !== undefined) {
      const [n, p] = ctx.scalarLike(x, min, node);
      inputs.push(n);
      pre.push(...p);
    } else inputs.push('');
    if (max !== undefined) {
      const [n, p] = ctx.scalarLike(x, max, node);
      inputs.push(n);
      pre.push(...p);
    }
  }
  return [...pre, { ...node, inputs, attrs: without(node.attrs, 'min', 'max') }];
}

/** Dropout < 12 (ratio attribute; mask type changed at 10) is the identity in inference: Identity. */
function dropoutToIdentity(node: Node, ctx: Ctx): Node[] {
  if (ctx.isUsed(node.outputs[1])) ctx.fail(node, `its mask output '${node.outputs[1]}' is used; only inference graphs are supported`);
  return [ctx.node('Identity', [node.inputs[0]!], {}, [node.outputs[0]!], node)];
}

/** Resize attributes reproducing Upsample and Resize-10: asymmetric coordinates, floor for nearest. */
function legacyResizeAttrs(node: Node, ctx: Ctx, mode: string): Record<string, Attr> {
  if (mode === 'nearest') return { mode: A.s('nearest'), coordinate_transformation_mode: A.s('asymmetric'), nearest_mode: A.s('floor') };
  if (mode === 'linear') return { mode: A.s('linear'), coordinate_transformation_mode: A.s('asymmetric') };
  ctx.fail(node, `mode '${mode}' is not supported (nearest or linear)`);
}

/** Upsample (scales attribute < 9, input from 9; deprecated at 10) → Resize 11+ (or Upsample-9). */
function upsampleToResize(node: Node, ctx: Ctx): Node[] {
  const x = node.inputs[0]!;
  const mode = attrString(node, 'mode', 'nearest');
  const attrScales = attrFloats(node, 'scales');
  if (ctx.from < 9 && !attrScales) ctx.fail(node, 'missing scales attribute');
  const scales = ctx.from < 9 ? ctx.float(attrScales!, [attrScales!.length]) : node.inputs[1]!;
  if (ctx.to < 10) return [{ ...node, inputs: [x, scales], attrs: without(node.attrs, 'scales') }];
  const attrs = legacyResizeAttrs(node, ctx, mode);
  if (ctx.to === 10) return [ctx.node('Resize', [x, scales], { mode: A.s(mode) }, undefined, node)];
  return [ctx.node('Resize', [x, ctx.emptyRoi(), scales], attrs, undefined, node)];
}

/**
 * Resize 11: (X, scales) → (X, roi, scales[, sizes]). Resize-10 uses asymmetric coordinates; for
 * nearest, onnxruntime (and the ONNX test data) round the source index down on up-sampled axes and
 * up on down-sampled axes, so with constant scales the axes are split into a ceil Resize and a floor
 * Resize (nearest is separable). Resize 13: drops coordinate_transformation_mode 'tf_half_pixel_for_nn'
 * (x = (x' + 0.5) / scale), which for nearest equals 'half_pixel' with a shifted rounding.
 */
function resizeUpgrade(node: Node, ctx: Ctx): Node[] {
  if (ctx.from < 11) return resize10(node, ctx);
  const ctm = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  if (ctm !== 'tf_half_pixel_for_nn') return [node];
  const mode = attrString(node, 'mode', 'nearest');
  if (mode !== 'nearest') ctx.fail(node, `coordinate_transformation_mode 'tf_half_pixel_for_nn' with mode '${mode}' has no opset-13 equivalent`);
  const nearest = attrString(node, 'nearest_mode', 'round_prefer_floor');
  // floor((x'+0.5)/s) = round_prefer_ceil(z) and round_prefer_floor((x'+0.5)/s) = ceil(z), z = (x'+0.5)/s − 0.5.
  const mapped = ({ floor: 'round_prefer_ceil', round_prefer_floor: 'ceil' } as Record<string, string>)[nearest];
  if (!mapped) ctx.fail(node, `coordinate_transformation_mode 'tf_half_pixel_for_nn' with nearest_mode '${nearest}' has no opset-13 equivalent`);
  return [{ ...node, attrs: { ...node.attrs, coordinate_transformation_mode: A.s('half_pixel'), nearest_mode: A.s(mapped) } }];
}

function resize10(node: Node, ctx: Ctx): Node[] {
  const [x, scalesIn] = [node.inputs[0]!, node.inputs[1]!];
  const mode = attrString(node, 'mode', 'nearest');
  if (mode !== 'nearest') return [ctx.node('Resize', [x, ctx.emptyRoi(), scalesIn], legacyResizeAttrs(node, ctx, mode), undefined, node)];
  const scales = ctx.constFloats(scalesIn);
  if (!scales) {
    ctx.fail(node, 'nearest mode with non-constant scales: onnxruntime rounds up-sampled axes down and down-sampled axes up, which needs the scales');
  }
  const resize = (input: string, sc: string, rounding: string, last: boolean): Node => {
    const attrs = { mode: A.s('nearest'), coordinate_transformation_mode: A.s('asymmetric'), nearest_mode: A.s(rounding) };
    return ctx.node('Resize', [input, ctx.emptyRoi(), sc], attrs, undefined, last ? node : undefined);
  };
  const down = scales.map((s) => Math.min(s, 1));
  const up = scales.map((s) => Math.max(s, 1));
  if (down.every((s) => s === 1)) return [resize(x, scalesIn, 'floor', true)];
  if (up.every((s) => s === 1)) return [resize(x, scalesIn, 'ceil', true)];
  const first = resize(x, ctx.float(down, [down.length]), 'ceil', false);
  return [first, resize(first.outputs[0]!, ctx.float(up, [up.length]), 'floor', true)];
}

/**
 * BatchNormalization 9 drops `spatial` (only spatial=1 exists afterwards). Up to opset 13 the number
 * of outputs selects the mode: Y alone is inference; Y, mean, var, saved_mean, saved_var is training
 * (Y normalised with the batch statistics, as onnxruntime computes it even when the extra outputs are
 * unused). From 14 the mode is the `training_mode` attribute with outputs Y, running_mean, running_var,
 * and saved_mean / saved_var no longer exist.
 */
function batchNormUpgrade(node: Node, ctx: Ctx): Node[] {
  let attrs = node.attrs;
  if (ctx.from < 9 && ctx.to >= 9) {
    const spatial = attrInt(node, 'spatial', 1);
    if (spatial !== 1) ctx.fail(node, 'spatial=0 (per-activation statistics) is not supported');
    attrs = without(attrs, 'spatial');
  }
  const extra = node.outputs.slice(1);
  if (!ctx.crosses(14)) return [{ ...node, attrs }];
  if (extra.every((o) => !o)) return [{ ...node, attrs, outputs: node.outputs.slice(0, 1) }];
  const saved = extra.slice(2).filter((o) => ctx.isUsed(o));
  if (saved.length) ctx.fail(node, `its saved_mean / saved_var outputs (${saved.join(', ')}) are used; they do not exist from opset 14`);
  // Training mode: keep it (training_mode=1 needs exactly 3 outputs).
  const stat = (o: string | undefined, hint: string) => (o ? o : ctx.b.fresh(hint));
  const outputs = [node.outputs[0]!, stat(extra[0], 'running_mean'), stat(extra[1], 'running_var')];
  return [{ ...node, attrs: { ...attrs, training_mode: A.i(1) }, outputs }];
}

/** TopK 10: `k` attribute → 1-D int64 input. */
function topkToInput(node: Node, ctx: Ctx): Node[] {
  const k = attrInt(node, 'k');
  if (k === undefined) ctx.fail(node, 'missing k attribute');
  return [{ ...node, inputs: [node.inputs[0]!, ctx.int64([k])], attrs: without(node.attrs, 'k') }];
}

/** Scatter (deprecated at 11) is ScatterElements with the same inputs and axis. */
function scatterToScatterElements(node: Node, ctx: Ctx): Node[] {
  return [ctx.node('ScatterElements', node.inputs, node.attrs, undefined, node)];
}

/** RoiAlign 16: the default coordinate_transformation_mode became 'half_pixel'; pin the old one. */
function roiAlignMode(node: Node): Node[] {
  if (node.attrs['coordinate_transformation_mode']) return [node];
  return [{ ...node, attrs: { ...node.attrs, coordinate_transformation_mode: A.s('output_half_pixel') } }];
}

/** Experimental (removed at 10) ImageScaler: y = scale·x + bias[c] on NCHW. */
function imageScaler(node: Node, ctx: Ctx): Node[] {
  const scale = attrFloat(node, 'scale', 1);
  const bias = attrFloats(node, 'bias') ?? [];
  if (bias.length === 0) return [ctx.node('Mul', [node.inputs[0]!, ctx.float(scale)], {}, undefined, node)];
  const mul = ctx.node('Mul', [node.inputs[0]!, ctx.float(scale)]);
  const add = ctx.node('Add', [mul.outputs[0]!, ctx.float(bias, [1, bias.length, 1, 1])], {}, undefined, node);
  return [mul, add];
}

/** Experimental (removed at 10) Scale: y = scale·x. */
function scaleToMul(node: Node, ctx: Ctx): Node[] {
  return [ctx.node('Mul', [node.inputs[0]!, ctx.float(attrFloat(node, 'scale', 1))], {}, undefined, node)];
}

/** Experimental (removed at 10) Affine: y = alpha·x + beta. */
function affine(node: Node, ctx: Ctx): Node[] {
  const mul = ctx.node('Mul', [node.inputs[0]!, ctx.float(attrFloat(node, 'alpha', 1))]);
  return [mul, ctx.node('Add', [mul.outputs[0]!, ctx.float(attrFloat(node, 'beta', 0))], {}, undefined, node)];
}

/** Experimental (removed at 10) ScaledTanh: y = alpha·tanh(beta·x). */
function scaledTanh(node: Node, ctx: Ctx): Node[] {
  const mul = ctx.node('Mul', [node.inputs[0]!, ctx.float(attrFloat(node, 'beta', 1))]);
  const tanh = ctx.node('Tanh', mul.outputs);
  return [mul, tanh, ctx.node('Mul', [tanh.outputs[0]!, ctx.float(attrFloat(node, 'alpha', 1))], {}, undefined, node)];
}

/** Experimental (removed at 10) ParametricSoftplus: y = alpha·softplus(beta·x). */
function parametricSoftplus(node: Node, ctx: Ctx): Node[] {
  const mul = ctx.node('Mul', [node.inputs[0]!, ctx.float(attrFloat(node, 'beta', 1))]);
  const sp = ctx.node('Softplus', mul.outputs);
  return [mul, sp, ctx.node('Mul', [sp.outputs[0]!, ctx.float(attrFloat(node, 'alpha', 1))], {}, undefined, node)];
}

/** Experimental (removed at 10) DynamicSlice(data, starts, ends[, axes]) is Slice-10 with the same inputs. */
function dynamicSlice(node: Node, ctx: Ctx): Node[] {
  return [ctx.node('Slice', node.inputs, {}, undefined, node)];
}

/** Experimental (removed at 10) Crop on NCHW: border [left, top, right, bottom], optional scale [h, w] → Slice. */
function cropToSlice(node: Node, ctx: Ctx): Node[] {
  const border = attrInts(node, 'border');
  if (!border || border.length !== 4) ctx.fail(node, 'border must have 4 values');
  const [left, top, right, bottom] = border as [number, number, number, number];
  const scale = attrInts(node, 'scale');
  const end = (start: number, size: number | undefined, tail: number) => (size !== undefined ? start + size : tail > 0 ? -tail : 2 ** 63);
  const ends = [end(top, scale?.[0], bottom), end(left, scale?.[1], right)];
  return [ctx.node('Slice', [node.inputs[0]!, ctx.int64([top, left]), ctx.int64(ends), ctx.int64([2, 3])], {}, undefined, node)];
}

/**
 * MeanVarianceNormalization: the experimental opset-1 form (across_channels, normalize_variance) became
 * MVN-9 with `axes`. As onnxruntime computes it, the statistics are over N,H,W per channel, or over
 * all axes with across_channels=1; without normalize_variance only the mean is subtracted.
 */
function mvnAxes(node: Node, ctx: Ctx): Node[] {
  const axes = attrInt(node, 'across_channels', 0) ? [0, 1, 2, 3] : [0, 2, 3];
  const x = node.inputs[0]!;
  if (attrInt(node, 'normalize_variance', 1)) return [ctx.node('MeanVarianceNormalization', [x], { axes: A.ints(axes) }, undefined, node)];
  const mean = ctx.node('ReduceMean', [x], { axes: A.ints(axes), keepdims: A.i(1) });
  return [mean, ctx.node('Sub', [x, mean.outputs[0]!], {}, undefined, node)];
}

/** Ops that changed in a way that is not rewritten here. */
function unsupported(why: string): Rewrite {
  return (node, ctx) => ctx.fail(node, why);
}

const EXPERIMENTAL_REMOVED = 'experimental op removed from ONNX at opset 10 with no rewrite here';

const RULES: Record<string, Rule> = {
  Softmax: { changedAt: [13], pass: 2, rewrite: softmaxFamily },
  LogSoftmax: { changedAt: [13], pass: 2, rewrite: softmaxFamily },
  Hardmax: { changedAt: [13], pass: 2, rewrite: softmaxFamily },
  Squeeze: { changedAt: [13], pass: 1, rewrite: axesToInput },
  Unsqueeze: { changedAt: [13], pass: 1, rewrite: axesToInput },
  ReduceSum: { changedAt: [13], pass: 1, rewrite: reduceSumAxes },
  Split: { changedAt: [13], pass: 1, rewrite: splitToInput },
  Pad: { changedAt: [11], pass: 2, rewrite: padToInputs },
  Slice: { changedAt: [10], pass: 1, rewrite: sliceToInputs },
  Clip: { changedAt: [11], pass: 2, rewrite: clipToInputs },
  Dropout: { changedAt: [10, 12], pass: 1, rewrite: dropoutToIdentity },
  Upsample: { changedAt: [9, 10], pass: 1, rewrite: upsampleToResize },
  Resize: { changedAt: [11, 13], pass: 1, rewrite: resizeUpgrade },
  BatchNormalization: { changedAt: [9, 14], pass: 1, rewrite: batchNormUpgrade },
  TopK: { changedAt: [10], pass: 1, rewrite: topkToInput },
  Scatter: { changedAt: [11], pass: 1, rewrite: scatterToScatterElements },
  RoiAlign: { changedAt: [16], pass: 1, rewrite: roiAlignMode },
  ImageScaler: { changedAt: [10], pass: 1, rewrite: imageScaler },
  Scale: { changedAt: [10], pass: 1, rewrite: scaleToMul },
  Affine: { changedAt: [10], pass: 1, rewrite: affine },
  ScaledTanh: { changedAt: [10], pass: 1, rewrite: scaledTanh },
  ParametricSoftplus: { changedAt: [10], pass: 1, rewrite: parametricSoftplus },
  DynamicSlice: { changedAt: [10], pass: 1, rewrite: dynamicSlice },
  Crop: { changedAt: [10], pass: 1, rewrite: cropToSlice },
  ATen: { changedAt: [10], pass: 1, rewrite: unsupported(EXPERIMENTAL_REMOVED) },
  ConstantFill: { changedAt: [10], pass: 1, rewrite: unsupported(EXPERIMENTAL_REMOVED) },
  GivenTensorFill: { changedAt: [10], pass: 1, rewrite: unsupported(EXPERIMENTAL_REMOVED) },
  GRUUnit: { changedAt: [10], pass: 1, rewrite: unsupported(EXPERIMENTAL_REMOVED) },
  MeanVarianceNormalization: { changedAt: [9], pass: 1, rewrite: mvnAxes },
  Scan: { changedAt: [9], pass: 1, rewrite: unsupported('Scan-8 (batched, with sequence_lens) differs from Scan-9') },
};

function ruleFor(node: Node, ctx: Ctx): Rule | undefined {
  const rule = Object.hasOwn(RULES, node.opType) ? RULES[node.opType] : undefined;
  return rule && rule.changedAt.some((v) => ctx.crosses(v)) ? rule : undefined;
}

// ---------------------------------------------------------------------------------------------
// Sub-graphs (If / Loop / Scan bodies are opaque protobuf objects): only checked, never rewritten
// ---------------------------------------------------------------------------------------------

interface ProtoNode {
  opType?: string | null;
  domain?: string | null;
  name?: string | null;
  attribute?: { g?: { node?: ProtoNode[] | null } | null; graphs?: { node?: ProtoNode[] | null }[] | null }[] | null;
}

function checkSubgraphs(node: Node, ctx: Ctx): void {
  const visit = (nodes: ProtoNode[] | null | undefined): void => {
    for (const n of nodes ?? []) {
      const domain = n.domain ?? '';
      const op = n.opType ?? '';
      const sub: Node = { opType: op, domain, name: n.name ?? '', inputs: [], outputs: [], attrs: {} };
      if (domain && domain !== 'ai.onnx' && !INDEPENDENT_DOMAINS.has(domain)) {
        ctx.fail(node, `its sub-graph contains op ${op} of domain '${domain}'`);
      }
      if (!domain || domain === 'ai.onnx') {
        if (ruleFor(sub, ctx)) ctx.fail(node, `its sub-graph contains ${op} (node '${sub.name}'), which changed between these opsets; sub-graphs are not rewritten`);
      }
      for (const a of n.attribute ?? []) {
        if (a.g) visit(a.g.node);
        for (const g of a.graphs ?? []) visit(g.node);
      }
    }
  };
  for (const a of Object.values(node.attrs)) {
    if (a.type === 'graph') visit((a.value as { node?: ProtoNode[] } | null)?.node);
    else if (a.type === 'graphs') for (const g of (a.value as { node?: ProtoNode[] }[] | null) ?? []) visit(g.node);
  }
}

// ---------------------------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------------------------

/**
 * Returns a new model whose default-domain opset is max(target, current) and whose nodes are
 * valid at that opset, computing the same function. The argument is not modified.
 */
export function upgradeOpset(model: Model, target = MAX_SUPPORTED_OPSET, opts: UpgradeOptions = {}): Model {
  const source = opts.source ?? 'model';
  const from = defaultOpset(model);
  const to = Math.max(target, from);
  const out = cloneModel(model);
  out.irVersion = Math.max(out.irVersion, MIN_IR_VERSION);
  if (from === to) return out;
  if (to > MAX_SUPPORTED_OPSET) {
    throw new Error(`${source}: upgrading to opset ${to} is not supported (at most ${MAX_SUPPORTED_OPSET})`);
  }
  if (from < MIN_SUPPORTED_OPSET) {
    throw new Error(
      `${source}: opset ${from} is older than ${MIN_SUPPORTED_OPSET}, the oldest that can be upgraded ` +
        `(legacy broadcast/axis attributes, is_test, Reshape-1 …); re-export the model at opset ≥ ${MIN_SUPPORTED_OPSET}`,
    );
  }
  out.opsets.delete('ai.onnx');
  out.opsets.set('', to);

  const g = out.graph;
  const used = new Set<string>(g.outputs.map((v) => v.name));
  for (const n of g.nodes) for (const i of n.inputs) if (i) used.add(i);
  const constants = new Map<string, TensorData>();
  for (const n of g.nodes) {
    const t = n.opType === 'Constant' && !n.domain ? attrTensor(n, 'value') : undefined;
    if (t && n.outputs[0]) constants.set(n.outputs[0], t);
  }
  const ctx = new Ctx(from, to, source, new GraphBuilder(g, 'upgrade'), used, constants);

  for (const n of g.nodes) {
    if (n.domain && n.domain !== 'ai.onnx' && !INDEPENDENT_DOMAINS.has(n.domain)) {
      throw new Error(
        `${source}: op ${n.opType} (node '${n.name}') of domain '${n.domain}' cannot be upgraded; ` +
          `only ai.onnx ops are rewritten between opsets ${from} and ${to}`,
      );
    }
    checkSubgraphs(n, ctx);
  }

  for (const pass of [1, 2] as const) {
    if (pass === 2) {
      let inf: Inferred | null = null;
      try {
        inf = inferShapes(g);
      } catch {
        inf = null; // ranks/types unknown: the rewrites fall back to their rank-free forms
      }
      ctx.setInferred(inf);
    }
    const nodes = g.nodes;
    g.nodes = [];
    for (const n of nodes) {
      const isDefault = !n.domain || n.domain === 'ai.onnx';
      const rule = isDefault ? ruleFor(n, ctx) : undefined;
      g.nodes.push(...(rule && rule.pass === pass ? rule.rewrite(n, ctx) : [n]));
    }
  }

  // Value infos of tensors no longer produced (dropped Dropout masks, BatchNormalization statistics).
  const produced = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys()]);
  for (const n of g.nodes) for (const o of n.outputs) produced.add(o);
  for (const k of [...g.valueInfo.keys()]) if (!produced.has(k)) g.valueInfo.delete(k);
  return out;
}
