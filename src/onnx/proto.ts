/**
 * ModelProto ⇄ IR, using the generated protobufjs code of the `onnx-proto` package.
 * No file-system access: external tensor data is resolved through a callback
 * (the Node adapter reads files; the browser passes bytes).
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxNs } from 'onnx-proto';
import {
  type Attr,
  type Dim,
  type Graph,
  type InitData,
  type Model,
  type Node,
  type TensorData,
  type ValueInfo,
  DataType,
  DataTypeName,
} from './ir.js';

const onnx = (onnxProto as unknown as { onnx: typeof OnnxNs }).onnx;

type Long = { toNumber(): number; toString(): string; low: number; high: number };
type IntLike = number | Long | null | undefined;

function num(v: IntLike): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function big(v: IntLike): bigint {
  if (v === null || v === undefined) return 0n;
  return typeof v === 'number' ? BigInt(v) : BigInt(v.toString());
}

/** Reads a byte range of an external-data file named in a TensorProto. */
export type ExternalDataReader = (location: string, offset: number, length: number | undefined) => Uint8Array;

export interface ParseOptions {
  /** Used for initializers stored outside the .onnx file (models over 2 GB, or saved that way). */
  readExternal?: ExternalDataReader;
  /** Name used in error messages. */
  source?: string;
}

const BYTES_PER: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.DOUBLE]: 8,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.BOOL]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.FLOAT16]: 2,
  [DataType.BFLOAT16]: 2,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
};

function allocFor(dataType: number, n: number, where: string): InitData {
  switch (dataType) {
    case DataType.FLOAT:
      return new Float32Array(n);
    case DataType.DOUBLE:
      return new Float64Array(n);
    case DataType.INT32:
      return new Int32Array(n);
    case DataType.INT64:
      return new BigInt64Array(n);
    case DataType.UINT8:
    case DataType.BOOL:
      return new Uint8Array(n);
    case DataType.INT8:
      return new Int8Array(n);
    case DataType.UINT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return new Uint16Array(n);
    case DataType.INT16:
      return new Int16Array(n);
    case DataType.UINT32:
      return new Uint32Array(n);
    case DataType.UINT64:
      return new BigUint64Array(n);
    default:
      throw new Error(`${where}: tensor data type ${DataTypeName[dataType] ?? dataType} is not supported`);
  }
}

/** The largest weight tensor candor reads (larger ones are damage, or not a model this tool can run). */
const MAX_TENSOR_BYTES = 8 * 2 ** 30;

function tensorFromProto(t: OnnxNs.ITensorProto, opts: ParseOptions): TensorData {
  const name = t.name ?? '';
  const dataType = t.dataType ?? 0;
  const dims = (t.dims ?? []).map((d) => num(d as IntLike));
  const where = `${opts.source ?? 'model'}: tensor '${name}'`;
  // Sizes are checked before anything is allocated: a damaged or hostile file may declare any dims.
  const bad = dims.findIndex((d) => !(Number.isSafeInteger(d) && d >= 0));
  if (bad >= 0) throw new Error(`${where}: dims [${dims.join(', ')}]: dim ${bad} is not a non-negative integer`);
  const n = dims.reduce((a, b) => a * b, 1);
  const width = BYTES_PER[dataType];
  if (width === undefined) allocFor(dataType, 0, where); // names the unsupported type
  if (!Number.isSafeInteger(n) || n * width! > MAX_TENSOR_BYTES) throw new Error(`${where}: dims [${dims.join(', ')}] declare ${n.toLocaleString('en')} elements, more than a weight tensor candor reads (${(MAX_TENSOR_BYTES / 2 ** 30).toFixed(0)} GiB)`);
  let raw: Uint8Array | undefined;
  if (t.dataLocation === 1 /* EXTERNAL */) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = kv.get('location');
    if (!location) throw new Error(`${where}: external data without a location`);
    if (!opts.readExternal) {
      throw new Error(`${where}: weights are stored in an external file '${location}'; load the model from its path so the file can be found`);
    }
    const offset = Number(kv.get('offset') ?? 0);
    const length = kv.has('length') ? Number(kv.get('length')) : n * width!;
    if (!(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0)) throw new Error(`${where}: external data offset '${kv.get('offset')}' or length '${kv.get('length')}' is not a non-negative integer`);
    if (length !== n * width!) throw new Error(`${where}: external data length ${length} bytes, expected ${n * width!} for dims [${dims.join(',')}]`);
    raw = opts.readExternal(location, offset, length);
  } else if (t.rawData && t.rawData.length > 0) {
    raw = t.rawData;
  }
  if (raw && raw.length !== n * width!) {
    throw new Error(`${where}: raw data has ${raw.length} bytes, expected ${n * width!} for dims [${dims.join(',')}]`);
  }
  let src: ArrayLike<number | bigint> | undefined;
  if (!raw && n > 0) {
    switch (dataType) {
      case DataType.FLOAT:
        src = t.floatData ?? undefined;
        break;
      case DataType.DOUBLE:
        src = t.doubleData ?? undefined;
        break;
      case DataType.INT64:
        src = (t.int64Data ?? []).map((v) => big(v as IntLike));
        break;
      case DataType.UINT64:
        src = (t.uint64Data ?? []).map((v) => big(v as IntLike));
        break;
      case DataType.UINT32:
        src = (t.uint64Data ?? []).map((v) => num(v as IntLike));
        break;
      default:
        src = t.int32Data ?? undefined; // int32, int16, int8, uint8, uint16, bool, float16 bits
    }
    if (!src || src.length !== n) {
      throw new Error(`${where}: has ${src?.length ?? 0} values, expected ${n} for dims [${dims.join(',')}]`);
    }
  }
  const data = allocFor(dataType, n, where);
  // Copy into a fresh, aligned buffer (protobuf byte fields may start at any offset).
  if (raw) new Uint8Array(data.buffer).set(raw);
  else if (src) (data as unknown as { set(a: ArrayLike<unknown>): void }).set(src);
  return { name, dataType, dims, data };
}

