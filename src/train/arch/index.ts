/** Architecture registry: build any supported model by name. */
import type { Model } from '../../onnx/ir.js';
import type { ArchOptions } from './common.js';
import { densenet121, densenet169, type DenseNetOptions } from './densenet.js';
import { mobilenetV2, type MobileNetV2Options } from './mobilenet.js';
import { resnet18, resnet34, type ResNetOptions } from './resnet.js';
import { smallCnn, type SmallCnnOptions } from './small-cnn.js';
import { r3d18, smallCnn3d, type VolumeArchOptions } from './r3d.js';

export type { ArchOptions } from './common.js';
export type { DenseNetOptions } from './densenet.js';
export type { MobileNetV2Options } from './mobilenet.js';
export type { ResNetOptions } from './resnet.js';
export type { SmallCnnOptions } from './small-cnn.js';
export type { VolumeArchOptions } from './r3d.js';
export { densenet121, densenet169, mobilenetV2, r3d18, resnet18, resnet34, smallCnn, smallCnn3d };
export { makeDivisible } from './mobilenet.js';
export {
  NetBuilder,
  countParameters,
  initWeight,
  isBufferName,
  moduleScope,
  unqualifiedName,
  type BiasInit,
  type Conv2dSpec,
  type DropoutMode,
  type LinearSpec,
  type NetBuilderOptions,
  type PoolSpec,
  type WeightInit,
} from './layers.js';

/** Options accepted through the registry: the common ones plus any architecture-specific ones. */
export type AnyArchOptions = ArchOptions & SmallCnnOptions & ResNetOptions & DenseNetOptions & MobileNetV2Options & VolumeArchOptions;

export const ARCHITECTURES: Readonly<Record<string, (opts?: AnyArchOptions) => Model>> = Object.freeze({
  small_cnn: smallCnn,
  resnet18,
  resnet34,
  densenet121,
  densenet169,
  mobilenet_v2: mobilenetV2,
  small_cnn_3d: smallCnn3d,
  r3d_18: r3d18,
});

/** Architectures whose input is a volume [N, C, D, H, W]. */
export const VOLUME_ARCHITECTURES: ReadonlySet<string> = new Set(['small_cnn_3d', 'r3d_18']);

/** Whether `name` (any accepted spelling) is a volume architecture. */
export function isVolumeArchitecture(name: string): boolean {
  const key = canonicalArchitecture(name);
  return key !== undefined && VOLUME_ARCHITECTURES.has(key);
}

/** Canonical name for `name`: case-insensitive, '-' and '_' interchangeable, camelCase accepted (mobilenetV2). */
export function canonicalArchitecture(name: string): string | undefined {
  const key = name.toLowerCase().replace(/-/g, '_');
  if (key in ARCHITECTURES) return key;
  const squashed = key.replace(/_/g, '');
  return Object.keys(ARCHITECTURES).find((k) => k.replace(/_/g, '') === squashed);
}

/** Build architecture `name` (e.g. 'resnet18', 'densenet121', 'mobilenet_v2', 'small_cnn'). */
export function buildArchitecture(name: string, opts: AnyArchOptions = {}): Model {
  const key = canonicalArchitecture(name);
  if (!key) throw new Error(`unknown architecture '${name}'; valid names: ${Object.keys(ARCHITECTURES).join(', ')}`);
  return ARCHITECTURES[key]!(opts);
}
