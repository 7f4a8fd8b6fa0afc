/**
 * NumPy `.npy` read/write (format versions 1.0, 2.0 and 3.0). Browser-safe (no Node APIs).
 *
 * Reading: numeric dtypes `f4 f8 i1 i2 i4 i8 u1 u2 b1` in either byte order, plus two widenings because
 * the Tensor type has no such dtype: `u4` → int64 (BigInt64Array) and `f2` → float32, both exact.
 * Fortran-ordered arrays are transposed into C order. When the data is little-endian, C-ordered and
 * aligned in the input buffer, the tensor's typed array is a *view* of `bytes` (no copy); otherwise
 * it is a fresh copy.
 *
 * Writing: C order little-endian by default, version 1.0 unless the header needs more room (or
 * non-latin-1 text); options select the version, Fortran order or big-endian for tests and interop.
 */
import { Tensor, sizeOf, type DType, type TensorLike, type TypedArray } from '../tensor/tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Ctor = { new (n: number): TypedArray; new (buf: ArrayBufferLike, off: number, n: number): TypedArray };

interface DTypeInfo {
  dtype: DType;
  /** bytes per element in the file */
  size: number;
  ctor: Ctor;
  /** npy kind + size, without byte order */
  code: string;
}

const BY_CODE: Record<string, DTypeInfo> = {
  f4: { dtype: 'float32', size: 4, ctor: Float32Array, code: 'f4' },
  f8: { dtype: 'float64', size: 8, ctor: Float64Array, code: 'f8' },
  i1: { dtype: 'int8', size: 1, ctor: Int8Array, code: 'i1' },
  i2: { dtype: 'int16', size: 2, ctor: Int16Array, code: 'i2' },
  i4: { dtype: 'int32', size: 4, ctor: Int32Array, code: 'i4' },
  i8: { dtype: 'int64', size: 8, ctor: BigInt64Array, code: 'i8' },
  u1: { dtype: 'uint8', size: 1, ctor: Uint8Array, code: 'u1' },
  u2: { dtype: 'uint16', size: 2, ctor: Uint16Array, code: 'u2' },
  b1: { dtype: 'bool', size: 1, ctor: Uint8Array, code: 'b1' },
};

const BY_DTYPE: Record<DType, DTypeInfo> = {
  float32: BY_CODE.f4!,
  float64: BY_CODE.f8!,
  int8: BY_CODE.i1!,
  int16: BY_CODE.i2!,
  int32: BY_CODE.i4!,
  int64: BY_CODE.i8!,
  uint8: BY_CODE.u1!,
  uint16: BY_CODE.u2!,
  bool: BY_CODE.b1!,
};

const NAMES: Record<string, string> = {
  f2: 'float16', f4: 'float32', f8: 'float64', f16: 'float128', c8: 'complex64', c16: 'complex128',
  i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64', u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64',
  b1: 'bool',
};

/** The parsed `.npy` header. */
export interface NpyHeader {
  /** Format version, e.g. [1, 0]. */
  version: [number, number];
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the array data from the start of the file. */
  dataOffset: number;
}

// ------------------------------------------------------------------------------------- header parsing

type PyValue = string | number | boolean | null | PyValue[] | { tuple: PyValue[] } | Map<string, PyValue>;

/** Parses the Python literal subset numpy writes: dicts, tuples, lists, strings, ints, True/False/None. */
function parsePyLiteral(text: string, fail: (msg: string) => never): PyValue {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) fail(`malformed header: expected '${c}' at position ${i} in ${JSON.stringify(text)}`);
    i++;
  };
  const seq = (close: string): PyValue[] => {
    const items: PyValue[] = [];
    ws();
    while (text[i] !== close) {
      items.push(value());
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== close) fail(`malformed header: expected ',' or '${close}' at position ${i}`);
      ws();
    }
    i++;
    return items;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === undefined) return fail('malformed header: unexpected end');
    if (c === '{') {
      i++;
      const m = new Map<string, PyValue>();
      ws();
      while (text[i] !== '}') {
        const k = value();
        if (typeof k !== 'string') fail('malformed header: dictionary key is not a string');
        expect(':');
        m.set(k, value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail(`malformed header: expected ',' or '}' at position ${i}`);
        ws();
      }
      i++;
      return m;
    }
    if (c === '(') {
      i++;
      return { tuple: seq(')') };
    }
    if (c === '[') {
      i++;
      return seq(']');
    }
    if (c === "'" || c === '"') {
      i++;
      let s = '';
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') {
          i++;
          const e = text[i++];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e ?? '';
        } else s += text[i++];
      }
      if (i >= text.length) fail('malformed header: unterminated string');
      i++;
      return s;
    }
    const m = /^(-?\d+)L?|^(True|False|None)\b/.exec(text.slice(i));
    if (!m) return fail(`malformed header: unexpected ${JSON.stringify(text.slice(i, i + 10))}`);
    i += m[0].length;
    if (m[1] !== undefined) return Number(m[1]);
    return m[2] === 'True' ? true : m[2] === 'False' ? false : null;
  };
  const v = value();
  ws();
  if (i !== text.length) fail(`malformed header: trailing text ${JSON.stringify(text.slice(i, i + 20))}`);
  return v;
}

