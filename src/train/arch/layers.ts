/**
 * NetBuilder: writes an ONNX graph layer by layer, naming nodes, tensors and weights the way
 * `torch.onnx.export` (PyTorch ≥ 1.13) names them, so that layer names (`layer4`, `features.8`,
 * `/layer4/layer4.1/relu_1/Relu_output_0`) mean the same thing in a model built here and in one
 * exported from the equivalent PyTorch module.
 *
 * Naming rules reproduced:
 * - A module entered as `name` inside module `parent` has qualified name `parent.name` (root children:
 *   `name`); its parameters are `<qualified>.weight`, `<qualified>.bias`, `<qualified>.running_mean`, ….
 * - Its scope segment is the qualified name from its last non-numeric atom on (`layer4.1.conv1` → `conv1`,
 *   `layer4.1` → `layer4.1`, `features.0.0` → `features.0.0`, `features.1.conv.0.0` → `conv.0.0`); a module
 *   called a second time gets `_1` (`relu_1`), a third time `_2`, ….
 * - A node is `/<seg>/<seg>/<OpType>` (`/Flatten` at the root), with `_1`, `_2`, … when repeated in one
 *   scope; its outputs are `<node name>_output_<i>`.
 *
 * Weights are drawn from a seeded stream forked per parameter name (see Rng.fork), so each weight is
 * determined by the seed and its own name only.
 */
import { A, type Attr, type Dim, type Graph, type Model, type Node, type TensorData, DataType } from '../../onnx/ir.js';
import { Rng } from '../../tensor/rng.js';

export const OPSET = 17;
export const IR_VERSION = 8;
export const PRODUCER = 'candor';
export const PRODUCER_VERSION = '0.1.0';

/**
 * How dropout layers are written:
 * - 'none': nothing (what torch.onnx.export writes for a model in eval mode);
 * - 'inference': a `Dropout(x, ratio)` node with no training_mode (an identity at inference; easy to flip later);
 * - 'stochastic': `[y, mask] = Dropout(x, ratio, training_mode = Constant true)`, then `Mul(y, Cast(mask))`,
 *   so onnxruntime drops units on every run (MC dropout). The Mul is numerically an identity; it is there
 *   because onnxruntime's EliminateDropout optimiser removes any Dropout whose mask is unused, whatever its
 *   training_mode. Consumers that differentiate the graph see the mask as a second output of the Dropout.
 */
export type DropoutMode = 'none' | 'inference' | 'stochastic';

/** Weight initialisers, as in torch.nn.init. fan_in = shape[1]·receptive field, fan_out = shape[0]·receptive field. */
export type WeightInit =
  /** nn.Conv2d / nn.Linear default: kaiming_uniform_(a=√5), i.e. U(−1/√fan_in, 1/√fan_in). */
  | { kind: 'torch_default' }
  /** kaiming_normal_: N(0, gain²/fan), gain √2 (ReLU / leaky_relu with a=0) unless given. */
  | { kind: 'kaiming_normal'; mode: 'fan_in' | 'fan_out'; gain?: number }
  /** kaiming_uniform_: U(−b, b), b = gain·√(3/fan). */
  | { kind: 'kaiming_uniform'; mode: 'fan_in' | 'fan_out'; gain?: number }
  | { kind: 'normal'; mean?: number; std: number }
  | { kind: 'uniform'; lo: number; hi: number }
  | { kind: 'constant'; value: number };

/** Bias initialisers: nn.Conv2d / nn.Linear default U(−1/√fan_in, 1/√fan_in) of the weight's fan_in, or a constant. */
export type BiasInit = 'torch_default' | 'zeros' | { kind: 'constant'; value: number };

export interface Conv2dSpec {
  /** Input channels; taken from the tracked channel count of the input when omitted. */
  inChannels?: number;
  outChannels: number;
  kernel: number | [number, number];
  stride?: number | [number, number];
  /** Symmetric padding per spatial axis. */
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
  weightInit?: WeightInit;
  biasInit?: BiasInit;
}

export interface LinearSpec {
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
  weightInit?: WeightInit;
  biasInit?: BiasInit;
}

