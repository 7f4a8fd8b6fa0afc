/**
 * Test support for the engine: run IR models in onnxruntime-node, build one-op models,
 * and compare VJP gradients with directional central finite differences.
 *
 * Directional check: for a random direction v, ⟨∇_x ⟨s, f(x)⟩, v⟩ ≈ (⟨s, f(x+εv)⟩ − ⟨s, f(x−εv)⟩) / 2ε,
 * accumulated in float64. One direction per tensor tests the whole gradient tensor at once.
 */
import * as ort from 'onnxruntime-node';
import { Tensor } from '../tensor/tensor.js';
import { type Attr, type Dim, type Model, DataType, cloneModel } from '../onnx/ir.js';
import { serializeModel } from '../onnx/proto.js';
import { inferShapes } from '../onnx/shape-inference.js';
import { buildVjp, gradName } from '../autodiff/vjp.js';
import type { RuleOptions, RuleSet } from '../autodiff/rule.js';
import { Rng } from '../tensor/rng.js';

export type Runner = (feeds: Record<string, Tensor>, outputs?: string[]) => Promise<Record<string, Tensor>>;

/** A reusable onnxruntime session for an IR model; call `.release()` when done. */
export async function sessionFor(model: Model): Promise<{ run: Runner; release: () => Promise<void> }> {
  const session = await ort.InferenceSession.create(serializeModel(model), { logSeverityLevel: 3 });
  const run: Runner = async (feeds, outputs) => {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', t.data as Float32Array, t.shape);
    const r = outputs ? await session.run(f, outputs) : await session.run(f);
    const out: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(r)) {
      if (t.type === 'float32') out[k] = new Tensor(t.data as Float32Array, t.dims);
    }
    return out;
  };
  return { run, release: () => session.release() };
}

export async function runOnnx(model: Model, feeds: Record<string, Tensor>, outputs?: string[]): Promise<Record<string, Tensor>> {
  const s = await sessionFor(model);
  try {
    return await s.run(feeds, outputs);
  } finally {
    await s.release();
  }
}

export interface OpInput {
  name: string;
  shape: number[];
  /** Constant initializer data (float32 unless dataType given). Omit for a graph input. */
  init?: ArrayLike<number>;
  dataType?: number;
}

/** A model with a single node: inputs (graph inputs or initializers) → outputs y0, y1, … */
export function opModel(opType: string, inputs: (OpInput | null)[], attrs: Record<string, Attr> = {}, nOutputs = 1, opset = 17): Model {
  const initializers = new Map<string, import('../onnx/ir.js').TensorData>();
  const graphInputs: { name: string; elemType: number; shape: Dim[] }[] = [];
  for (const i of inputs) {
    if (!i) continue;
    if (i.init) {
      const dt = i.dataType ?? DataType.FLOAT;
      const data =
        dt === DataType.INT64
          ? BigInt64Array.from(Array.from(i.init, (v) => BigInt(v)))
          : dt === DataType.FLOAT
            ? Float32Array.from(i.init)
            : dt === DataType.BOOL || dt === DataType.UINT8
              ? Uint8Array.from(i.init)
              : dt === DataType.INT8
                ? Int8Array.from(i.init)
                : dt === DataType.DOUBLE
                  ? Float64Array.from(i.init)
                  : dt === DataType.INT32
                    ? Int32Array.from(i.init)
                    : (() => {
                        throw new Error(`opModel: initializer data type ${dt} not supported`);
                      })();
      initializers.set(i.name, { name: i.name, dataType: dt, dims: i.shape, data });
    } else graphInputs.push({ name: i.name, elemType: i.dataType ?? DataType.FLOAT, shape: i.shape });
  }
  const outputs = Array.from({ length: nOutputs }, (_, k) => `y${k}`);
  const model: Model = {
    irVersion: 8,
    opsets: new Map([['', opset]]),
    producerName: 'candor-test',
    producerVersion: '',
    graph: {
      name: opType,
      nodes: [{ opType, domain: '', name: opType, inputs: inputs.map((i) => i?.name ?? ''), outputs, attrs }],
      inputs: graphInputs,
      outputs: [],
      initializers,
      valueInfo: new Map(),
    },
    passthrough: {},
  };
  const inf = inferShapes(model.graph);
  model.graph.outputs = outputs.map((o) => ({ name: o, elemType: inf.info.get(o)?.elemType || DataType.FLOAT, shape: inf.info.get(o)?.shape ?? null }));
  return model;
}

/** Move an initializer to the graph inputs (so finite differences can perturb it). */
export function promoteToInput(model: Model, name: string): Model {
  const m = cloneModel(model);
  const t = m.graph.initializers.get(name);
  if (!t) return m;
  m.graph.initializers.delete(name);
  m.graph.inputs.push({ name, elemType: t.dataType, shape: [...t.dims] });
  return m;
}

export interface GradCheck {
  name: string;
  analytic: number;
  numeric: number;
  relError: number;
}

