/**
 * A mutable, plain-data graph IR for ONNX models. Conversion to and from the
 * protobuf ModelProto lives in ./proto.ts; this file has no I/O.
 */

/** ONNX TensorProto.DataType codes. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

export const DataTypeName: Record<number, string> = Object.fromEntries(
  Object.entries(DataType).map(([k, v]) => [v, k.toLowerCase()]),
);

export function isFloatType(t: number): boolean {
  return t === DataType.FLOAT || t === DataType.DOUBLE || t === DataType.FLOAT16 || t === DataType.BFLOAT16;
}

export type InitData =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | BigUint64Array;

/** A constant tensor (initializer or Constant value). Strings are not supported. */
export interface TensorData {
  name: string;
  dataType: number;
  dims: number[];
  data: InitData;
}

/** One dimension: a number, a symbolic name, or unknown. */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  elemType: number;
  /** null when the rank is unknown. */
  shape: Dim[] | null;
}

export type Attr =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: TensorData }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  /** Sub-graphs (If/Loop/Scan bodies) are kept as opaque protobuf objects. */
  | { type: 'graph' | 'graphs' | 'opaque'; value: unknown };

export interface Node {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, TensorData>;
  valueInfo: Map<string, ValueInfo>;
}

export interface Model {
  irVersion: number;
  /** domain ('' for the default ai.onnx) → version */
  opsets: Map<string, number>;
  producerName: string;
  producerVersion: string;
  graph: Graph;
  /** Anything from the ModelProto we do not model (functions, metadata…), written back unchanged. */
  passthrough: Record<string, unknown>;
}

export function defaultOpset(model: Model): number {
  return model.opsets.get('') ?? model.opsets.get('ai.onnx') ?? 1;
}

// ---------- attribute accessors ----------

export function attrInt(node: Node, name: string, dflt: number): number;
export function attrInt(node: Node, name: string): number | undefined;
export function attrInt(node: Node, name: string, dflt?: number): number | undefined {
  const a = node.attrs[name];
  if (!a) return dflt;
  if (a.type !== 'int') throw new Error(`${describeNode(node)}: attribute ${name} should be an int, is ${a.type}`);
  return a.value;
}

export function attrFloat(node: Node, name: string, dflt: number): number;
export function attrFloat(node: Node, name: string): number | undefined;
export function attrFloat(node: Node, name: string, dflt?: number): number | undefined {
  const a = node.attrs[name];
  if (!a) return dflt;
  if (a.type === 'float' || a.type === 'int') return a.value;
  throw new Error(`${describeNode(node)}: attribute ${name} should be a float, is ${a.type}`);
}

export function attrInts(node: Node, name: string, dflt: number[]): number[];
export function attrInts(node: Node, name: string): number[] | undefined;
export function attrInts(node: Node, name: string, dflt?: number[]): number[] | undefined {
  const a = node.attrs[name];
  if (!a) return dflt;
  if (a.type !== 'ints') throw new Error(`${describeNode(node)}: attribute ${name} should be ints, is ${a.type}`);
  return a.value;
}

export function attrFloats(node: Node, name: string): number[] | undefined {
  const a = node.attrs[name];
  if (!a) return undefined;
  if (a.type !== 'floats') throw new Error(`${describeNode(node)}: attribute ${name} should be floats, is ${a.type}`);
  return a.value;
}

export function attrString(node: Node, name: string, dflt: string): string;
export function attrString(node: Node, name: string): string | undefined;
export function attrString(node: Node, name: string, dflt?: string): string | undefined {
  const a = node.attrs[name];
  if (!a) return dflt;
  if (a.type !== 'string') throw new Error(`${describeNode(node)}: attribute ${name} should be a string, is ${a.type}`);
  return a.value;
}

export function attrTensor(node: Node, name: string): TensorData | undefined {
  const a = node.attrs[name];
  if (!a) return undefined;
  if (a.type !== 'tensor') throw new Error(`${describeNode(node)}: attribute ${name} should be a tensor, is ${a.type}`);
  return a.value;
}

// ---------- attribute constructors (explicit, so 1.0 never becomes an int) ----------

export const A = {
  i: (value: number): Attr => ({ type: 'int', value }),
  f: (value: number): Attr => ({ type: 'float', value }),
  s: (value: string): Attr => ({ type: 'string', value }),
  ints: (value: readonly number[]): Attr => ({ type: 'ints', value: [...value] }),
  floats: (value: readonly number[]): Attr => ({ type: 'floats', value: [...value] }),
  t: (value: TensorData): Attr => ({ type: 'tensor', value }),
};

export function describeNode(node: Node): string {
  return `${node.opType} node '${node.name || node.outputs[0] || '?'}'`;
}

// ---------- graph queries ----------

/**
 * The values of a small constant tensor (an initializer or a Constant node's value), any numeric type, as
 * numbers; undefined when `name` is computed or holds more than `limit` values.
 */
export function constantValues(graph: Graph, name: string | undefined, limit = 4096): number[] | undefined {
  if (!name) return undefined;
  let data: ArrayLike<number | bigint> | undefined = graph.initializers.get(name)?.data;
  if (!data) {
    const prod = graph.nodes.find((n) => n.opType === 'Constant' && n.outputs[0] === name);
    const v = prod?.attrs['value'];
    if (v?.type === 'tensor') data = v.value.data;
    else if (prod?.attrs['value_float']?.type === 'float') return [prod.attrs['value_float'].value as number];
    else if (prod?.attrs['value_floats']?.type === 'floats') return [...(prod.attrs['value_floats'].value as number[])];
  }
  if (!data || data.length > limit) return undefined;
  return Array.from(data, (v) => Number(v));
}

/** Map each tensor name to the node that produces it. */
export function producers(graph: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

/** Map each tensor name to the nodes that consume it. */
export function consumers(graph: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      let l = m.get(i);
      if (!l) m.set(i, (l = []));
      l.push(n);
    }
  }
  return m;
}

/** Nodes in topological order (stable: keeps file order where it is already valid). Throws on cycles. */
export function topoSort(graph: Graph): Node[] {
  const avail = new Set<string>([...graph.inputs.map((v) => v.name), ...graph.initializers.keys(), '']);
  const pending = [...graph.nodes];
  const out: Node[] = [];
  let progressed = true;
  while (pending.length && progressed) {
    progressed = false;
    for (let k = 0; k < pending.length; ) {
      const n = pending[k]!;
      if (n.inputs.every((i) => avail.has(i))) {
        out.push(n);
        for (const o of n.outputs) avail.add(o);
        pending.splice(k, 1);
        progressed = true;
      } else k++;
    }
  }
  if (pending.length) {
    const n = pending[0]!;
    const missing = n.inputs.filter((i) => !avail.has(i));
    throw new Error(`graph is not a DAG or has dangling inputs: ${describeNode(n)} needs ${missing.join(', ')}`);
  }
  return out;
}

export function cloneGraph(g: Graph): Graph {
  return {
    name: g.name,
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } })),
    inputs: g.inputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null })),
    outputs: g.outputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null })),
    initializers: new Map(g.initializers),
    valueInfo: new Map(g.valueInfo),
  };
}

export function cloneModel(m: Model): Model {
  return { ...m, opsets: new Map(m.opsets), graph: cloneGraph(m.graph), passthrough: { ...m.passthrough } };
}
