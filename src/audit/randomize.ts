/**
 * Model-parameter randomization (Adebayo et al. 2018, DESIGN.md §5): the learnable layers of a
 * model, grouped into "layers" a reader can follow, and copies of the model with some groups
 * re-initialised. Cascading randomization re-initialises groups from the logits down, cumulatively;
 * independent randomization one group at a time.
 *
 * Re-initialisation follows PyTorch's `reset_parameters` defaults, so a randomized candor model is
 * what a freshly constructed torch module would hold:
 *   Conv / ConvTranspose / Gemm / MatMul weight and bias ~ U(−1/√fan_in, 1/√fan_in)
 *   (kaiming_uniform_ with a = √5); normalisation scale 1, shift 0, running mean 0, variance 1.
 * Adebayo et al. drew from a truncated normal; the choice of distribution changes the maps'
 * scale, not their (lack of) structure, and every similarity measure used is scale-free.
 */
import { attrInt, cloneModel, DataType, topoSort, type Model as IRModel, type Node, type TensorData } from '../onnx/ir.js';
import { modulePathOf } from '../runtime/layers.js';
import { Rng } from '../tensor/rng.js';

/** A layer as the randomization test sees it: nodes and the initializers they learn. */
export interface ParamGroup {
  /** Module path (`layer4`, `features.3`) or weight-name prefix. */
  name: string;
  nodes: string[];
  initializers: string[];
}