export interface GradCheckOptions {
  /** Values for the graph inputs. */
  feeds: Record<string, Tensor>;
  /** Tensors to check (graph inputs or initializers). */
  wrt: string[];
  /** Output to differentiate (default first). */
  output?: string;
  eps?: number;
  seed?: number;
  rules?: RuleSet;
  ruleOptions?: RuleOptions;
  /** Direction per tensor; random normal by default. */
  directions?: Record<string, Float32Array>;
}

/** Compare VJP gradients with central differences along one random direction per tensor. */
export async function gradCheck(model: Model, opts: GradCheckOptions): Promise<GradCheck[]> {
  const rng = new Rng(opts.seed ?? 1);
  const eps = opts.eps ?? 1e-2;
  const output = opts.output ?? model.graph.outputs[0]!.name;
  // Promote initializers under test to inputs so both VJP and FD see the same graph.
  let m = model;
  const feeds: Record<string, Tensor> = { ...opts.feeds };
  for (const w of opts.wrt) {
    const t = m.graph.initializers.get(w);
    if (t) {
      feeds[w] = new Tensor(Float32Array.from(t.data as Float32Array), t.dims);
      m = promoteToInput(m, w);
    }
  }
  if (!m.graph.outputs.some((o) => o.name === output)) {
    m = cloneModel(m);
    m.graph.outputs.push({ name: output, elemType: DataType.FLOAT, shape: null });
  }
  const fwdSession = await sessionFor(m);
  const fwd = await fwdSession.run(feeds, [output]);
  const y = fwd[output]!;
  const s = new Float32Array(y.size);
  for (let i = 0; i < s.length; i++) s[i] = rng.normal();
  const seedT = new Tensor(s, y.shape);
  const inputShapes = Object.fromEntries(m.graph.inputs.filter((v) => feeds[v.name]).map((v) => [v.name, [...feeds[v.name]!.shape]]));
  const vjp = buildVjp(m, { wrt: opts.wrt, output, rules: opts.rules, ruleOptions: opts.ruleOptions, source: 'gradcheck', inputShapes });
  const g = await runOnnx(vjp.model, { ...feeds, [vjp.seed]: seedT });
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let acc = 0;
    for (let i = 0; i < a.length; i++) acc += a[i]! * b[i]!;
    return acc;
  };
  const results: GradCheck[] = [];
  for (const w of opts.wrt) {
    const x = feeds[w]!;
    const v = opts.directions?.[w] ?? Float32Array.from({ length: x.size }, () => rng.normal());
    const plus = new Float32Array(x.size);
    const minus = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      plus[i] = (x.data as Float32Array)[i]! + eps * v[i]!;
      minus[i] = (x.data as Float32Array)[i]! - eps * v[i]!;
    }
    const fp = (await fwdSession.run({ ...feeds, [w]: new Tensor(plus, x.shape) }, [output]))[output]!;
    const fm = (await fwdSession.run({ ...feeds, [w]: new Tensor(minus, x.shape) }, [output]))[output]!;
    const numeric = (dot(s, fp.data) - dot(s, fm.data)) / (2 * eps);
    const grad = g[gradName(w)]!;
    if (grad.size !== x.size) throw new Error(`gradient of ${w} has ${grad.size} elements, tensor has ${x.size}`);
    const analytic = dot(grad.data, v);
    const relError = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-6);
    results.push({ name: w, analytic, numeric, relError });
  }
  await fwdSession.release();
  return results;
}

/** Random float32 data, normal(0, std), optionally pushed away from 0 (ReLU kinks). */
export function randn(shape: number[], seed = 0, std = 1, awayFromZero = 0): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = rng.normal() * std;
    if (awayFromZero > 0 && Math.abs(v) < awayFromZero) v = v < 0 ? v - awayFromZero : v + awayFromZero;
    d[i] = v;
  }
  return new Tensor(d, shape);
}

/** Relative error of two tensors as a whole: ‖a − b‖ / ‖b‖. */
/** max |a − b| over two equally long arrays (throws when the lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

/** Run gradCheck, report each tensor's error through `t.diagnostic`, assert all ≤ tol; returns the largest. */
export async function assertGradients(
  t: { diagnostic(msg: string): void },
  model: Model,
  feeds: Record<string, Tensor>,
  wrt: string[],
  opts: { eps?: number; tol?: number; output?: string } = {},
): Promise<number> {
  const tol = opts.tol ?? 1e-2;
  const res = await gradCheck(model, { feeds, wrt, eps: opts.eps ?? 1e-2, output: opts.output });
  let worst = 0;
  for (const r of res) {
    t.diagnostic(`${r.name}: relError ${r.relError.toExponential(2)} (analytic ${r.analytic.toPrecision(6)}, numeric ${r.numeric.toPrecision(6)})`);
    if (!Number.isFinite(r.analytic)) throw new Error(`${r.name}: analytic gradient is ${r.analytic}`);
    if (!(r.relError <= tol)) throw new Error(`${r.name}: relError ${r.relError} > ${tol} (analytic ${r.analytic}, numeric ${r.numeric})`);
    worst = Math.max(worst, r.relError);
  }
  return worst;
}
