/**
 * Transformers in the graph (DESIGN.md §3): attention maps, token layers and how they fold to a grid.
 *
 * - An attention map is a Softmax over the last axis whose output is [.., T, T] and feeds a MatMul (with V),
 *   through Identity/Dropout/Cast: [N·h, T, T] as torch's nn.MultiheadAttention exports it, or
 *   [N, h, T, T] as timm-style attention does. Windowed attention (Swin) has such maps too, with
 *   N·windows in the batch dim; only maps over the model's own token sequence are "global".
 * - A token layer is a float [N, T, C] activation. It folds to a grid [N, C, h, w] by dropping the
 *   `skip` leading tokens (class, distillation, register) and reshaping the rest row-major, which is what
 *   pytorch-grad-cam's `reshape_transform` does by hand. The grid is read from the patch embedding (the
 *   first Conv whose kernel equals its stride); without one, from T and the input's aspect ratio.
 * - A 4-D activation is channels-last [N, h, w, C] (Swin keeps its features so) by data flow from
 *   Transposes and last-axis LayerNorms (channelsLastTensors).
 */
import { type Dim, type Graph, attrInt, attrInts, consumers, isFloatType, topoSort } from '../onnx/ir.js';
import type { Inferred } from '../onnx/shape-inference.js';
import { modulePathOf } from './layers.js';

export interface AttentionMap {
  /** The Softmax output. */
  tensor: string;
  module?: string;
  /** Tokens T (the map is T × T). */
  tokens: number;
  /** Heads, when the shape tells (the rank-4 head axis, or k of a k·batch leading dim). */
  heads: number | null;
  rank: 3 | 4;
}

const PASS = new Set(['Identity', 'Dropout', 'Cast']);

function multiple(d: Dim | undefined): number | null {
  if (typeof d === 'string') {
    const m = /^(\d+)\*/.exec(d);
    return m ? Number(m[1]) : 1;
  }
  return null;
}

/** `f(graph, inf)` computed once per (graph, inference) pair: explainers ask per call, graphs do not change. */
function memo<T>(f: (graph: Graph, inf: Inferred) => T): (graph: Graph, inf: Inferred) => T {
  const cache = new WeakMap<Graph, WeakMap<Inferred, T>>();
  return (graph, inf) => {
    let byInf = cache.get(graph);
    if (!byInf) cache.set(graph, (byInf = new WeakMap()));
    if (!byInf.has(inf)) byInf.set(inf, f(graph, inf));
    return byInf.get(inf)!;
  };
}

/** Every attention-probability map of the graph, in graph order. */
export const attentionMaps = memo((graph: Graph, inf: Inferred): AttentionMap[] => {
  const cons = consumers(graph);
  const out: AttentionMap[] = [];
  for (const n of topoSort(graph)) {
    if (n.opType !== 'Softmax') continue;
    const y = n.outputs[0]!;
    const s = inf.info.get(y)?.shape;
    if (!s || (s.length !== 3 && s.length !== 4)) continue;
    const ax = attrInt(n, 'axis', -1);
    if (ax !== -1 && ax !== s.length - 1) continue;
    const t = s[s.length - 1];
    if (typeof t !== 'number' || s[s.length - 2] !== t) continue;
    // Feeds a MatMul as its first operand (probabilities · V), possibly through Identity/Dropout/Cast.
    let cur = [y];
    let feeds = false;
    for (let depth = 0; depth < 3 && cur.length && !feeds; depth++) {
      const next: string[] = [];
      for (const v of cur) for (const c of cons.get(v) ?? []) {
        if (c.opType === 'MatMul' && c.inputs[0] === v) feeds = true;
        else if (PASS.has(c.opType)) next.push(c.outputs[0]!);
      }
      cur = next;
    }
    if (!feeds) continue;
    const heads = s.length === 4 ? (typeof s[1] === 'number' ? s[1] : null) : multiple(s[0]);
    out.push({ tensor: y, module: modulePathOf(n), tokens: t, heads, rank: s.length as 3 | 4 });
  }
  return out;
});

