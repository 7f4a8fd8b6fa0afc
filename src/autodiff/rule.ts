/**
 * The interface between the VJP builder and the per-op backward rules.
 * A rule receives the forward node and the gradients of its outputs, emits
 * backward nodes through `ctx.b`, and returns one gradient name per input
 * (undefined where the input needs none).
 */
import type { GraphBuilder } from '../onnx/builder.js';
import { type Dim, type Node, A, describeNode } from '../onnx/ir.js';
import type { Inferred } from '../onnx/shape-inference.js';

/** Switches that select between equivalent backward formulations (for tests and benchmarks). */
export interface RuleOptions {
  /** Use ConvTranspose for Conv's input gradient instead of the Conv-based forms. */
  convTranspose?: boolean;
  /**
   * Use ConvTranspose for the input gradient of Convs with fewer input channels than this (default 16;
   * 0 never): the Conv-based forms produce that few
   * channels, where onnxruntime's NCHWc convolution runs far below peak (the 3-channel 7×7/2 stem of
   * ResNet-18: 33 ms as four phase Convs, 8.6 ms as one ConvTranspose, batch 64 at 64×64).
   */
  convTransposeBelowChannels?: number;
  /** Conv weight gradient as one Conv with the output map as kernel, instead of per-tap GEMMs. */
  convWeightByConv?: boolean;
  /** Use ScatterElements even where MaxUnpool is exact (non-overlapping windows). */
  maxPoolScatter?: boolean;
  /**
   * MaxPool's gradient without MaxPool's Indices output: the first maximum of each window by ArgMax over
   * its strided taps, the gradient put back by a ConvTranspose with one-hot kernels. For execution
   * providers that take MaxPool but cannot compute its indices (onnxruntime's WebGPU provider, 1.30).
   */
  maxPoolWithoutIndices?: boolean;
}

/** Rule options every VJP of this process starts from (the device sets them: `ruleOptionsForWebGpu`). */
export const processRuleOptions: RuleOptions = {};

/**
 * Whether the gradient graphs of this process run on WebGPU (the CLI's --device webgpu, the workbench's engine):
 * onnxruntime's WebGPU provider (1.30, node and web) takes MaxPool but cannot compute its Indices output.
 */
export function ruleOptionsForWebGpu(onWebGpu: boolean): void {
  processRuleOptions.maxPoolWithoutIndices = onWebGpu ? true : undefined;
}

export interface RuleContext {
  readonly node: Node;
  readonly options: RuleOptions;
  readonly b: GraphBuilder;
  /** Gradient tensor of each output, '' when that output receives none. */
  readonly dy: readonly string[];
  /** Whether each input needs a gradient. */
  readonly needs: readonly boolean[];
  readonly inferred: Inferred;
  /** Error-message prefix: model source and node. */
  readonly where: string;
  /** Static shape (numbers, symbols or null per dim) or null if the rank is unknown. */
  shape(name: string): Dim[] | null;
  /** Rank, or a clear error. */
  rank(name: string): number;
  /** Static numeric dims, or a clear error naming what is dynamic. */
  staticDims(name: string, axes?: number[]): number[];
  /** A `Shape(name)` tensor, emitted once per name. */
  shapeTensor(name: string): string;
  /** Sum `grad` (shaped like `output`) over the axes along which `input` was broadcast; reshape to `input`. */
  unbroadcast(grad: string, input: string, output: string): string;
  /** A zero tensor shaped like `name`. */
  zerosLike(name: string): string;
  /** The dy of output k, or a zero tensor shaped like that output when it has none. */
  dyOrZeros(k: number): string;
  /** Known small integer values (e.g. axes given as a constant input). */
  intValues(name: string | undefined): number[] | undefined;
  /** Fail with a message naming the model and node. */
  fail(message: string): never;
  /**
   * The gradient of `x` when only the slab x[…, begin : begin + len, …] along `axis` received `src`:
   * `src` zero-padded to x's shape. Recorded, so that when the slabs reaching x
   * tile that axis (a Split written as Gathers or Slices, a roll), the VJP builder joins them with one
   * Concat instead of summing padded copies.
   */
  place(src: string, x: string, axis: number, begin: number, len: number): string;
  /**
   * The gradient of `x` when only the strided sub-grid x[…, o₁::s₁, …, o₂::s₂, …] received `dy` (each
   * strided axis of length n·s): dy with a phase axis after each strided one, zero-padded there to s at
   * offset o, reshaped to x. Recorded, so that the sub-grids that tile x (Swin's patch merging reads
   * x[0::2, 0::2], x[1::2, 0::2], …) are joined by Concats on the phase axes instead of a Sum.
   */
  placeStrided(dy: string, x: string, axes: number[], offsets: number[], steps: number[]): string;
}

