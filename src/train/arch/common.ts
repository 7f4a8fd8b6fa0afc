/** Options shared by every architecture builder, and the input/output conventions. */
import type { Dim } from '../../onnx/ir.js';
import { type DropoutMode, NetBuilder } from './layers.js';

export interface ArchOptions {
  /** Input channels (default 3; 1 for grayscale). */
  inChannels?: number;
  /** Number of output logits (default 2). */
  numClasses?: number;
  /**
   * Spatial size written into the input's declared shape. When omitted the height and width are
   * symbolic ('height', 'width') and the graph runs at any size above the architecture's minimum.
   * Note that onnxruntime rejects inputs whose size differs from a declared numeric size.
   */
  inputSize?: number | [number, number];
  /** Seed for the weight initialisers (default 0). */
  seed?: number;
  /** How dropout layers are written (default 'none', what an eval-mode torch export has). See DropoutMode. */
  dropout?: DropoutMode;
  /** Dropout probability where the architecture has (or is given) a dropout layer; the default is per architecture. */
  dropoutRate?: number;
}

export interface ResolvedArch {
  nb: NetBuilder;
  input: string;
  inChannels: number;
  numClasses: number;
}

function checkPositiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${v}`);
  return v;
}

export function spatial(opts: ArchOptions): [Dim, Dim] {
  if (opts.inputSize === undefined) return ['height', 'width'];
  const [h, w] = typeof opts.inputSize === 'number' ? [opts.inputSize, opts.inputSize] : opts.inputSize;
  return [checkPositiveInt(h, 'inputSize'), checkPositiveInt(w, 'inputSize')];
}

/** A NetBuilder with the graph input `input` ['batch', C, H, W] declared. */
export function start(opts: ArchOptions, hw: [Dim, Dim] = spatial(opts)): ResolvedArch {
  const inChannels = checkPositiveInt(opts.inChannels ?? 3, 'inChannels');
  const numClasses = checkPositiveInt(opts.numClasses ?? 2, 'numClasses');
  const nb = new NetBuilder({ seed: opts.seed ?? 0, dropout: opts.dropout ?? 'none' });
  const input = nb.input('input', ['batch', inChannels, hw[0], hw[1]]);
  return { nb, input, inChannels, numClasses };
}

/** A NetBuilder with the volume input `input` ['batch', C, D, H, W] declared (sizes symbolic when not given). */
export function start3d(opts: ArchOptions & { inputShape3d?: [number, number, number] }): ResolvedArch {
  const inChannels = checkPositiveInt(opts.inChannels ?? 1, 'inChannels');
  const numClasses = checkPositiveInt(opts.numClasses ?? 2, 'numClasses');
  const nb = new NetBuilder({ seed: opts.seed ?? 0, dropout: opts.dropout ?? 'none' });
  const s = opts.inputShape3d;
  if (s) s.forEach((v) => checkPositiveInt(v, 'inputShape3d'));
  const input = nb.input('input', ['batch', inChannels, ...(s ?? (['depth', 'height', 'width'] as Dim[]))]);
  return { nb, input, inChannels, numClasses };
}

/** Mark `x` as the graph output `logits` ['batch', K]. */
export function finish(nb: NetBuilder, x: string, numClasses: number): void {
  nb.output(x, 'logits', ['batch', numClasses]);
}