/** Parse the magic, version and header dictionary of a `.npy` file. */
export function parseNpyHeader(bytes: Uint8Array, source = '<npy>'): NpyHeader {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, k) => bytes[k] !== b)) {
    const what = bytes.length < 6 ? `only ${bytes.length} bytes` : `starts with ${describeStart(bytes)}`;
    fail(`not a .npy file (bad magic: expected \\x93NUMPY, file ${what})`);
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) fail(`unsupported .npy format version ${major}.${minor}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else {
    if (bytes.length < 12) fail('truncated: file ends inside the header length');
    headerLen = view.getUint32(8, true);
    start = 12;
  }
  if (start + headerLen > bytes.length) {
    fail(`truncated: header says ${headerLen} bytes but the file has ${bytes.length - start} after the preamble`);
  }
  const raw = bytes.subarray(start, start + headerLen);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(raw).trim();
  const dict = parsePyLiteral(text, fail);
  if (!(dict instanceof Map)) return fail('malformed header: not a dictionary');
  for (const k of ['descr', 'fortran_order', 'shape']) if (!dict.has(k)) fail(`malformed header: no '${k}' key`);
  const descrV = dict.get('descr');
  if (typeof descrV !== 'string') {
    return fail(`dtype ${pyRepr(descrV)} is not supported (structured arrays; numeric arrays only)`);
  }
  const fo = dict.get('fortran_order');
  if (typeof fo !== 'boolean') fail(`malformed header: fortran_order is ${pyRepr(fo)}`);
  const shapeV = dict.get('shape');
  const dims = shapeV && typeof shapeV === 'object' && 'tuple' in shapeV ? shapeV.tuple : undefined;
  if (!dims || !dims.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    return fail(`malformed header: shape ${pyRepr(shapeV)} is not a tuple of non-negative integers`);
  }
  return { version: [major, minor], descr: descrV, fortranOrder: fo as boolean, shape: dims as number[], dataOffset: start + headerLen };
}

function describeStart(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 6));
  if (head[0] === 0x50 && head[1] === 0x4b) return "'PK' (a zip archive: is it an .npz?)";
  return head.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

function pyRepr(v: PyValue | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'None';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(', ')}}`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  return `(${v.tuple.map(pyRepr).join(', ')}${v.tuple.length === 1 ? ',' : ''})`;
}

// ------------------------------------------------------------------------------------- reading

/** Decode a `.npy` file. `source` (a file or member name) prefixes every error message. */
export function parseNpy(bytes: Uint8Array, source = '<npy>'): Tensor<any> {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  const h = parseNpyHeader(bytes, source);
  const d = h.descr;
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(d);
  if (!m) {
    if (/^[<>|=]?O/.test(d)) fail(`dtype '${d}' is not supported (object arrays / pickled data; numeric arrays only)`);
    return fail(`dtype '${d}' is not supported (numeric arrays only)`);
  }
  const order = m[1]!;
  const code = m[2]! + m[3]!;
  const special = code === 'u4' || code === 'f2';
  const info = BY_CODE[code];
  if (!info && !special) {
    const name = NAMES[code];
    return fail(`dtype '${d}'${name ? ` (${name})` : ''} is not supported (numeric arrays only)`);
  }
  const itemSize = Number(m[3]);
  // '=' is "native" to the writer; files are written little-endian in practice.
  const fileLittle = order !== '>';
  const n = sizeOf(h.shape);
  const nbytes = n * itemSize;
  const available = bytes.length - h.dataOffset;
  if (available < nbytes) {
    const name = NAMES[code] ?? d;
    fail(`truncated: header says ${n} ${name} values (${nbytes} bytes), file has ${available} bytes of data`);
  }
  const src = bytes.subarray(h.dataOffset, h.dataOffset + nbytes);
  const swap = itemSize > 1 && fileLittle !== HOST_LITTLE;

  let data: TypedArray;
  let dtype: DType;
  if (special) {
    const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
    if (code === 'u4') {
      const out = new BigInt64Array(n);
      for (let k = 0; k < n; k++) out[k] = BigInt(dv.getUint32(4 * k, fileLittle));
      data = out;
      dtype = 'int64';
    } else {
      const out = new Float32Array(n);
      for (let k = 0; k < n; k++) out[k] = halfToFloat(dv.getUint16(2 * k, fileLittle));
      data = out;
      dtype = 'float32';
    }
  } else {
    dtype = info!.dtype;
    const abs = src.byteOffset;
    if (!swap && abs % itemSize === 0) {
      data = new info!.ctor(src.buffer, abs, n);
    } else {
      const copy = src.slice();
      if (swap) byteSwap(copy, itemSize);
      data = new info!.ctor(copy.buffer, 0, n);
    }
  }
  if (h.fortranOrder && h.shape.length > 1) data = reorder(data, h.shape, true);
  return new Tensor(data, h.shape, dtype);
}

