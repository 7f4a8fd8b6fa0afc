/**
 * `Model`: a classifier loaded from ONNX, with batched `forward` and `vjp`.
 * onnxruntime is injected (onnxruntime-node in Node via ./node.ts, onnxruntime-web in the
 * browser), so this file has no Node-only calls.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { Tensor, firstNonFinite } from '../tensor/tensor.js';
import { type Dim, type Model as IRModel, DataType, cloneModel, defaultOpset, isFloatType } from '../onnx/ir.js';
import { parseModel, serializeModel, type ParseOptions } from '../onnx/proto.js';
import { type Inferred, type ShapeHints, inferShapes } from '../onnx/shape-inference.js';
import { probeShapes, unknownTensors } from './shape-probe.js';
import { GraphSession, type OrtSessionApi } from './session.js';
import { type AttentionMap, type LayerLayout, type TokenGrid, globalAttention, layerLayout, tokenGrid } from './tokens.js';
import { upgradeOpset } from '../onnx/opset-upgrade.js';
import { buildVjp, VJP_MIN_OPSET, type VjpModel } from '../autodiff/vjp.js';
import type { RuleSet } from '../autodiff/rule.js';
import { type InputLayout, toChannelsFirst } from '../onnx/channels-last.js';
import { type OutputActivation, toLogits } from '../onnx/output-head.js';
import { describeLayers, resolveLayer, type LayerInfo } from './layers.js';

/** The subset of the onnxruntime API (node and web share it through onnxruntime-common). */
export interface OrtApi {
  InferenceSession: { create(bytes: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
}

export interface ModelOptions {
  /** Name used in messages (the file path). */
  source?: string;
  /** Intra-op threads for onnxruntime (default: onnxruntime's choice, all cores). */
  threads?: number;
  /** Images per onnxruntime call (default 64). */
  batchSize?: number;
  /** Execution providers, e.g. ['cpu'] or ['webgpu', 'wasm']. */
  executionProviders?: InferenceSession.SessionOptions['executionProviders'];
  parse?: ParseOptions;
  /**
   * The image input's layout: 'auto' (default) recognises channels-last [N, H, W, C] models (Keras via
   * tf2onnx) and gives them a channels-first input (src/onnx/channels-last.ts); 'nhwc' / 'nchw' say so.
   */
  inputLayout?: InputLayout;
  /**
   * 'logits' (default): a final Softmax / LogSoftmax is removed and a single sigmoid unit becomes two
   * logits, so that explanations and probabilities start from logits (src/onnx/output-head.ts);
   * 'keep': the file's output is used as it is.
   */
  outputHead?: 'logits' | 'keep';
  /**
   * 'auto' (default): multi-label when the file ends in K > 1 independent sigmoids; 'multilabel': the
   * outputs are K independent logits (a model trained with BCE whose file has no sigmoid, or a candor card
   * that says so); 'single': one class per image (softmax over the outputs).
   */
  task?: 'auto' | 'single' | 'multilabel';
}

export interface VjpOptions {
  /** One row per image: the weighting of the logits (e.g. one-hot of the target class). */
  seed: Tensor;
  /** Layers whose activations and gradients are wanted (tensor names or module paths). */
  layers?: string[];
  /** Whether the input gradient is wanted (default true). */
  inputGrad?: boolean;
  /** Initializers (weights) whose gradients are wanted, summed over the batch. */
  weights?: string[];
  /** Backward-rule overrides, and a key naming them for the session cache. */
  rules?: RuleSet;
  rulesKey?: string;
  batchSize?: number;
}

export interface VjpResult {
  logits: Tensor;
  /** Keyed by the layer name as given. */
  activations: Map<string, Tensor>;
  layerGrads: Map<string, Tensor>;
  inputGrad?: Tensor;
  weightGrads: Map<string, Tensor>;
}

export class Model {
  readonly ir: IRModel;
  readonly source: string;
  readonly inputName: string;
  readonly outputName: string;
  readonly inputShape: Dim[];
  readonly numClasses: number;
  /** Static shape inference, completed by shapes learned from a probe run once `learnShapes` has run. */
  inferred: Inferred;
  /** The file's input was channels-last; this model takes [N, C, H, W] through a Transpose. */
  readonly channelsLast: boolean;
  /** The activation found at the file's output (removed or rewritten unless outputHead is 'keep'). */
  readonly outputActivation: OutputActivation;
  /** K independent labels (probabilities σ(z_k)), not one class per image (softmax). */
  readonly multiLabel: boolean;
  private readonly sessions = new Map<string, Promise<{ session: InferenceSession; vjp?: VjpModel }>>();
  private readonly hints = new Map<string, Promise<ShapeHints>>();
  private readonly resources = new Map<string, Promise<unknown>>();

  private constructor(
    ir: IRModel,
    private readonly ort: OrtApi,
    private readonly options: ModelOptions,
  ) {
    this.source = options.source ?? 'model';
    const upgraded = defaultOpset(ir) < VJP_MIN_OPSET ? upgradeOpset(ir, VJP_MIN_OPSET, { source: options.source }) : ir;
    const inits = new Set(upgraded.graph.initializers.keys());
    const realInputs = upgraded.graph.inputs.filter((v) => !inits.has(v.name));
    if (realInputs.length !== 1) {
      throw new Error(`${this.source}: expected one image input, found ${realInputs.length} (${realInputs.map((v) => v.name).join(', ')})`);
    }
    if (!isFloatType(realInputs[0]!.elemType) || realInputs[0]!.elemType !== DataType.FLOAT) {
      throw new Error(`${this.source}: input '${realInputs[0]!.name}' must be float32`);
    }
    const laid = toChannelsFirst(upgraded, realInputs[0]!.name, options.inputLayout, this.source);
    this.channelsLast = laid.channelsLast;
    let model = laid.model;
    if (model.graph.outputs.length < 1) throw new Error(`${this.source}: the model has no outputs`);
    this.outputName = model.graph.outputs[0]!.name;
    let inferred = inferShapes(model.graph);
    const outShape = inferred.info.get(this.outputName)?.shape;
    if (!outShape || outShape.length !== 2 || typeof outShape[1] !== 'number') {
      throw new Error(`${this.source}: output '${this.outputName}' should be [batch, classes], is [${outShape?.join(', ') ?? '?'}]`);
    }
    const head = toLogits(model, inferred);
    this.outputActivation = head.activation;
    if (options.outputHead !== 'keep' && head.model !== model) {
      model = head.model;
      inferred = inferShapes(model.graph);
    }
    this.ir = model;
    this.inferred = inferred;
    checkActivationSizes(model, inferred, this.source);
    const task = options.task ?? 'auto';
    if (task === 'single' && head.activation === 'sigmoid-multilabel') {
      throw new Error(`${this.source}: the model ends in ${outShape[1]} independent sigmoids (multi-label), so it cannot be read as one class per image (task 'single')`);
    }
    this.multiLabel = task === 'multilabel' || (task === 'auto' && head.activation === 'sigmoid-multilabel');
    if (this.multiLabel && outShape[1] === 1) throw new Error(`${this.source}: a multi-label model needs at least 2 outputs, this one has 1 (a single sigmoid is a binary classifier)`);
    const inp = model.graph.inputs.find((v) => v.name === realInputs[0]!.name)!;
    this.inputName = inp.name;
    this.inputShape = inp.shape ?? [];
    const k = inferred.info.get(this.outputName)?.shape?.[1];
    if (typeof k !== 'number') throw new Error(`${this.source}: output '${this.outputName}' has no static class count`);
    this.numClasses = k;
  }

  static fromIR(ir: IRModel, ort: OrtApi, options: ModelOptions = {}): Model {
    return named(options.source ?? 'model', () => new Model(ir, ort, options));
  }

  static fromBytes(bytes: Uint8Array, ort: OrtApi, options: ModelOptions = {}): Model {
    return named(options.source ?? 'model', () => new Model(parseModel(bytes, { source: options.source, ...options.parse }), ort, options));
  }

  /** Another model (e.g. a sub-graph of this one) with the same onnxruntime and session options. */
  derive(ir: IRModel, source: string): Model {
    return new Model(ir, this.ort, { ...this.options, source, inputLayout: 'nchw', outputHead: 'keep' });
  }

  /** A session for another graph with several named inputs, with this model's onnxruntime and threads. */
  graphSession(ir: IRModel, source: string): Promise<GraphSession> {
    return GraphSession.create(ir, this.ort as unknown as OrtSessionApi, { threads: this.options.threads, source });
  }

  /** What candor changed in the file's graph to read it, in sentences for reports (empty: nothing). */
  adaptations(): string[] {
    const out: string[] = [];
    if (this.channelsLast) out.push('The model takes channels-last [N, H, W, C] images; candor feeds it [N, C, H, W] images through a Transpose (the same function).');
    if (this.options.outputHead !== 'keep') {
      const head: Partial<Record<OutputActivation, string>> = {
        softmax: 'The model ends in a Softmax; candor explains its input, the logits, and computes probabilities as their softmax (the same probabilities).',
        'log-softmax': 'The model ends in a LogSoftmax; candor explains its input, the logits, and computes probabilities as their softmax (the same probabilities).',
        sigmoid: 'The model has one sigmoid output σ(z); candor uses the two logits [−z/2, z/2], whose softmax is [1 − σ(z), σ(z)], so class-1 maps are those of z/2.',
        'single-logit': 'The model has one raw output z; candor reads it as a binary classifier with probability σ(z), using the two logits [−z/2, z/2], so class-1 maps are those of z/2.',
        'sigmoid-multilabel': `The model ends in ${this.numClasses} independent sigmoids (multi-label); candor explains each label's logit z_k (the sigmoid removed) and reads its probability as σ(z_k).`,
      };
      const text = head[this.outputActivation];
      if (text) out.push(text);
    }
    if (this.multiLabel && this.outputActivation !== 'sigmoid-multilabel') out.push(`The model is read as multi-label: its ${this.numClasses} outputs are independent logits z_k with probabilities σ(z_k).`);
    return out;
  }

  /** Layers that can be explained (4-D float activations), in graph order, with module paths. */
  layers(): LayerInfo[] {
    return describeLayers(this.ir.graph, this.inferred);
  }

  /** Global attention-probability maps (ViT/DeiT-style), in graph order (src/runtime/tokens.ts). */
  attentionMaps(): AttentionMap[] {
    return globalAttention(this.ir.graph, this.inferred);
  }

  /** How a layer's activation folds to a grid [N, C, h, w], or why it cannot (src/runtime/tokens.ts). */
  layerLayout(tensor: string, input?: readonly number[]): LayerLayout | string {
    const spatial = input ?? this.inputShape.slice(2).map((d) => (typeof d === 'number' ? d : 0));
    return layerLayout(this.ir.graph, this.inferred, tensor, spatial);
  }

  /** How `tokens` tokens fold to a grid for images of spatial size `input` (src/runtime/tokens.ts). */
  tokenGridOf(tokens: number, input: readonly number[]): TokenGrid | undefined {
    return tokenGrid(this.ir.graph, this.inferred, tokens, input);
  }

  /** Tensor name for a layer given by tensor name, module path, or undefined (automatic choice). */
  resolveLayer(layer?: string): string {
    return resolveLayer(this.ir.graph, this.inferred, layer, this.source);
  }

  /** A compiled session, cached by key; `build` returns the graph (and VJP names) to compile. */
  private session(key: string, build: () => { model: IRModel; vjp?: VjpModel }): Promise<{ session: InferenceSession; vjp?: VjpModel }> {
    let s = this.sessions.get(key);
    if (!s) {
      const opts: InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', logSeverityLevel: 3 };
      if (this.options.threads) opts.intraOpNumThreads = this.options.threads;
      if (this.options.executionProviders) opts.executionProviders = this.options.executionProviders;
      s = (async () => {
        const built = build();
        try {
          const session = await this.ort.InferenceSession.create(serializeModel(built.model), opts);
          return { session, vjp: built.vjp };
        } catch (e) {
          if ((e as Error).name === 'DeviceError') throw e; // the device, not this graph: said in one line
          throw new Error(`${this.source}: onnxruntime could not load the ${key.startsWith('[') ? 'gradient' : key} graph: ${(e as Error).message}`);
        }
      })();
      s.catch(() => this.sessions.delete(key));
      this.sessions.set(key, s);
    }
    return s;
  }

  /**
   * Shapes of tensors that static inference cannot size, learned from one probe run of the model on images
   * of this spatial shape (default: the model's declared one), cached. Graphs whose shapes are all
   * inferable are not run. The model's `inferred` (layer listings) takes them in for its declared shape.
   * `all`: every tensor's shape (for graphs derived from this one by rewriting, such as training graphs).
   */
  learnShapes(spatial?: readonly number[], opts: { all?: boolean } = {}): Promise<ShapeHints> {
    const declared = this.inputShape.slice(1);
    const sp = spatial ?? (declared.every((d) => typeof d === 'number') ? (declared as number[]) : undefined);
    if (!sp) return Promise.resolve(new Map());
    const key = sp.join(',') + (opts.all ? ':all' : '');
    let h = this.hints.get(key);
    if (!h) {
      h = (async () => {
        const ir = cloneModel(this.ir);
        const inp = ir.graph.inputs.find((v) => v.name === this.inputName)!;
        inp.shape = [this.inputShape[0] ?? 'batch', ...sp];
        const inf = inferShapes(ir.graph);
        const unknown = unknownTensors(ir, inf, opts.all);
        if (!unknown.length) return new Map();
        const session: InferenceSession.SessionOptions = {};
        if (this.options.threads) session.intraOpNumThreads = this.options.threads;
        try {
          const hints = await probeShapes(ir, this.inputName, inp.shape, sp, unknown, inf, this.ort, session);
          if (hints.size && !opts.all && declared.every((d, i) => d === sp[i])) this.inferred = inferShapes(this.ir.graph, hints);
          return hints;
        } catch (e) {
          throw new Error(`${this.source}: learning the shapes that static inference cannot tell (a probe run of the model on images [${sp}]) failed: ${(e as Error).message}`);
        }
      })();
      h.catch(() => this.hints.delete(key));
      this.hints.set(key, h);
    }
    return h;
  }

  /** Check an image batch against the model's declared input shape, and that every value is finite. */
  checkInput(x: Tensor): void {
    const bad = firstNonFinite(x.data as ArrayLike<number>);
    if (bad >= 0) {
      const per = x.data.length / Math.max(1, x.shape[0]!);
      throw new Error(`${this.source}: input image ${Math.floor(bad / per)} holds ${x.data[bad]} at element ${bad % per}: a map of a non-finite input would be NaN, so it is refused`);
    }
    const s = this.inputShape;
    if (s.length && x.shape.length !== s.length) {
      throw new Error(`${this.source}: input has shape [${x.shape}], the model expects rank ${s.length} [${s.join(', ')}]`);
    }
    s.forEach((d, i) => {
      if (i > 0 && typeof d === 'number' && x.shape[i] !== d) {
        throw new Error(`${this.source}: input has shape [${x.shape}], the model expects [${s.join(', ')}] (dim ${i} should be ${d})`);
      }
    });
  }

  /** The batch size fixed in the file (exports without a dynamic batch axis), else undefined. */
  get staticBatch(): number | undefined {
    const b = this.inputShape[0];
    return typeof b === 'number' && b > 0 ? b : undefined;
  }

  private batches(n: number, bs?: number): [number, number][] {
    const size = this.staticBatch ?? Math.max(1, bs ?? this.options.batchSize ?? 64);
    const out: [number, number][] = [];
    for (let i = 0; i < n; i += size) out.push([i, Math.min(n, i + size)]);
    return out;
  }

  private toOrt(t: Tensor): OrtTensor {
    return new this.ort.Tensor('float32', t.data, t.shape);
  }

  /**
   * Rows a..b of `t` for one onnxruntime call; a model with a static batch gets a last chunk padded to
   * that batch (with `fill` rows, or copies of the last row), whose extra outputs `trim` drops.
   */
  private chunk(t: Tensor, a: number, b: number, fill?: 'zeros'): Tensor {
    const part = t.slice0(a, b);
    const B = this.staticBatch;
    if (!B || b - a === B) return part;
    const row = part.data.length / (b - a);
    const data = new Float32Array(B * row);
    data.set(part.data);
    if (fill !== 'zeros') for (let i = b - a; i < B; i++) data.set(part.data.subarray((b - a - 1) * row), i * row);
    return new Tensor(data, [B, ...part.shape.slice(1)]);
  }

  /**
   * The rows of `t` that belong to the first `n` images of a chunk padded to the static batch B: a leading
   * dim of k·B (heads or windows folded into the batch) keeps k·n rows. Unpadded chunks are returned whole.
   */
  private trim(t: Tensor, n: number): Tensor {
    const B = this.staticBatch;
    if (!B || n === B || t.shape.length === 0 || t.shape[0]! % B !== 0) return t;
    return t.slice0(0, (t.shape[0]! / B) * n);
  }

  /** Logits for a batch of images [N, C, H, W], run in chunks of `batchSize`. */
  async forward(x: Tensor, opts: { batchSize?: number } = {}): Promise<Tensor> {
    this.checkInput(x);
    const { session } = await this.session('forward', () => ({ model: this.ir }));
    const parts: Tensor[] = [];
    for (const [a, b] of this.batches(x.shape[0]!, opts.batchSize)) {
      const r = await ranOrNamed(this.source, () => session.run({ [this.inputName]: this.toOrt(this.chunk(x, a, b)) }));
      parts.push(this.trim(fromOrt(r[this.outputName]!), b - a));
    }
    const out = Tensor.concat0(parts);
    // Finite images in, so a non-finite logit is the model's own (overflow, a damaged weight): never passed on.
    const bad = firstNonFinite(out.data as ArrayLike<number>);
    if (bad >= 0) {
      const k = out.size / out.shape[0]!;
      throw new Error(`${this.source}: the model's output for image ${Math.floor(bad / k)} holds ${out.data[bad]} (output ${bad % k}); its weights or an operation overflow — no prediction or map is made from it`);
    }
    return out;
  }

  /** Logits, activations and gradients of Σ seed ⊙ logits, per image. */
  async vjp(x: Tensor, opts: VjpOptions): Promise<VjpResult> {
    this.checkInput(x);
    const n = x.shape[0]!;
    if (opts.seed.shape[0] !== n || opts.seed.shape[1] !== this.numClasses) {
      throw new Error(`${this.source}: seed has shape [${opts.seed.shape}], expected [${n}, ${this.numClasses}]`);
    }
    const shapeHints = await this.learnShapes(x.shape.slice(1));
    const layers = (opts.layers ?? []).map((l) => this.resolveLayer(l));
    const weights = opts.weights ?? [];
    for (const w of weights) {
      if (!this.ir.graph.initializers.has(w)) throw new Error(`${this.source}: no weight named '${w}'`);
    }
    const wantInput = opts.inputGrad ?? true;
    const wrt = [...(wantInput ? [this.inputName] : []), ...layers, ...weights];
    if (opts.rules && !opts.rulesKey) throw new Error('vjp: rule overrides need a rulesKey for the session cache');
    // Symbolic non-batch dims (fully convolutional models) are fixed to this batch's image size.
    const dynamic = this.inputShape.some((d, i) => i > 0 && typeof d !== 'number');
    const inputShapes = dynamic ? { [this.inputName]: [this.inputShape[0] ?? 'batch', ...x.shape.slice(1)] } : undefined;
    const key = JSON.stringify(['vjp', wrt, layers, opts.rulesKey ?? '', dynamic ? x.shape.slice(1) : []]);
    const { session, vjp } = await this.session(key, () => {
      const v = buildVjp(this.ir, { wrt, expose: layers, rules: opts.rules, source: this.source, inputShapes, shapeHints });
      return { model: v.model, vjp: v };
    });
    const names = vjp!;

    const logits: Tensor[] = [];
    const acts = layers.map(() => [] as Tensor[]);
    const lgrads = layers.map(() => [] as Tensor[]);
    const igrads: Tensor[] = [];
    const wsum = weights.map(() => null as Float32Array | null);
    const wshape: (readonly number[])[] = weights.map(() => []);
    for (const [a, b] of this.batches(n, opts.batchSize)) {
      // Padded rows of a static-batch model get a zero seed: they add nothing to weight gradients.
      const r = await ranOrNamed(this.source, () => session.run({ [this.inputName]: this.toOrt(this.chunk(x, a, b)), [names.seed]: this.toOrt(this.chunk(opts.seed, a, b, 'zeros')) }));
      const m = b - a;
      logits.push(this.trim(fromOrt(r[this.outputName]!), m));
      layers.forEach((l, i) => {
        acts[i]!.push(this.trim(fromOrt(r[names.activations.get(l)!]!), m));
        lgrads[i]!.push(this.trim(fromOrt(r[names.grads.get(l)!]!), m));
      });
      if (wantInput) igrads.push(this.trim(fromOrt(r[names.grads.get(this.inputName)!]!), m));
      weights.forEach((w, i) => {
        const t = fromOrt(r[names.grads.get(w)!]!);
        wshape[i] = t.shape;
        const acc = wsum[i];
        if (!acc) wsum[i] = Float32Array.from(t.data);
        else for (let k = 0; k < acc.length; k++) acc[k]! += t.data[k]!;
      });
    }
    const given = opts.layers ?? [];
    return {
      logits: Tensor.concat0(logits),
      activations: new Map(given.map((l, i) => [l, Tensor.concat0(acts[i]!)])),
      layerGrads: new Map(given.map((l, i) => [l, Tensor.concat0(lgrads[i]!)])),
      inputGrad: wantInput ? Tensor.concat0(igrads) : undefined,
      weightGrads: new Map(weights.map((w, i) => [w, new Tensor(wsum[i]!, wshape[i]!)])),
    };
  }

  /** Probabilities from logits [N, K]: softmax over classes, or σ per label for a multi-label model. */
  probabilities(logits: Tensor): Tensor {
    const [n, k] = logits.shape as [number, number];
    const out = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      const row = logits.data.subarray(i * k, (i + 1) * k);
      if (this.multiLabel) {
        for (let j = 0; j < k; j++) out[i * k + j] = 1 / (1 + Math.exp(-row[j]!));
        continue;
      }
      let mx = -Infinity;
      for (const v of row) mx = Math.max(mx, v);
      let s = 0;
      for (let j = 0; j < k; j++) s += Math.exp(row[j]! - mx);
      for (let j = 0; j < k; j++) out[i * k + j] = Math.exp(row[j]! - mx) / s;
    }
    return new Tensor(out, [n, k]);
  }

  /** One-hot seeds for class indices (one per image). */
  oneHot(targets: readonly number[]): Tensor {
    const k = this.numClasses;
    const s = new Float32Array(targets.length * k);
    targets.forEach((t, i) => {
      if (!Number.isInteger(t) || t < 0 || t >= k) throw new Error(`${this.source}: target ${t} is out of range (the model has ${k} classes: 0..${k - 1})`);
      s[i * k + t] = 1;
    });
    return new Tensor(s, [targets.length, k]);
  }

  /**
   * Something built from this model once and kept with it (e.g. the compiled graphs of incremental
   * inference), by key; released by `dispose` when it has a `dispose` method. A build that fails is not kept.
   */
  resource<T>(key: string, build: () => Promise<T>): Promise<T> {
    let r = this.resources.get(key) as Promise<T> | undefined;
    if (!r) {
      r = build();
      r.catch(() => this.resources.delete(key));
      this.resources.set(key, r);
    }
    return r;
  }

  /** Release onnxruntime sessions and the resources kept with the model. */
  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s).session.release();
    const res = [...this.resources.values()];
    this.resources.clear();
    for (const r of res) {
      const v = await r.catch(() => undefined);
      if (v && typeof (v as { dispose?: unknown }).dispose === 'function') await (v as { dispose(): Promise<void> }).dispose();
    }
  }
}

