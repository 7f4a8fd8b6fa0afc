/**
 * A compiled onnxruntime session for an IR model with named float/bool/int32 feeds and float fetches —
 * what training and other multi-input graphs need (image models go through `Model`).
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { Tensor } from '../tensor/tensor.js';
import type { Model as IRModel } from '../onnx/ir.js';
import { serializeModel } from '../onnx/proto.js';

export interface OrtSessionApi {
  InferenceSession: { create(bytes: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'float32' | 'bool' | 'int32', data: Float32Array | Uint8Array | Int32Array, dims: readonly number[]) => OrtTensor;
}

export class GraphSession {
  private constructor(
    private readonly session: InferenceSession,
    private readonly ort: OrtSessionApi,
    readonly source: string,
  ) {}

  static async create(model: IRModel, ort: OrtSessionApi, opts: { threads?: number; source?: string } = {}): Promise<GraphSession> {
    const options: InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', logSeverityLevel: 3 };
    if (opts.threads) options.intraOpNumThreads = opts.threads;
    try {
      return new GraphSession(await ort.InferenceSession.create(serializeModel(model), options), ort, opts.source ?? 'graph');
    } catch (e) {
      if ((e as Error).name === 'DeviceError') throw e; // the device, not this graph: said in one line
      throw new Error(`${opts.source ?? 'graph'}: onnxruntime could not load the graph: ${(e as Error).message}`);
    }
  }

  async run(feeds: Record<string, Tensor<Float32Array | Uint8Array | Int32Array>>, fetches?: readonly string[]): Promise<Record<string, Tensor>> {
    const f: Record<string, OrtTensor> = {};
    for (const [k, t] of Object.entries(feeds)) {
      const type = t.dtype === 'bool' ? 'bool' : t.dtype === 'int32' ? 'int32' : 'float32';
      f[k] = new this.ort.Tensor(type, t.data as Float32Array, t.shape);
    }
    const r = fetches ? await this.session.run(f, [...fetches]) : await this.session.run(f);
    const out: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(r)) {
      if (t.type === 'float32') out[k] = new Tensor(t.data as Float32Array, t.dims);
    }
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
