/**
 * The audit's work cache: trained sanity-check models, attribution maps and per-test results,
 * each stored under a key hashed from everything that determines it (model bytes, data, sample,
 * method options, seed, candor version). A re-run finds finished work and skips it; a change to
 * any input changes the key. Files are written atomically, so an interrupted run leaves either a
 * whole entry or none.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync, readNpyFileSync, writeNpyFileSync } from '../io/files.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * JSON has no NaN or ±Infinity (JSON.stringify writes null): cached results keep them as {"$number": "NaN"}, so a
 * value read back equals the value computed (a constant map's correlation stays NaN, not null).
 */
const keepNonFinite = (_k: string, x: unknown): unknown => (typeof x === 'number' && !Number.isFinite(x) ? { $number: String(x) } : x);
const reviveNonFinite = (_k: string, x: unknown): unknown => {
  if (x && typeof x === 'object' && !Array.isArray(x)) {
    const keys = Object.keys(x);
    if (keys.length === 1 && keys[0] === '$number') return Number((x as { $number: string }).$number);
  }
  return x;
};

/** JSON with object keys sorted, so equal values hash equally. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x)) {
      return Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    if (ArrayBuffer.isView(x)) return digest(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    return x;
  });
}

/** Hex SHA-256 of bytes (first 16 characters: collisions are not a concern at this scale). */
export function digest(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** Key of anything JSON-able (typed arrays are hashed by content). */
export function keyOf(...parts: unknown[]): string {
  return digest(stableJson(parts));
}

export class WorkCache {
  /** Entries found (hits) and written (misses), for the report's timing notes. */
  hits = 0;
  misses = 0;

  constructor(
    readonly dir: string | undefined,
    readonly version: string,
  ) {
    if (dir) mkdirSync(dir, { recursive: true });
  }

  path(kind: string, key: string, ext: string): string | undefined {
    if (!this.dir) return undefined;
    const d = join(this.dir, kind);
    mkdirSync(d, { recursive: true });
    return join(d, `${key}${ext}`);
  }

  /** A JSON result: read if cached, else computed and stored. */
  async json<T>(kind: string, keyParts: unknown, compute: () => Promise<T>): Promise<T> {
    const p = this.path(kind, keyOf(this.version, keyParts), '.json');
    if (p && existsSync(p)) {
      try {
        const v = JSON.parse(readFileSync(p, 'utf8'), reviveNonFinite) as T;
        this.hits++;
        return v;
      } catch {
        // A corrupt entry (disk full, manual edit) is recomputed and replaced.
      }
    }
    const v = await compute();
    this.misses++;
    if (p) writeFileAtomicSync(p, new TextEncoder().encode(JSON.stringify(v, keepNonFinite)));
    return v;
  }

  /** A float32 tensor (attribution maps): read if cached, else computed and stored as .npy. */
  async tensor(kind: string, keyParts: unknown, compute: () => Promise<Tensor>): Promise<Tensor> {
    const p = this.path(kind, keyOf(this.version, keyParts), '.npy');
    if (p && existsSync(p)) {
      try {
        const t = readNpyFileSync(p) as Tensor;
        if (t.data instanceof Float32Array) {
          this.hits++;
          return t;
        }
      } catch {
        // recomputed below
      }
    }
    const t = await compute();
    this.misses++;
    if (p) writeNpyFileSync(p, t);
    return t;
  }
}
