/**
 * Emits ONNX nodes into a graph with fresh, readable tensor names.
 * Used by the VJP builder, the opset upgrader, graph surgery and the model builders.
 */
import { type Attr, type Graph, type Node, type TensorData, DataType } from './ir.js';

export class GraphBuilder {
  private counter = 0;
  private readonly used: Set<string>;
  private readonly constCache = new Map<string, string>();

  constructor(
    readonly graph: Graph,
    /** Prefix for generated names, e.g. 'vjp'. */
    readonly prefix = 'b',
  ) {
    this.used = new Set<string>();
    for (const n of graph.nodes) {
      this.used.add(n.name);
      for (const o of n.outputs) this.used.add(o);
    }
    for (const v of graph.inputs) this.used.add(v.name);
    for (const k of graph.initializers.keys()) this.used.add(k);
  }

  /** A name not yet used in the graph, based on `hint`. */
  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}/${hint}_${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  /** Append a node; returns its outputs (fresh names unless given). */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, nOutputs = 1, outputs?: string[]): string[] {
    const outs = outputs ?? Array.from({ length: nOutputs }, () => this.fresh(opType));
    for (const o of outs) this.used.add(o);
    const node: Node = { opType, domain: '', name: this.fresh(`${opType}_node`), inputs: [...inputs], outputs: outs, attrs };
    this.graph.nodes.push(node);
    return outs;
  }

  /** Append a single-output node and return the output name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.node(opType, inputs, attrs, 1)[0]!;
  }

  /** Add an initializer; returns its name. */
  initializer(hint: string, dataType: number, dims: number[], data: TensorData['data']): string {
    const name = this.fresh(hint);
    this.graph.initializers.set(name, { name, dataType, dims, data });
    return name;
  }

  /** A cached int64 constant (1-D unless `scalar`). */
  int64(values: readonly number[], scalar = false): string {
    const key = `i64:${scalar ? 's' : 'v'}:${values.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.initializer('const_i64', DataType.INT64, scalar ? [] : [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A cached float32 constant (scalar unless dims given). */
  float(values: number | readonly number[], dims?: number[]): string {
    const arr = typeof values === 'number' ? [values] : [...values];
    const d = dims ?? (typeof values === 'number' ? [] : [arr.length]);
    const key = `f32:${d.join('x')}:${arr.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.initializer('const_f32', DataType.FLOAT, d, Float32Array.from(arr));
      this.constCache.set(key, name);
    }
    return name;
  }

  /** An empty string input (an omitted optional input). */
  static readonly NONE = '';
}