function tensorToProto(t: TensorData): OnnxNs.ITensorProto {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name: t.name, dataType: t.dataType, dims: t.dims, rawData: bytes };
}

function valueInfoFromProto(v: OnnxNs.IValueInfoProto): ValueInfo {
  const tt = v.type?.tensorType;
  let shape: Dim[] | null = null;
  if (tt?.shape) {
    shape = (tt.shape.dim ?? []).map((d) => {
      // protobufjs exposes the oneof case as `value` on decoded messages.
      const which = (d as { value?: string }).value;
      if (which === 'dimValue' || (which === undefined && d.dimValue !== null && d.dimValue !== undefined)) {
        return num(d.dimValue as IntLike);
      }
      if (which === 'dimParam' || d.dimParam) return d.dimParam || null;
      return null;
    });
  }
  return { name: v.name ?? '', elemType: tt?.elemType ?? 0, shape };
}

function valueInfoToProto(v: ValueInfo): OnnxNs.IValueInfoProto {
  const tensorType: OnnxNs.TypeProto.ITensor = { elemType: v.elemType };
  if (v.shape) {
    tensorType.shape = {
      dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
    };
  }
  return { name: v.name, type: { tensorType } };
}

const td = new TextDecoder();
const te = new TextEncoder();

function attrFromProto(a: OnnxNs.IAttributeProto, opts: ParseOptions): Attr {
  // Old exporters leave `type` unset: infer it from the populated field.
  let type = a.type ?? 0;
  if (!type) {
    if (a.floats?.length) type = 6;
    else if (a.ints?.length) type = 7;
    else if (a.strings?.length) type = 8;
    else if (a.t) type = 4;
    else if (a.g) type = 5;
    else if (a.s?.length) type = 3;
    else if (a.i !== undefined && a.i !== null && num(a.i as IntLike) !== 0) type = 2;
    else type = 1;
  }
  switch (type) {
    case 1:
      return { type: 'float', value: a.f ?? 0 };
    case 2:
      return { type: 'int', value: num(a.i as IntLike) };
    case 3:
      return { type: 'string', value: td.decode(a.s ?? new Uint8Array()) };
    case 4:
      if (!a.t) throw new Error(`${opts.source ?? 'model'}: attribute '${a.name ?? '?'}' is of type TENSOR but holds no tensor`);
      return { type: 'tensor', value: tensorFromProto(a.t, opts) };
    case 5:
      return { type: 'graph', value: a.g };
    case 6:
      return { type: 'floats', value: [...(a.floats ?? [])] };
    case 7:
      return { type: 'ints', value: (a.ints ?? []).map((v) => num(v as IntLike)) };
    case 8:
      return { type: 'strings', value: (a.strings ?? []).map((s) => td.decode(s)) };
    case 10:
      return { type: 'graphs', value: a.graphs };
    default:
      return { type: 'opaque', value: a };
  }
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * An int64 for protobufjs. Numbers beyond 2^53 (INT64_MAX read back as 2^63 in a double, as in
 * Slice's `ends`) would wrap when written; clamp them into int64 and pass exact bits.
 */
function int64(v: number): number | { low: number; high: number; unsigned: boolean } {
  if (Number.isSafeInteger(v)) return v;
  let b = BigInt(Math.trunc(v));
  if (b > INT64_MAX) b = INT64_MAX;
  if (b < INT64_MIN) b = INT64_MIN;
  const u = BigInt.asUintN(64, b);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: false };
}

function attrToProto(name: string, a: Attr): OnnxNs.IAttributeProto {
  switch (a.type) {
    case 'float':
      return { name, type: 1, f: a.value };
    case 'int':
      return { name, type: 2, i: int64(a.value) as number };
    case 'string':
      return { name, type: 3, s: te.encode(a.value) };
    case 'tensor':
      return { name, type: 4, t: tensorToProto(a.value) };
    case 'graph':
      return { name, type: 5, g: a.value as OnnxNs.IGraphProto };
    case 'floats':
      return { name, type: 6, floats: a.value };
    case 'ints':
      return { name, type: 7, ints: a.value.map(int64) as number[] };
    case 'strings':
      return { name, type: 8, strings: a.value.map((s) => te.encode(s)) };
    case 'graphs':
      return { name, type: 10, graphs: a.value as OnnxNs.IGraphProto[] };
    case 'opaque':
      return { ...(a.value as OnnxNs.IAttributeProto), name };
  }
}

function graphFromProto(g: OnnxNs.IGraphProto, opts: ParseOptions): Graph {
  const initializers = new Map<string, TensorData>();
  for (const t of g.initializer ?? []) {
    const td2 = tensorFromProto(t, opts);
    initializers.set(td2.name, td2);
  }
  if ((g.sparseInitializer ?? []).length) {
    throw new Error(`${opts.source ?? 'model'}: sparse initializers are not supported`);
  }
  const nodes: Node[] = (g.node ?? []).map((n, k) => {
    const attrs: Record<string, Attr> = {};
    for (const a of n.attribute ?? []) {
      if (a.refAttrName) throw new Error(`${opts.source ?? 'model'}: node ${n.name}: attribute references are only valid in functions`);
      attrs[a.name ?? ''] = attrFromProto(a, opts);
    }
    return {
      opType: n.opType ?? '',
      domain: n.domain ?? '',
      name: n.name || `${n.opType}_${k}`,
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attrs,
    };
  });
  return {
    name: g.name ?? 'graph',
    nodes,
    inputs: (g.input ?? []).map(valueInfoFromProto),
    outputs: (g.output ?? []).map(valueInfoFromProto),
    initializers,
    valueInfo: new Map((g.valueInfo ?? []).map((v) => [v.name ?? '', valueInfoFromProto(v)])),
  };
}

function graphToProto(g: Graph): OnnxNs.IGraphProto {
  return {
    name: g.name,
    node: g.nodes.map((n) => ({
      opType: n.opType,
      domain: n.domain || undefined,
      name: n.name,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs).map(([k, v]) => attrToProto(k, v)),
    })),
    initializer: [...g.initializers.values()].map(tensorToProto),
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    valueInfo: [...g.valueInfo.values()].map(valueInfoToProto),
  };
}