/** A gradient that is `src` on a strided sub-grid of `x` (see RuleContext.placeStrided). */
export interface StridedPlacement {
  /** dy with the phase axes inserted (size 1 each). */
  src: string;
  x: string;
  /** The phase axes' positions in src. */
  phaseAxes: number[];
  offsets: number[];
  steps: number[];
}

/** A gradient that is `src` zero-padded along one axis of `x` (see RuleContext.place). */
export interface Placement {
  src: string;
  x: string;
  axis: number;
  begin: number;
  len: number;
  /** x's size along the axis. */
  total: number;
}

export type BackwardRule = (ctx: RuleContext) => (string | undefined)[];
export type RuleSet = Partial<Record<string, BackwardRule>>;

export function makeContext(
  node: Node,
  b: GraphBuilder,
  dy: string[],
  needs: boolean[],
  inferred: Inferred,
  source: string,
  shapeCache: Map<string, string>,
  options: RuleOptions = {},
  placements: Map<string, Placement> = new Map(),
  strided: Map<string, StridedPlacement> = new Map(),
): RuleContext {
  const where = `${source}: ${describeNode(node)}`;
  const fail = (message: string): never => {
    throw new Error(`${where}: ${message}`);
  };
  const shape = (name: string) => inferred.info.get(name)?.shape ?? null;
  const rank = (name: string) => {
    const s = shape(name);
    if (!s) fail(`the rank of '${name}' could not be inferred`);
    return s!.length;
  };
  const shapeTensor = (name: string) => {
    let s = shapeCache.get(name);
    if (!s) {
      s = b.op('Shape', [name]);
      shapeCache.set(name, s);
    }
    return s;
  };
  const ctx: RuleContext = {
    node,
    options,
    b,
    dy,
    needs,
    inferred,
    where,
    shape,
    rank,
    fail,
    shapeTensor,
    staticDims(name, axes) {
      const s = shape(name);
      if (!s) return fail(`the shape of '${name}' could not be inferred`);
      const pick = axes ?? s.map((_, i) => i);
      return pick.map((i) => {
        const d = s[i < 0 ? i + s.length : i];
        if (typeof d !== 'number') fail(`dimension ${i} of '${name}' must be static for this backward rule (it is ${d ?? 'unknown'})`);
        return d as number;
      });
    },
    intValues(name) {
      if (!name) return undefined;
      const v = inferred.values.get(name);
      if (!v || v.some((d) => typeof d !== 'number')) return undefined;
      return v as number[];
    },
    zerosLike(name) {
      return b.op('ConstantOfShape', [shapeTensor(name)], { value: A.t({ name: '', dataType: 1, dims: [1], data: new Float32Array([0]) }) });
    },
    dyOrZeros(k) {
      return dy[k] || ctx.zerosLike(node.outputs[k]!);
    },
    placeStrided(dy, x, axes, offsets, steps) {
      const r = ctx.rank(x);
      const order = axes.map((_, i) => i).sort((i, j) => axes[i]! - axes[j]!);
      const sortedAxes = order.map((i) => axes[i]!);
      const phaseAxes = sortedAxes.map((a, k) => a + k + 1);
      const src = b.op('Unsqueeze', [dy, b.int64(phaseAxes)]);
      const R = r + axes.length;
      const pads = Array<number>(2 * R).fill(0);
      order.forEach((i, k) => {
        pads[phaseAxes[k]!] = offsets[i]!;
        pads[R + phaseAxes[k]!] = steps[i]! - 1 - offsets[i]!;
      });
      const xs = ctx.shape(x);
      const target = xs && xs.every((d) => typeof d === 'number') ? b.int64(xs as number[]) : ctx.shapeTensor(x);
      const out = b.op('Reshape', [b.op('Pad', [src, b.int64(pads)], { mode: A.s('constant') }), target]);
      strided.set(out, { src, x, phaseAxes, offsets: order.map((i) => offsets[i]!), steps: order.map((i) => steps[i]!) });
      return out;
    },
    place(src, x, axis, begin, len) {
      const r = ctx.rank(x);
      const [d] = ctx.staticDims(x, [axis]) as [number];
      if (begin === 0 && len === d) return src;
      const pads = Array<number>(2 * r).fill(0);
      pads[axis] = begin;
      pads[r + axis] = d - begin - len;
      const out = b.op('Pad', [src, b.int64(pads)], { mode: A.s('constant') });
      placements.set(out, { src, x, axis, begin, len, total: d });
      return out;
    },
    unbroadcast(grad, input, output) {
      const si = shape(input);
      const so = shape(output);
      if (!si || !so) return fail(`cannot tell how '${input}' is broadcast: shapes are unknown`);
      const lead = so.length - si.length;
      const axes: number[] = [];
      for (let k = 0; k < so.length; k++) {
        if (k < lead) {
          axes.push(k);
          continue;
        }
        const a = si[k - lead];
        const o = so[k];
        if (a === o) continue;
        if (a === 1) {
          if (o !== 1) axes.push(k);
          continue;
        }
        if (typeof a === 'number' && typeof o === 'number') fail(`'${input}' [${si}] does not broadcast to [${so}]`);
        // Unknown or differently named symbolic dims: a non-1 input dim must equal the output dim.
        if (a === null) fail(`cannot tell whether dim ${k - lead} of '${input}' is broadcast (unknown size)`);
      }
      if (axes.length === 0) return grad;
      const summed = b.op('ReduceSum', [grad, b.int64(axes)], { keepdims: A.i(1) });
      if (lead === 0) return summed;
      const target = si.every((d) => typeof d === 'number') ? b.int64(si as number[]) : shapeTensor(input);
      return b.op('Reshape', [summed, target]);
    },
  };
  return ctx;
}

