/**
 * NumPy `.npz` archives (what `np.savez` / `np.savez_compressed` write): a ZIP of `<key>.npy` members.
 * Browser-safe (no Node APIs). See zip.ts for the container and npy.ts for the members.
 */
import type { Tensor, TensorLike } from '../tensor/tensor.js';
import { encodeNpy, parseNpy } from './npy.js';
import { openZip, writeZip, type ZipEntry } from './zip.js';

export interface NpzArchive {
  /** Array names (member names without `.npy`), in archive order. */
  readonly keys: string[];
  has(key: string): boolean;
  /** Inflate, CRC-check and decode one member. Not cached: each call decodes again. */
  get(key: string): Tensor<any>;
}

/**
 * Open an `.npz` lazily: only the central directory is read now; `get(key)` inflates just that member.
 * Members whose names do not end in `.npy` (and directories) are not listed.
 */
export function openNpz(bytes: Uint8Array, source = '<npz>'): NpzArchive {
  const zip = openZip(bytes, source);
  const members = new Map<string, ZipEntry>();
  for (const e of zip.entries) {
    if (!e.name.endsWith('.npy')) continue;
    const key = e.name.slice(0, -4);
    if (!members.has(key)) members.set(key, e);
  }
  const keys = [...members.keys()];
  return {
    keys,
    has: (key) => members.has(key),
    get(key: string): Tensor<any> {
      const e = members.get(key);
      if (!e) {
        throw new Error(`${source}: no array '${key}' (arrays: ${keys.length ? keys.join(', ') : 'none'})`);
      }
      return parseNpy(zip.extract(e), `${source}/${e.name}`);
    },
  };
}

/** Read every array of an `.npz` into a Map keyed by name (without `.npy`). */
export function readNpz(bytes: Uint8Array, source = '<npz>'): Map<string, Tensor<any>> {
  const npz = openNpz(bytes, source);
  return new Map(npz.keys.map((k) => [k, npz.get(k)]));
}

export interface NpzWriteOptions {
  /** Deflate members, like `np.savez_compressed` (default false, like `np.savez`). */
  compress?: boolean;
}

/** Write an `.npz` archive that numpy's `np.load` reads. Keys become `<key>.npy` members. */
export function writeNpz(
  entries: Record<string, TensorLike> | ReadonlyMap<string, TensorLike>,
  opts: NpzWriteOptions = {},
): Uint8Array {
  const list = entries instanceof Map ? [...entries] : Object.entries(entries as Record<string, TensorLike>);
  const members = list.map(([key, t]) => {
    if (key === '') throw new Error('writeNpz: empty array name');
    let data: Uint8Array;
    try {
      data = encodeNpy(t);
    } catch (err) {
      throw new Error(`writeNpz: array '${key}': ${(err as Error).message}`);
    }
    return { name: `${key}.npy`, data };
  });
  return writeZip(members, { compress: !!opts.compress });
}
