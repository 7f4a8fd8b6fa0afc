/**
 * A small dense tensor: a typed array plus a shape, row-major (C order).
 * Image batches are NCHW. Only what candor needs: no broadcasting algebra here.
 */

export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'int8' | 'uint16' | 'int16' | 'bool';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array;

export interface TensorLike<T extends TypedArray = TypedArray> {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: T;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Index of the first NaN or ±∞ in `a`, or −1. A plain loop (v − v is 0 exactly for finite v): the checks
 * on every model input and output run over hundreds of millions of values in an audit, where
 * `findIndex` with a closure cost seconds.
 */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

export function dtypeOf(data: TypedArray, bool = false): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return bool ? 'bool' : 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int16Array) return 'int16';
  throw new Error('unsupported typed array');
}

export class Tensor<T extends TypedArray = Float32Array> implements TensorLike<T> {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: T;

  constructor(data: T, shape: readonly number[], dtype?: DType) {
    const n = sizeOf(shape);
    if (data.length !== n) {
      throw new Error(`Tensor: data has ${data.length} elements but shape [${shape.join(',')}] needs ${n}`);
    }
    this.data = data;
    this.shape = [...shape];
    this.dtype = dtype ?? dtypeOf(data);
  }

  static zeros(shape: readonly number[]): Tensor<Float32Array> {
    return new Tensor(new Float32Array(sizeOf(shape)), shape);
  }

  static from(values: ArrayLike<number>, shape: readonly number[]): Tensor<Float32Array> {
    return new Tensor(Float32Array.from(values), shape);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Same data, new shape (one dimension may be -1). */
  reshape(shape: readonly number[]): Tensor<T> {
    const known = shape.filter((d) => d !== -1);
    const free = shape.length - known.length;
    if (free > 1) throw new Error('reshape: at most one -1');
    const k = sizeOf(known);
    const full = shape.map((d) => (d === -1 ? this.size / k : d));
    return new Tensor(this.data, full, this.dtype);
  }

  /** Rows [start, end) along the first axis, as a view. */
  slice0(start: number, end: number): Tensor<T> {
    const row = this.size / this.shape[0]!;
    const data = this.data.subarray(start * row, end * row) as T;
    return new Tensor(data, [end - start, ...this.shape.slice(1)], this.dtype);
  }

  /** Concatenate along the first axis. */
  static concat0<T extends TypedArray>(parts: readonly Tensor<T>[]): Tensor<T> {
    if (parts.length === 0) throw new Error('concat0: no tensors');
    const first = parts[0]!;
    const tail = first.shape.slice(1);
    let rows = 0;
    let total = 0;
    for (const p of parts) {
      if (p.shape.slice(1).join(',') !== tail.join(',')) {
        throw new Error(`concat0: shapes [${p.shape}] and [${first.shape}] differ beyond axis 0`);
      }
      rows += p.shape[0]!;
      total += p.size;
    }
    const Ctor = first.data.constructor as new (n: number) => T;
    const out = new Ctor(total);
    let off = 0;
    for (const p of parts) {
      (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p.data as ArrayLike<unknown>, off);
      off += p.size;
    }
    return new Tensor(out, [rows, ...tail], first.dtype);
  }
}