/** Explicit [begin..., end...] pads of a Conv/pool node, resolving auto_pad from static shapes. */
export function resolvePads(ctx: RuleContext, spatialIn: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  const n = ctx.node;
  const sp = spatialIn.length;
  const autoA = n.attrs['auto_pad'];
  const auto = autoA?.type === 'string' ? autoA.value : 'NOTSET';
  if (auto === 'NOTSET' || auto === '') {
    const p = n.attrs['pads'];
    return p?.type === 'ints' ? [...p.value] : Array(2 * sp).fill(0);
  }
  if (auto === 'VALID') return Array(2 * sp).fill(0);
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < sp; i++) {
    const out = Math.ceil(spatialIn[i]! / strides[i]!);
    const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - spatialIn[i]!);
    const small = Math.floor(total / 2);
    if (auto === 'SAME_UPPER') {
      begin.push(small);
      end.push(total - small);
    } else {
      begin.push(total - small);
      end.push(small);
    }
  }
  return [...begin, ...end];
}

/**
 * Padding that makes a transposed (adjoint) convolution/pool of an output of size Ho land on an input
 * of size H: end pads max(0, e), then a zero tail of max(0, −e), with
 * e = (Ho−1)s + (k−1)d + 1 − p_begin − H (rows never read by any window get no gradient).
 */
export function transposedPadding(H: number[], Ho: number[], k: number[], s: number[], d: number[], pads: number[]): { padEnd: number[]; tail: number[] } {
  const padEnd: number[] = [];
  const tail: number[] = [];
  for (let i = 0; i < H.length; i++) {
    const e = (Ho[i]! - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1 - pads[i]! - H[i]!;
    padEnd.push(Math.max(0, e));
    tail.push(Math.max(0, -e));
  }
  return { padEnd, tail };
}
