/**
 * Layer lookup: by tensor name, by module path (`layer4`, `features.8`, as torch.onnx.export
 * scopes node names: `/layer4/layer4.1/relu_1/Relu`), or automatically (the last 4-D
 * activation before global pooling / flatten). A module path resolves to the last output
 * produced inside that scope, which is what a forward hook on that module sees.
 */
import { type Graph, type Node, isFloatType, topoSort } from '../onnx/ir.js';
import type { Inferred } from '../onnx/shape-inference.js';
import { defaultTokenLayer, globalAttention, isChannelsLast, tokenCount } from './tokens.js';

export interface LayerInfo {
  /** Tensor name. */
  tensor: string;
  /** Module path (torch style) when the exporter recorded one. */
  module?: string;
  opType: string;
  shape: (number | string | null)[];
  /** How the activation maps to a grid: channels-first, channels-last, or tokens [N, T, C]. */
  layout: 'nchw' | 'nhwc' | 'tokens';
}

/**
 * torch.onnx.export scopes: each module contributes its local name, and a numbered child of a
 * container is written with the container's name (`/layer2/down/down.0/Conv` is `layer2.down.0`).
 */
export function modulePathOf(node: Node): string | undefined {
  if (!node.name.startsWith('/')) return undefined;
  const parts = node.name.split('/').filter(Boolean).slice(0, -1);
  if (!parts.length) return undefined;
  let path = parts[0]!;
  let prev = parts[0]!;
  for (const q of parts.slice(1)) {
    path += '.' + (q.startsWith(prev + '.') ? q.slice(prev.length + 1) : q);
    prev = q;
  }
  return path;
}

/** The node-name prefix torch.onnx.export gives to nodes inside a module path. */
export function torchScopePrefix(path: string): string {
  const parts = path.split('.');
  const scope: string[] = [];
  parts.forEach((p, i) => scope.push(i > 0 && /^\d+$/.test(p) ? `${parts[i - 1]}.${p}` : p));
  return `/${scope.join('/')}/`;
}

/** Rank of a feature map of this model: 5 ([N,K,d,h,w]) for a volume model (5-D input), else 4. */
function featureRank(graph: Graph, inf: Inferred): number {
  const x = graph.inputs.find((i) => !graph.initializers.has(i.name));
  return x && inf.info.get(x.name)?.shape?.length === 5 ? 5 : 4;
}

function isSpatialFloat(inf: Inferred, t: string, rank = 4): boolean {
  const v = inf.info.get(t);
  return !!v && isFloatType(v.elemType) && !!v.shape && v.shape.length === rank;
}

/**
 * The layers a CAM method can use: 4-D feature maps (channels-first, or channels-last as Swin keeps them)
 * and the [batch, T, C] token layers of a model with global attention (ViT, DeiT), which fold to a grid.
 */
export function describeLayers(graph: Graph, inf: Inferred): LayerInfo[] {
  const out: LayerInfo[] = [];
  const rank = featureRank(graph, inf);
  const tokens = globalAttention(graph, inf).length ? tokenCount(graph, inf) : undefined;
  for (const n of topoSort(graph)) {
    for (const o of n.outputs) {
      if (!o) continue;
      const v = inf.info.get(o);
      if (isSpatialFloat(inf, o, rank)) out.push({ tensor: o, module: modulePathOf(n), opType: n.opType, shape: v!.shape!, layout: rank === 4 && isChannelsLast(graph, o, inf) ? 'nhwc' : 'nchw' });
      else if (tokens !== undefined && v?.shape?.length === 3 && v.shape[1] === tokens && isFloatType(v.elemType) && !String(v.shape[0]).includes('*')) {
        out.push({ tensor: o, module: modulePathOf(n), opType: n.opType, shape: v.shape, layout: 'tokens' });
      }
    }
  }
  return out;
}

/** GlobalAveragePool/GlobalMaxPool, or ReduceMean/ReduceMax over all spatial axes (2 of a 4-D tensor, 3 of a 5-D one). */
function isGlobalSpatialPool(n: Node, inf: Inferred, rank = 4): boolean {
  if (n.opType === 'GlobalAveragePool' || n.opType === 'GlobalMaxPool') return true;
  if (n.opType !== 'ReduceMean' && n.opType !== 'ReduceMax') return false;
  const a = n.attrs['axes'];
  const axes = a?.type === 'ints' ? a.value : n.inputs[1] ? (inf.values.get(n.inputs[1]) as number[] | undefined) : undefined;
  if (!axes) return false;
  const norm = new Set(axes.map((v) => (v < 0 ? v + rank : v)));
  return norm.size === rank - 2 && Array.from({ length: rank - 2 }, (_, i) => i + 2).every((a) => norm.has(a));
}

export function resolveLayer(graph: Graph, inf: Inferred, layer: string | undefined, source: string): string {
  const order = topoSort(graph);
  if (layer === undefined || layer === '' || layer === 'auto') {
    // The input of the last global spatial pooling (squeeze-and-excitation blocks pool in the middle of
    // EfficientNet, MobileNet-V3 and RegNet-Y, so the first one is wrong), else of the last flatten; token
    // models (ViT, DeiT) have their own default (the last block's first norm, see ./tokens.ts).
    let pooled: string | undefined;
    let flattened: string | undefined;
    const rank = featureRank(graph, inf);
    for (const n of order) {
      const x = n.inputs[0];
      if (!x || !isSpatialFloat(inf, x, rank)) continue;
      if (isGlobalSpatialPool(n, inf, rank)) pooled = x;
      else if (n.opType === 'Flatten' || (n.opType === 'Reshape' && (inf.info.get(n.outputs[0]!)?.shape?.length ?? 4) <= 2)) flattened = x;
    }
    if (pooled) return pooled;
    const token = defaultTokenLayer(graph, inf);
    if (token) return token;
    if (flattened) return flattened;
    const all = describeLayers(graph, inf);
    if (!all.length) throw new Error(`${source}: no ${rank}-D activation to explain; this model has no convolutional feature maps`);
    return all[all.length - 1]!.tensor;
  }
  if (inf.info.has(layer)) return layer;
  // Module path: last output produced inside that scope.
  // torch's scoping, full dotted prefixes, and plain '/'-separated names (tf2onnx: model/conv2d/Conv2D)
  const cumulative = layer.split('.').map((_p, i, arr) => arr.slice(0, i + 1).join('.'));
  const prefixes = [torchScopePrefix(layer), `/${cumulative.join('/')}/`, `${layer}/`, `/${layer}/`];
  let found: string | undefined;
  for (const n of order) {
    if (prefixes.some((p) => n.name.startsWith(p))) {
      const o = n.outputs.find((t) => t && isFloatType(inf.info.get(t)?.elemType ?? 0));
      if (o) found = o;
    }
  }
  if (found) return found;
  const candidates = describeLayers(graph, inf);
  const modules = [...new Set(candidates.map((c) => c.module).filter(Boolean))];
  const list = (modules.length ? modules : candidates.map((c) => c.tensor)).slice(-30).join(', ');
  throw new Error(`${source}: no layer '${layer}'. Layers with feature maps include: ${list}`);
}