const LEARNABLE = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'GroupNormalization']);
const NORM = new Set(['BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'GroupNormalization']);

interface Unit {
  node: Node;
  inits: string[];
  path: string[];
}

function floatInit(ir: IRModel, name: string): TensorData | undefined {
  const t = ir.graph.initializers.get(name);
  return t && (t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE) ? t : undefined;
}

/** The name a node's layer goes by: its torch module path, else its weight's name without `.weight`. */
function pathOf(node: Node, inits: string[]): string[] {
  const mp = modulePathOf(node);
  if (mp) return mp.split('.');
  const w = inits[0]!;
  const m = /^(.*)\.(weight|bias|kernel|gamma|beta|running_mean|running_var)$/.exec(w);
  if (m) return m[1]!.split('.');
  return [node.name || w];
}

/**
 * Learnable layers in graph order (input side first). When there are more than `maxGroups`,
 * layers are merged by module-path prefix (`layer1.0.conv1` → `layer1.0` → `layer1`), keeping the
 * deepest prefix level that gives at most `maxGroups` groups; models without module paths are
 * merged into contiguous runs.
 */
export function parameterGroups(ir: IRModel, opts: { maxGroups?: number; source?: string } = {}): ParamGroup[] {
  const maxGroups = opts.maxGroups ?? 12;
  const seen = new Set<string>();
  const units: Unit[] = [];
  for (const node of topoSort(ir.graph)) {
    if (!LEARNABLE.has(node.opType)) continue;
    const inits = node.inputs.filter((n) => n && !seen.has(n) && floatInit(ir, n));
    if (!inits.length) continue;
    inits.forEach((n) => seen.add(n));
    units.push({ node, inits, path: pathOf(node, inits) });
  }
  if (!units.length) {
    throw new Error(`${opts.source ?? 'model'}: no learnable weights found (no Conv, Gemm, MatMul or normalisation node reads a float initializer), so the model cannot be randomized`);
  }
  const maxDepth = Math.max(...units.map((u) => u.path.length));
  for (let depth = maxDepth; depth >= 1; depth--) {
    const groups = mergeByPrefix(units, depth);
    if (groups.length <= maxGroups) return groups;
  }
  // Even top-level prefixes are too many (flat names): contiguous runs of equal size.
  const per = Math.ceil(units.length / maxGroups);
  const out: ParamGroup[] = [];
  for (let i = 0; i < units.length; i += per) {
    const run = units.slice(i, i + per);
    const first = run[0]!.path.join('.');
    const last = run[run.length - 1]!.path.join('.');
    out.push({ name: first === last ? first : `${first} … ${last}`, nodes: run.map((u) => u.node.name), initializers: run.flatMap((u) => u.inits) });
  }
  return out;
}

/** Consecutive units sharing their first `depth` path segments form one group. */
function mergeByPrefix(units: Unit[], depth: number): ParamGroup[] {
  const out: ParamGroup[] = [];
  let key = '';
  for (const u of units) {
    const k = u.path.slice(0, depth).join('.');
    if (out.length && k === key) {
      out[out.length - 1]!.nodes.push(u.node.name);
      out[out.length - 1]!.initializers.push(...u.inits);
    } else {
      out.push({ name: k, nodes: [u.node.name], initializers: [...u.inits] });
      key = k;
    }
  }
  // The same prefix appearing in two separate runs would give two groups of one name.
  const names = new Map<string, number>();
  for (const g of out) names.set(g.name, (names.get(g.name) ?? 0) + 1);
  const count = new Map<string, number>();
  for (const g of out) {
    if (names.get(g.name)! > 1) {
      const i = (count.get(g.name) ?? 0) + 1;
      count.set(g.name, i);
      g.name = `${g.name} (${i})`;
    }
  }
  return out;
}

/** fan_in of a weight as torch computes it (size(1) × receptive field; Conv and ConvTranspose alike). */
function fanIn(node: Node, dims: readonly number[]): number {
  if (node.opType === 'Gemm') return attrInt(node, 'transB', 0) ? dims[1]! : dims[0]!;
  if (node.opType === 'MatMul') return dims[0]!;
  return dims.slice(1).reduce((a, b) => a * b, 1);
}

/** Re-initialised values for one initializer of a learnable node (see the file header). */
function freshValues(node: Node, t: TensorData, weightDims: readonly number[], rng: Rng): Float32Array {
  const n = t.dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (NORM.has(node.opType)) {
    // BatchNormalization inputs: X, scale, B, mean, var; Instance/Layer/Group: X, scale, B.
    const slot = node.inputs.indexOf(t.name);
    return out.fill(slot === 1 || slot === 4 ? 1 : 0);
  }
  const fi = Math.max(1, fanIn(node, weightDims));
  const b = 1 / Math.sqrt(fi);
  return rng.fillUniform(out, -b, b);
}

/**
 * A copy of the model whose groups' initializers are re-initialised. Seeded per initializer name,
 * so a group gets the same random weights whatever else is randomized with it (cascading step k
 * shares step k−1's draws), which keeps the curves free of re-draw noise.
 */
export function randomizeGroups(ir: IRModel, groups: readonly ParamGroup[], seed: number): IRModel {
  const out = cloneModel(ir);
  const rng = new Rng(seed);
  const byName = new Map(ir.graph.nodes.map((n) => [n.name, n] as const));
  for (const g of groups) {
    for (const nodeName of g.nodes) {
      const node = byName.get(nodeName);
      if (!node) throw new Error(`randomize: node '${nodeName}' of group '${g.name}' is not in the model`);
      const weight = ir.graph.initializers.get(node.inputs[1] ?? '');
      for (const name of node.inputs) {
        if (!g.initializers.includes(name)) continue;
        const t = ir.graph.initializers.get(name)!;
        const values = freshValues(node, t, weight?.dims ?? t.dims, rng.fork(name));
        out.graph.initializers.set(name, { ...t, data: t.dataType === DataType.DOUBLE ? Float64Array.from(values) : values });
      }
    }
  }
  return out;
}

/**
 * Cascading randomization steps, from the logits down: step k re-initialises the top k groups.
 * Returns, for each step, the groups randomized so far (last is every group).
 */
export function cascadingSteps(groups: readonly ParamGroup[]): ParamGroup[][] {
  const top = [...groups].reverse();
  return top.map((_g, k) => top.slice(0, k + 1));
}