function byteSwap(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) {
    for (let lo = i, hi = i + size - 1; lo < hi; lo++, hi--) {
      const t = b[lo]!;
      b[lo] = b[hi]!;
      b[hi] = t;
    }
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Copy `src` into a new array of the same type with the other memory order.
 * fromFortran=true: src is column-major (first index fastest), output is row-major; false: the reverse.
 */
function reorder(src: TypedArray, shape: readonly number[], fromFortran: boolean): TypedArray {
  const n = src.length;
  const r = shape.length;
  const out = new (src.constructor as new (n: number) => TypedArray)(n);
  if (n === 0) return out;
  // Strides of the destination layout.
  const dstStride = new Array<number>(r);
  let s = 1;
  if (fromFortran) for (let k = r - 1; k >= 0; k--) { dstStride[k] = s; s *= shape[k]!; }
  else for (let k = 0; k < r; k++) { dstStride[k] = s; s *= shape[k]!; }
  // Walk the source sequentially; its fastest axis is 0 (Fortran) or r-1 (C).
  const axes = fromFortran ? [...Array(r).keys()] : [...Array(r).keys()].reverse();
  const idx = new Array<number>(r).fill(0);
  const o = out as unknown as { [k: number]: number | bigint };
  const i = src as unknown as { [k: number]: number | bigint };
  let pos = 0;
  for (let k = 0; k < n; k++) {
    o[pos] = i[k]!;
    for (const a of axes) {
      idx[a]!++;
      pos += dstStride[a]!;
      if (idx[a]! < shape[a]!) break;
      pos -= dstStride[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------- writing

export interface NpyWriteOptions {
  /** Format version; default 1 (2 when the header does not fit in 65535 bytes, 3 when it needs UTF-8). */
  version?: 1 | 2 | 3;
  /** Store the data column-major with `fortran_order: True` (default false). */
  fortranOrder?: boolean;
  /** Byte order of multi-byte dtypes (default 'little'). */
  byteOrder?: 'little' | 'big';
}

/** Encode a tensor as a `.npy` file. */
export function encodeNpy(t: TensorLike, opts: NpyWriteOptions = {}): Uint8Array {
  const info = BY_DTYPE[t.dtype];
  if (!info) throw new Error(`encodeNpy: dtype '${t.dtype}' is not supported`);
  const n = sizeOf(t.shape);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`encodeNpy: invalid shape [${t.shape.join(',')}]`);
  }
  if (!(t.data instanceof info.ctor)) {
    throw new Error(`encodeNpy: dtype '${t.dtype}' needs a ${info.ctor.name}, got ${t.data.constructor.name}`);
  }
  if (t.data.length !== n) {
    throw new Error(`encodeNpy: data has ${t.data.length} elements but shape [${t.shape.join(',')}] needs ${n}`);
  }
  const big = opts.byteOrder === 'big' && info.size > 1;
  const descr = (info.size === 1 ? '|' : big ? '>' : '<') + info.code;
  const fortran = !!opts.fortranOrder;
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;

  // Pad with spaces and a final newline so the data starts on a 64-byte boundary (as numpy does).
  const padded = (pre: number, len: number) => Math.ceil((pre + len + 1) / 64) * 64;
  const nonLatin1 = /[^\x00-\xff]/.test(dict);
  let version = opts.version ?? (nonLatin1 ? 3 : 1);
  if (nonLatin1 && version !== 3) {
    if (opts.version) throw new Error(`encodeNpy: the header needs UTF-8, which only version 3 allows`);
    version = 3;
  }
  const body = version === 3 ? new TextEncoder().encode(dict) : Uint8Array.from(dict, (ch) => ch.charCodeAt(0));
  if (version === 1 && padded(10, body.length) - 10 > 0xffff) {
    if (opts.version === 1) throw new Error('encodeNpy: the header does not fit in a version 1.0 file (use version 2)');
    version = 2;
  }
  const pre = version === 1 ? 10 : 12;
  const total = padded(pre, body.length);
  const headerLen = total - pre;

  const dataBytes = n * info.size;
  const out = new Uint8Array(total + dataBytes);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  out.set(body, pre);
  out.fill(0x20, pre + body.length, total - 1);
  out[total - 1] = 0x0a;

  let data = t.data as TypedArray;
  if (fortran && t.shape.length > 1) data = reorder(data, t.shape, false);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, dataBytes);
  out.set(bytes, total);
  if (big !== !HOST_LITTLE && info.size > 1) byteSwap(out.subarray(total), info.size);
  return out;
}