export interface PoolSpec {
  kernel: number | [number, number];
  /** Defaults to the kernel size, as in torch. */
  stride?: number | [number, number];
  padding?: number | [number, number];
  ceilMode?: boolean;
}

export interface NetBuilderOptions {
  seed?: number;
  dropout?: DropoutMode;
  graphName?: string;
}

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function triple(v: number | readonly number[]): [number, number, number] {
  if (typeof v === 'number') return [v, v, v];
  if (v.length !== 3) throw new Error(`expected 3 values (depth, height, width), got [${v.join(', ')}]`);
  return [v[0]!, v[1]!, v[2]!];
}

/** nn.Conv3d's arguments (one value or one per axis: depth, height, width). */
export interface Conv3dSpec {
  inChannels?: number;
  outChannels: number;
  kernel: number | [number, number, number];
  stride?: number | [number, number, number];
  padding?: number | [number, number, number];
  bias?: boolean;
  weightInit?: WeightInit;
  biasInit?: BiasInit;
}

/** `layer4.1.conv1` → `conv1`; `features.0.0` → `features.0.0`: from the last non-numeric atom on. */
export function unqualifiedName(qualified: string): string {
  const atoms = qualified.split('.');
  for (let i = atoms.length - 1; i >= 0; i--) if (!/^\d+$/.test(atoms[i]!)) return atoms.slice(i).join('.');
  return qualified;
}

/**
 * The node-name scope of module `qualified` (first call): `layer4.1.conv1` → `/layer4/layer4.1/conv1`,
 * `features.1.conv.0.0` → `/features/features.1/conv/conv.0/conv.0.0`. Match nodes with `scope + '/'`.
 */
export function moduleScope(qualified: string): string {
  if (!qualified) return '';
  const atoms = qualified.split('.');
  return atoms.map((_, i) => '/' + unqualifiedName(atoms.slice(0, i + 1).join('.'))).join('');
}

function fans(dims: readonly number[]): { fanIn: number; fanOut: number } {
  if (dims.length < 2) throw new Error(`fan in/out need a weight of rank ≥ 2, got [${dims.join(', ')}]`);
  let rf = 1;
  for (let i = 2; i < dims.length; i++) rf *= dims[i]!;
  return { fanIn: dims[1]! * rf, fanOut: dims[0]! * rf };
}

/** Fill `arr` (a weight of shape `dims`) per `init`. */
export function initWeight(arr: Float32Array, dims: readonly number[], init: WeightInit, rng: Rng): Float32Array {
  switch (init.kind) {
    case 'torch_default': {
      const b = 1 / Math.sqrt(fans(dims).fanIn);
      return rng.fillUniform(arr, -b, b);
    }
    case 'kaiming_normal': {
      const f = fans(dims);
      const std = (init.gain ?? Math.SQRT2) / Math.sqrt(init.mode === 'fan_in' ? f.fanIn : f.fanOut);
      return rng.fillNormal(arr, 0, std);
    }
    case 'kaiming_uniform': {
      const f = fans(dims);
      const b = (init.gain ?? Math.SQRT2) * Math.sqrt(3 / (init.mode === 'fan_in' ? f.fanIn : f.fanOut));
      return rng.fillUniform(arr, -b, b);
    }
    case 'normal':
      return rng.fillNormal(arr, init.mean ?? 0, init.std);
    case 'uniform':
      return rng.fillUniform(arr, init.lo, init.hi);
    case 'constant':
      return arr.fill(init.value);
  }
}

function initBias(arr: Float32Array, weightDims: readonly number[], init: BiasInit, rng: Rng): Float32Array {
  if (init === 'zeros') return arr.fill(0);
  if (init === 'torch_default') {
    const b = 1 / Math.sqrt(fans(weightDims).fanIn);
    return rng.fillUniform(arr, -b, b);
  }
  return arr.fill(init.value);
}

interface Scope {
  qualified: string;
  segment: string;
}

export class NetBuilder {
  readonly graph: Graph;
  readonly rng: Rng;
  readonly dropoutMode: DropoutMode;
  private readonly scopes: Scope[] = [];
  private readonly moduleCalls = new Map<string, number>();
  private readonly nodeNames = new Map<string, number>();
  private readonly usedNames = new Set<string>();
  /** Channel count of 4-D tensors, where known. */
  private readonly channels = new Map<string, number>();