/** Token count of the model's sequence: T of [batch, T, C] float activations (the most common one). */
export const tokenCount = memo((graph: Graph, inf: Inferred): number | undefined => {
  const counts = new Map<number, number>();
  for (const n of graph.nodes) {
    for (const o of n.outputs) {
      const v = o ? inf.info.get(o) : undefined;
      if (!v?.shape || v.shape.length !== 3 || !isFloatType(v.elemType)) continue;
      // The image batch itself (a symbol, or a static batch), not windows or heads folded into it (k*batch).
      if (typeof v.shape[0] === 'string' ? v.shape[0].includes('*') : v.shape[0] === null) continue;
      if (typeof v.shape[1] !== 'number' || typeof v.shape[2] !== 'number') continue;
      counts.set(v.shape[1], (counts.get(v.shape[1]) ?? 0) + 1);
    }
  }
  let best: number | undefined;
  let most = 0;
  for (const [t, c] of counts) if (c > most) [best, most] = [t, c];
  return best;
});

/** Attention maps over the model's whole token sequence (not windows): those rollout and relevance use. */
export function globalAttention(graph: Graph, inf: Inferred): AttentionMap[] {
  const t = tokenCount(graph, inf);
  if (t === undefined) return [];
  // Rank 4 [batch, h, T, T]: the leading dim is the batch itself (Swin's windows make it k*batch).
  return attentionMaps(graph, inf).filter((a) => a.tokens === t && (a.rank === 3 || !String(inf.info.get(a.tensor)?.shape?.[0]).includes('*')));
}

export interface TokenGrid {
  /** Leading tokens dropped (class, distillation, registers). */
  skip: number;
  h: number;
  w: number;
}

/** How T tokens fold to a grid, for an input of spatial size [H, W]; undefined when no grid fits. */
export function tokenGrid(graph: Graph, inf: Inferred, tokens: number, input: readonly number[]): TokenGrid | undefined {
  // The patch embedding: the first Conv with kernel = stride.
  for (const n of topoSort(graph)) {
    if (n.opType !== 'Conv') continue;
    const k = attrInts(n, 'kernel_shape') ?? (inf.info.get(n.inputs[1]!)?.shape?.slice(2) as number[] | undefined);
    const s = attrInts(n, 'strides');
    if (!k || !s || k.length !== 2 || k[0] !== s[0] || k[1] !== s[1] || k[0]! < 2) break;
    const o = inf.info.get(n.outputs[0]!)?.shape;
    const h = o?.[2];
    const w = o?.[3];
    if (typeof h === 'number' && typeof w === 'number' && tokens - h * w >= 0 && tokens - h * w <= 16) return { skip: tokens - h * w, h, w };
    break;
  }
  const [H, W] = input as [number, number];
  for (let skip = 0; skip <= 16 && skip < tokens; skip++) {
    const n = tokens - skip;
    const h = Math.round(Math.sqrt((n * H) / W));
    if (h > 0 && n % h === 0 && Math.abs(n / h / h - W / H) < 1e-9) return { skip, h, w: n / h };
  }
  return undefined;
}

const FIRST_NORM = /(^|\.)(ln_1|norm1|layernorm_before|ln1|norm_1)$/;

/**
 * The CAM layer of a token model, as pytorch-grad-cam's tutorial advises: the last block's first norm (the
 * last block's own patch-token outputs get no gradient from a class-token head). Found by module path
 * (ln_1, norm1, layernorm_before), else as the third-last LayerNormalization on [batch, T, C] tokens (the
 * blocks' norm1, norm2 and the final norm). Undefined for models without global attention.
 */
export function defaultTokenLayer(graph: Graph, inf: Inferred): string | undefined {
  const att = globalAttention(graph, inf);
  if (!att.length) return undefined;
  const t = att[0]!.tokens;
  const isTokens = (x: string) => {
    const s = inf.info.get(x)?.shape;
    return !!s && s.length === 3 && s[1] === t;
  };
  let byName: string | undefined;
  const lns: string[] = [];
  for (const n of topoSort(graph)) {
    const o = n.outputs[0];
    if (!o || !isTokens(o) || !isFloatType(inf.info.get(o)?.elemType ?? 0)) continue;
    const path = modulePathOf(n);
    if (path && FIRST_NORM.test(path)) byName = o; // the scope's last output, as a forward hook sees it
    if (n.opType === 'LayerNormalization') lns.push(o);
  }
  return byName ?? (lns.length >= 3 ? lns[lns.length - 3] : undefined);
}