/** Parse ONNX bytes. Errors name `opts.source`. */
export function parseModel(bytes: Uint8Array, opts: ParseOptions = {}): Model {
  let m: OnnxNs.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`${opts.source ?? 'model'}: not a valid ONNX file (${(e as Error).message})`);
  }
  if (!m.graph) throw new Error(`${opts.source ?? 'model'}: ONNX file has no graph`);
  const opsets = new Map<string, number>();
  for (const o of m.opsetImport ?? []) opsets.set(o.domain === 'ai.onnx' ? '' : o.domain ?? '', num(o.version as IntLike));
  if (!opsets.size) opsets.set('', 1);
  return {
    irVersion: num(m.irVersion as IntLike),
    opsets,
    producerName: m.producerName ?? '',
    producerVersion: m.producerVersion ?? '',
    graph: graphFromProto(m.graph, opts),
    passthrough: {
      domain: m.domain,
      modelVersion: m.modelVersion,
      docString: m.docString,
      metadataProps: m.metadataProps,
      trainingInfo: m.trainingInfo,
      functions: m.functions,
    },
  };
}

/** Serialize the IR to ONNX bytes. All tensors are written as raw_data. */
export function serializeModel(model: Model): Uint8Array {
  const proto: OnnxNs.IModelProto = {
    ...(model.passthrough as OnnxNs.IModelProto),
    irVersion: model.irVersion,
    opsetImport: [...model.opsets].map(([domain, version]) => ({ domain, version })),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    graph: graphToProto(model.graph),
  };
  return onnx.ModelProto.encode(proto).finish();
}