  constructor(opts: NetBuilderOptions = {}) {
    this.rng = new Rng(opts.seed ?? 0);
    this.dropoutMode = opts.dropout ?? 'none';
    this.graph = { name: opts.graphName ?? 'main_graph', nodes: [], inputs: [], outputs: [], initializers: new Map(), valueInfo: new Map() };
  }

  // ---------- scopes and naming ----------

  /** Qualified name of the current module ('' at the root), e.g. `layer4.1`. */
  get modulePath(): string {
    return this.scopes.length ? this.scopes[this.scopes.length - 1]!.qualified : '';
  }

  /** The scope prefix of node names, e.g. `/layer4/layer4.1` ('' at the root). */
  get scopePath(): string {
    return this.scopes.map((s) => '/' + s.segment).join('');
  }

  /** Run `fn` inside child module `name` of the current module. */
  module<T>(name: string, fn: () => T): T {
    const parent = this.modulePath;
    const qualified = parent ? `${parent}.${name}` : name;
    const calls = this.moduleCalls.get(qualified) ?? 0;
    this.moduleCalls.set(qualified, calls + 1);
    const segment = unqualifiedName(qualified) + (calls ? `_${calls}` : '');
    this.scopes.push({ qualified, segment });
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** Inside module `name` when given, else in the current scope (a functional call in torch terms). */
  private maybe<T>(name: string | undefined, fn: () => T): T {
    return name === undefined ? fn() : this.module(name, fn);
  }

  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`NetBuilder: tensor name '${name}' is already used`);
    this.usedNames.add(name);
    return name;
  }

  /** Append a node named after the current scope; returns its outputs (`<node>_output_<i>`). */
  emit(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, nOutputs = 1): string[] {
    const base = `${this.scopePath}/${opType}`;
    let k = this.nodeNames.get(base) ?? 0;
    let name = k ? `${base}_${k}` : base;
    while (this.usedNames.has(name)) name = `${base}_${++k}`;
    this.nodeNames.set(base, k + 1);
    this.usedNames.add(name);
    const outputs = Array.from({ length: nOutputs }, (_, i) => this.claim(`${name}_output_${i}`));
    const node: Node = { opType, domain: '', name, inputs: [...inputs], outputs, attrs };
    this.graph.nodes.push(node);
    return outputs;
  }

  /** Single-output `emit`. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.emit(opType, inputs, attrs, 1)[0]!;
  }

  /** A `Constant` node in the current scope (as torch writes scalars such as Clip bounds). */
  constant(dataType: number, dims: number[], data: TensorData['data']): string {
    return this.op('Constant', [], { value: A.t({ name: '', dataType, dims, data }) });
  }

  /** A float32 parameter or buffer `<module>.<local>` of the current module. */
  tensor(local: string, dims: number[], data: Float32Array): string {
    const q = this.modulePath;
    const name = this.claim(q ? `${q}.${local}` : local);
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`${name}: ${data.length} values for shape [${dims.join(', ')}]`);
    this.graph.initializers.set(name, { name, dataType: DataType.FLOAT, dims: [...dims], data });
    return name;
  }

  /** A weight initialised per `init` from the stream forked by its name. */
  weight(local: string, dims: number[], init: WeightInit): string {
    const q = this.modulePath;
    const full = q ? `${q}.${local}` : local;
    const arr = new Float32Array(dims.reduce((a, b) => a * b, 1));
    return this.tensor(local, dims, initWeight(arr, dims, init, this.rng.fork(full)));
  }

  private biasParam(local: string, n: number, weightDims: readonly number[], init: BiasInit): string {
    const q = this.modulePath;
    const full = q ? `${q}.${local}` : local;
    return this.tensor(local, [n], initBias(new Float32Array(n), weightDims, init, this.rng.fork(full)));
  }

  /** The tracked channel count of a 4-D tensor. */
  channelsOf(x: string): number {
    const c = this.channels.get(x);
    if (c === undefined) throw new Error(`NetBuilder: channel count of '${x}' is unknown; pass inChannels`);
    return c;
  }

  private withChannels(x: string, c: number | undefined): string {
    if (c !== undefined) this.channels.set(x, c);
    return x;
  }

  // ---------- graph inputs and outputs ----------

  /** Declare a float graph input of the given shape; `shape[1]` is tracked as its channel count. */
  input(name: string, shape: Dim[]): string {
    this.claim(name);
    this.graph.inputs.push({ name, elemType: DataType.FLOAT, shape: [...shape] });
    return this.withChannels(name, typeof shape[1] === 'number' ? shape[1] : undefined);
  }

  /** Make `x` a graph output called `name` (renaming the producing node's output, as torch does with output_names). */
  output(x: string, name: string, shape: Dim[]): string {
    const node = this.graph.nodes.find((n) => n.outputs.includes(x));
    if (!node) throw new Error(`NetBuilder.output: '${x}' is not produced by a node`);
    if (x !== name) {
      this.claim(name);
      node.outputs = node.outputs.map((o) => (o === x ? name : o));
      for (const n of this.graph.nodes) n.inputs = n.inputs.map((i) => (i === x ? name : i));
      this.usedNames.delete(x);
    }
    this.graph.outputs.push({ name, elemType: DataType.FLOAT, shape: [...shape] });
    return name;
  }

  /** The finished model (opset 17, IR 8, producer 'candor'). */
  build(): Model {
    return {
      irVersion: IR_VERSION,
      opsets: new Map([['', OPSET]]),
      producerName: PRODUCER,
      producerVersion: PRODUCER_VERSION,
      graph: this.graph,
      passthrough: {},
    };
  }

  // ---------- layers ----------

  /** nn.Conv2d as module `name`: weight [out, in/groups, kh, kw] (+ bias [out]). */
  conv2d(x: string, name: string, spec: Conv2dSpec): string {
    const inC = spec.inChannels ?? this.channelsOf(x);
    const groups = spec.groups ?? 1;
    const [kh, kw] = pair(spec.kernel);
    const [sh, sw] = pair(spec.stride ?? 1);
    const [ph, pw] = pair(spec.padding ?? 0);
    const [dh, dw] = pair(spec.dilation ?? 1);
    if (inC % groups || spec.outChannels % groups) {
      throw new Error(`conv2d ${name}: channels ${inC}→${spec.outChannels} not divisible by groups ${groups}`);
    }
    return this.module(name, () => {
      const dims = [spec.outChannels, inC / groups, kh, kw];
      const inputs = [x, this.weight('weight', dims, spec.weightInit ?? { kind: 'torch_default' })];
      if (spec.bias ?? true) inputs.push(this.biasParam('bias', spec.outChannels, dims, spec.biasInit ?? 'torch_default'));
      const y = this.op('Conv', inputs, {
        dilations: A.ints([dh, dw]),
        group: A.i(groups),
        kernel_shape: A.ints([kh, kw]),
        pads: A.ints([ph, pw, ph, pw]),
        strides: A.ints([sh, sw]),
      });
      return this.withChannels(y, spec.outChannels);
    });
  }

  /** nn.Conv3d as module `name`: weight [out, in, kd, kh, kw] (+ bias [out]); torch's default init (fan-in = in·kd·kh·kw). */
  conv3d(x: string, name: string, spec: Conv3dSpec): string {
    const inC = spec.inChannels ?? this.channelsOf(x);
    const k = triple(spec.kernel);
    const s = triple(spec.stride ?? 1);
    const p = triple(spec.padding ?? 0);
    return this.module(name, () => {
      const dims = [spec.outChannels, inC, ...k];
      const inputs = [x, this.weight('weight', dims, spec.weightInit ?? { kind: 'torch_default' })];
      if (spec.bias ?? true) inputs.push(this.biasParam('bias', spec.outChannels, dims, spec.biasInit ?? 'torch_default'));
      const y = this.op('Conv', inputs, { dilations: A.ints([1, 1, 1]), group: A.i(1), kernel_shape: A.ints(k), pads: A.ints([...p, ...p]), strides: A.ints(s) });
      return this.withChannels(y, spec.outChannels);
    });
  }

  /** nn.BatchNorm3d: the same ONNX BatchNormalization as nn.BatchNorm2d (it normalises over every axis but the channels). */
  batchNorm3d(x: string, name: string, opts: { channels?: number; eps?: number; momentum?: number } = {}): string {
    return this.batchNorm2d(x, name, opts);
  }

  /** nn.MaxPool3d. */
  maxPool3d(x: string, name: string | undefined, spec: { kernel: number | [number, number, number]; stride?: number | [number, number, number]; padding?: number | [number, number, number] }): string {
    const k = triple(spec.kernel);
    const s = triple(spec.stride ?? spec.kernel);
    const p = triple(spec.padding ?? 0);
    return this.maybe(name, () => this.withChannels(this.op('MaxPool', [x], { ceil_mode: A.i(0), kernel_shape: A.ints(k), pads: A.ints([...p, ...p]), strides: A.ints(s) }), this.channels.get(x)));
  }

  /**
   * nn.BatchNorm2d in eval mode as module `name`: weight 1, bias 0, running_mean 0, running_var 1;
   * written as torch writes it (epsilon, momentum = 1 − torch momentum, training_mode 0).
   */
  batchNorm2d(x: string, name: string, opts: { channels?: number; eps?: number; momentum?: number } = {}): string {
    const c = opts.channels ?? this.channelsOf(x);
    return this.module(name, () => {
      const w = this.tensor('weight', [c], new Float32Array(c).fill(1));
      const b = this.tensor('bias', [c], new Float32Array(c));
      const m = this.tensor('running_mean', [c], new Float32Array(c));
      const v = this.tensor('running_var', [c], new Float32Array(c).fill(1));
      const y = this.op('BatchNormalization', [x, w, b, m, v], {
        epsilon: A.f(opts.eps ?? 1e-5),
        momentum: A.f(1 - (opts.momentum ?? 0.1)),
        training_mode: A.i(0),
      });
      return this.withChannels(y, c);
    });
  }

  /** ReLU: module `name` (nn.ReLU) or functional (F.relu) when no name is given. */
  relu(x: string, name?: string): string {
    return this.maybe(name, () => this.withChannels(this.op('Relu', [x]), this.channels.get(x)));
  }

  /** ReLU6 as torch exports it at opset ≥ 11: Clip with Constant min 0 and max 6 inputs. */
  relu6(x: string, name?: string): string {
    return this.maybe(name, () => {
      const lo = this.constant(DataType.FLOAT, [], new Float32Array([0]));
      const hi = this.constant(DataType.FLOAT, [], new Float32Array([6]));
      return this.withChannels(this.op('Clip', [x, lo, hi]), this.channels.get(x));
    });
  }

  maxPool2d(x: string, name: string | undefined, spec: PoolSpec): string {
    const k = pair(spec.kernel);
    const s = pair(spec.stride ?? spec.kernel);
    const [ph, pw] = pair(spec.padding ?? 0);
    return this.maybe(name, () =>
      this.withChannels(
        this.op('MaxPool', [x], {
          ceil_mode: A.i(spec.ceilMode ? 1 : 0),
          kernel_shape: A.ints(k),
          pads: A.ints([ph, pw, ph, pw]),
          strides: A.ints(s),
        }),
        this.channels.get(x),
      ),
    );
  }

  /** nn.AvgPool2d (count_include_pad defaults to true, as in torch). */
  avgPool2d(x: string, name: string | undefined, spec: PoolSpec & { countIncludePad?: boolean }): string {
    const k = pair(spec.kernel);
    const s = pair(spec.stride ?? spec.kernel);
    const [ph, pw] = pair(spec.padding ?? 0);
    return this.maybe(name, () =>
      this.withChannels(
        this.op('AveragePool', [x], {
          ceil_mode: A.i(spec.ceilMode ? 1 : 0),
          count_include_pad: A.i((spec.countIncludePad ?? true) ? 1 : 0),
          kernel_shape: A.ints(k),
          pads: A.ints([ph, pw, ph, pw]),
          strides: A.ints(s),
        }),
        this.channels.get(x),
      ),
    );
  }

  /** Global average pooling (what torch writes for adaptive_avg_pool2d(x, 1) / nn.AdaptiveAvgPool2d((1, 1))). */
  globalAvgPool(x: string, name?: string): string {
    return this.maybe(name, () => this.withChannels(this.op('GlobalAveragePool', [x]), this.channels.get(x)));
  }

  /** nn.AdaptiveAvgPool2d; only output size 1 (global pooling) is supported, since other sizes depend on H, W. */
  adaptiveAvgPool2d(x: string, name: string | undefined, outputSize: number | [number, number] = 1): string {
    const [oh, ow] = pair(outputSize);
    if (oh !== 1 || ow !== 1) throw new Error(`adaptiveAvgPool2d: only output size 1 is supported, got ${oh}×${ow}`);
    return this.globalAvgPool(x, name);
  }

  /** Flatten from `axis` (torch.flatten(x, 1) / nn.Flatten()). */
  flatten(x: string, name?: string, axis = 1): string {
    return this.maybe(name, () => this.op('Flatten', [x], { axis: A.i(axis) }));
  }

  /** nn.Linear as module `name`: Gemm(x, W[out, in], b, transB=1). */
  linear(x: string, name: string, spec: LinearSpec): string {
    return this.module(name, () => {
      const dims = [spec.outFeatures, spec.inFeatures];
      const inputs = [x, this.weight('weight', dims, spec.weightInit ?? { kind: 'torch_default' })];
      if (spec.bias ?? true) inputs.push(this.biasParam('bias', spec.outFeatures, dims, spec.biasInit ?? 'torch_default'));
      return this.op('Gemm', inputs, { alpha: A.f(1), beta: A.f(1), transB: A.i(1) });
    });
  }

  /**
   * Dropout with probability `p`, written per the builder's dropout mode (nothing for 'none').
   * `mode` overrides the builder's mode for this layer.
   */
  dropout(x: string, name: string | undefined, p: number, mode: DropoutMode = this.dropoutMode): string {
    if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
    if (mode === 'none') return x;
    return this.maybe(name, () => {
      const c = this.channels.get(x);
      const ratio = this.constant(DataType.FLOAT, [], new Float32Array([p]));
      if (mode === 'inference') return this.withChannels(this.op('Dropout', [x, ratio]), c);
      const training = this.constant(DataType.BOOL, [], new Uint8Array([1]));
      const [y, mask] = this.emit('Dropout', [x, ratio, training], {}, 2) as [string, string];
      // onnxruntime's EliminateDropout pass (basic optimisation level and above) deletes a Dropout whose
      // mask output is unused, even with training_mode true. Consuming the mask keeps the node, and
      // multiplying by it is an identity (y is already zero where the mask is false).
      const m = this.op('Cast', [mask], { to: A.i(DataType.FLOAT) });
      return this.withChannels(this.op('Mul', [y, m]), c);
    });
  }

  /** torch.cat(xs, axis). */
  concat(xs: readonly string[], name?: string, axis = 1): string {
    if (xs.length === 0) throw new Error('concat: no inputs');
    return this.maybe(name, () => {
      const y = this.op('Concat', xs, { axis: A.i(axis) });
      if (axis === 1 && xs.every((t) => this.channels.has(t))) this.channels.set(y, xs.reduce((s, t) => s + this.channels.get(t)!, 0));
      return y;
    });
  }

  /** a + b. */
  add(a: string, b: string, name?: string): string {
    return this.maybe(name, () => this.withChannels(this.op('Add', [a, b]), this.channels.get(a) ?? this.channels.get(b)));
  }
}

/** Names of initializers that are buffers rather than trainable parameters (BatchNorm running statistics). */
export function isBufferName(name: string): boolean {
  return /(^|\.)(running_mean|running_var|num_batches_tracked)$/.test(name);
}

/**
 * Number of trainable parameters: elements of float initializers, excluding BatchNorm running statistics
 * (what `sum(p.numel() for p in model.parameters())` counts in PyTorch). Works on imported models too,
 * with the caveat that constants folded into initializers by an exporter are counted.
 */
export function countParameters(model: Model): number {
  let n = 0;
  for (const t of model.graph.initializers.values()) {
    if (t.dataType !== DataType.FLOAT && t.dataType !== DataType.DOUBLE && t.dataType !== DataType.FLOAT16 && t.dataType !== DataType.BFLOAT16) continue;
    if (isBufferName(t.name)) continue;
    n += t.dims.reduce((a, b) => a * b, 1);
  }
  return n;
}
