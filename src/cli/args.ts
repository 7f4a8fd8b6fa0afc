/** Small helpers shared by the CLI commands. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VOXEL_ORDERS, type VoxelOrder } from '../data/volume.js';
import { INPUT_SCALES, type InputScale } from '../data/transforms.js';

export class UsageError extends Error {}

/** `--help` / `-h` on a command that does not print its own help: the CLI prints `usage` and exits 0. */
export class HelpRequest extends Error {
  constructor(readonly usage: string) {
    super('help');
  }
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  if (!('help' in options) && argv.some((a) => a === '--help' || a === '-h')) throw new HelpRequest(usage);
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage}`);
  }
}

export function required(v: string | undefined, flag: string, usage: string): string {
  if (v === undefined || v === '') throw new UsageError(`missing ${flag}\n\n${usage}`);
  return v;
}

/** `--window C,W`: a DICOM/NIfTI display window (centre, width). */
export function parseWindow(v: string | undefined, flag = '--window'): [number, number] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(',').map(Number);
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[1]! >= 1)) throw new UsageError(`${flag} must be <centre>,<width> with width ≥ 1, e.g. 40,400; got '${v}'`);
  return [parts[0]!, parts[1]!];
}

/** `--scale`: how the model expects its pixels (src/data/transforms.ts scaleInput). */
export function parseScale(v: string, flag = '--scale'): InputScale {
  if (!(INPUT_SCALES as readonly string[]).includes(v)) throw new UsageError(`${flag} must be one of ${INPUT_SCALES.join(', ')}, got '${v}'`);
  return v as InputScale;
}

/** `--frames first|all` for multi-frame DICOM. */
export function parseFrames(v: string | undefined): 'first' | 'all' | undefined {
  if (v === undefined) return undefined;
  if (v !== 'first' && v !== 'all') throw new UsageError(`--frames must be 'first' or 'all', got '${v}'`);
  return v;
}

export function parseIntArg(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, got '${v}'`);
  return n;
}

/** --voxel-order: which voxel axis of a NIfTI volume is the first array axis (3-D models only). */
export function parseVoxelOrder(v: string | undefined, volumes: boolean): VoxelOrder | undefined {
  if (v === undefined) return undefined;
  if (!VOXEL_ORDERS.includes(v as VoxelOrder)) throw new UsageError(`--voxel-order must be one of ${VOXEL_ORDERS.join(', ')}, got '${v}'`);
  if (!volumes) throw new UsageError('--voxel-order applies to 3-D models and their volumes (input [N,C,D,H,W])');
  return v as VoxelOrder;
}