function fromOrt(t: OrtTensor): Tensor {
  if (t.type !== 'float32') throw new Error(`unexpected output type ${t.type}`);
  return new Tensor(t.data as Float32Array, t.dims);
}

/** Ops whose outputs may legitimately be empty (shape computations). */
const EMPTY_OK = new Set(['Shape', 'Slice', 'Constant', 'ConstantOfShape', 'Gather', 'Concat', 'Squeeze', 'Unsqueeze', 'Reshape', 'Range', 'NonZero', 'Split', 'Cast']);

/** Elements one image's activation may have (per batch item): 2^28, 1 GiB of float32. */
export const MAX_ACTIVATION_ELEMENTS = 2 ** 28;
/** Elements all of one image's activations may add up to: 2^30, 4 GiB of float32 (a 3-D CNN on 128³ needs far less). */
export const MAX_GRAPH_ELEMENTS = 2 ** 30;

/**
 * Refuse a graph whose statically known activations would exceed {@link MAX_ACTIVATION_ELEMENTS} per image
 * (e.g. a Conv with pads of a million): onnxruntime would otherwise try to allocate gigabytes.
 */
function checkActivationSizes(model: IRModel, inferred: Inferred, source: string): void {
  let total = 0;
  let largest = { n: 0, what: '' };
  for (const node of model.graph.nodes) {
    for (const out of node.outputs) {
      const shape = inferred.info.get(out)?.shape;
      if (!shape) continue;
      let n = 1;
      for (const d of shape) if (typeof d === 'number') n *= d;
      // An empty activation (a dimension of 0 or less) is a graph onnxruntime cannot run: some kernels divide
      // by the size (a native SIGFPE that takes the process down), so it is refused here.
      if (shape.some((d) => typeof d === 'number' && d <= 0) && !EMPTY_OK.has(node.opType)) {
        throw new Error(`${source}: ${node.opType} node '${node.name || out}' makes '${out}' of shape [${shape.join(', ')}], with an empty dimension: check its attributes (kernel, strides, pads) and the input size`);
      }
      total += n;
      if (n > largest.n) largest = { n, what: `${node.opType} node '${node.name || out}' [${shape.join(', ')}]` };
      if (n > MAX_ACTIVATION_ELEMENTS) {
        throw new Error(`${source}: ${node.opType} node '${node.name || out}' makes '${out}' of shape [${shape.join(', ')}] (${n.toLocaleString('en')} elements per image, more than ${MAX_ACTIVATION_ELEMENTS.toLocaleString('en')}): check its attributes (pads, strides, sizes)`);
      }
    }
  }
  if (total > MAX_GRAPH_ELEMENTS) {
    throw new Error(`${source}: the graph's activations add up to ${total.toLocaleString('en')} elements per image (more than ${MAX_GRAPH_ELEMENTS.toLocaleString('en')}; the largest: ${largest.what}): check the attributes of its largest layers (pads, strides, sizes)`);
  }
}

/** Errors from reading a model (the parser, graph checks, shape inference) name the model file. */
function named<T>(source: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.startsWith(`${source}: `) || msg.startsWith(`${source} `)) throw e;
    throw new Error(`${source}: ${msg}`);
  }
}

/** A failed onnxruntime run names the model (onnxruntime's message names only the node). */
async function ranOrNamed<T>(source: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(msg.startsWith(`${source}: `) ? msg : `${source}: onnxruntime failed running the model: ${msg}`);
  }
}