export type LayerLayout = { kind: 'nchw' } | { kind: 'nhwc' } | ({ kind: 'tokens' } & TokenGrid);

const SAME_LAYOUT = new Set(['Add', 'Sub', 'Mul', 'Div', 'Relu', 'Gelu', 'Erf', 'Sigmoid', 'Tanh', 'Identity', 'Dropout', 'Clip', 'Pad', 'Slice', 'HardSwish', 'Where', 'Max', 'Min']);

/**
 * The 4-D activations that are channels-last [N, h, w, C]: outputs of Transpose(0, 2, 3, 1), inputs of
 * Transpose(0, 3, 1, 2), tensors a LayerNormalization normalises over their last axis, and what elementwise
 * ops, Slice, Pad and MatMuls over the last axis (ConvNeXt's and Swin's Linear layers) make of them,
 * propagated through the graph (Swin keeps its features so; ConvNeXt does inside its blocks).
 */
export const channelsLastTensors = memo((graph: Graph, inf: Inferred): Set<string> => {
  const rank4 = (t: string | undefined) => !!t && inf.info.get(t)?.shape?.length === 4;
  const out = new Set<string>();
  const order = topoSort(graph);
  for (const n of order) {
    const perm = n.opType === 'Transpose' ? attrInts(n, 'perm')?.join() : undefined;
    if (perm === '0,3,1,2' && rank4(n.inputs[0])) out.add(n.inputs[0]!);
    if (n.opType === 'LayerNormalization' && rank4(n.inputs[0]) && [-1, 3].includes(attrInt(n, 'axis', -1))) out.add(n.inputs[0]!);
  }
  for (let pass = 0; pass < 2; pass++) {
    for (const n of order) {
      const y = n.outputs[0];
      if (!y || !rank4(y)) continue;
      const perm = n.opType === 'Transpose' ? attrInts(n, 'perm')?.join() : undefined;
      const fromNhwc = n.inputs.some((i) => out.has(i) && rank4(i));
      if (perm === '0,2,3,1') out.add(y);
      else if (n.opType === 'LayerNormalization' && out.has(n.inputs[0]!)) out.add(y);
      else if (SAME_LAYOUT.has(n.opType) && fromNhwc) out.add(y);
      else if (n.opType === 'MatMul' && out.has(n.inputs[0]!) && (inf.info.get(n.inputs[1]!)?.shape?.length ?? 0) <= 2) out.add(y);
      // Backward: an elementwise op's NHWC output means its 4-D inputs are NHWC too.
      if (out.has(y) && SAME_LAYOUT.has(n.opType)) for (const i of n.inputs) if (rank4(i) && inf.info.get(i)?.shape?.join() === inf.info.get(y)?.shape?.join()) out.add(i);
    }
  }
  return out;
});

/** Whether a 4-D activation is channels-last (see channelsLastTensors). */
export function isChannelsLast(graph: Graph, tensor: string, inf: Inferred): boolean {
  return channelsLastTensors(graph, inf).has(tensor);
}

/** The layout of a layer's activation, or an error text saying why it cannot be folded to a grid. */
export function layerLayout(graph: Graph, inf: Inferred, tensor: string, input: readonly number[]): LayerLayout | string {
  const s = inf.info.get(tensor)?.shape;
  if (!s) return 'its shape is unknown';
  if (s.length === 4) return isChannelsLast(graph, tensor, inf) ? { kind: 'nhwc' } : { kind: 'nchw' };
  if (s.length === 5) return { kind: 'nchw' };
  if (s.length === 3) {
    if (typeof s[0] === 'string' && s[0].includes('*')) return `its first dim is ${s[0]} (heads or windows folded into the batch), not one row per image as a token layer [N, T, C] has`;
    const t = s[1];
    if (typeof t !== 'number') return `its token count is unknown ([${s.join(', ')}])`;
    const g = tokenGrid(graph, inf, t, input);
    if (!g) return `its ${t} tokens do not fold to a grid with the input's aspect ratio (${input.join('×')}) after dropping up to 16 leading tokens`;
    return { kind: 'tokens', ...g };
  }
  return `it is ${s.length}-D [${s.join(', ')}]`;
}

