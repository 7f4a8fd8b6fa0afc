/**
 * The content-addressed store a work queue's coordinator and workers share: every blob (model bytes,
 * image chunks, maps, trained models) lives under the SHA-256 of its bytes, written atomically
 * (temporary file, then rename) and checked against that hash when read, so a torn or altered file is
 * an error, never a wrong result. The queue carries only these hashes. A directory — local disk, or a
 * volume every machine mounts (NFS, a Kubernetes PersistentVolume) — holds it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../io/files.js';
import { encodeNpy, parseNpy } from '../io/npy.js';
import type { Tensor } from '../tensor/tensor.js';

/** The store's folder when none is given (relative to the working directory). */
export const DEFAULT_STORE = '.candor-store';

const HASH = /^[0-9a-f]{64}$/;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ContentStore {
  readonly dir: string;
  /** A random id written when the store is created: coordinator and workers check they share one store. */
  readonly id: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    if (existsSync(this.dir) && !statSync(this.dir).isDirectory()) throw new Error(`--store ${dir}: not a directory`);
    mkdirSync(join(this.dir, 'blobs'), { recursive: true });
    const idFile = join(this.dir, 'store.json');
    if (!existsSync(idFile)) writeFileAtomicSync(idFile, new TextEncoder().encode(JSON.stringify({ id: randomUUID(), created: new Date().toISOString() })));
    try {
      this.id = (JSON.parse(readFileSync(idFile, 'utf8')) as { id: string }).id;
    } catch (e) {
      throw new Error(`${idFile}: unreadable (${(e as Error).message}); it identifies the store — remove it only if no worker uses this store`);
    }
  }

  private path(hash: string): string {
    if (!HASH.test(hash)) throw new Error(`store: '${hash}' is not a SHA-256 content key`);
    return join(this.dir, 'blobs', hash.slice(0, 2), hash.slice(2));
  }

  has(hash: string): boolean {
    return existsSync(this.path(hash));
  }

  /** Store bytes; returns their key. Writing what is already there is a no-op. */
  put(bytes: Uint8Array): string {
    const hash = sha256(bytes);
    const p = this.path(hash);
    if (!existsSync(p)) {
      mkdirSync(join(this.dir, 'blobs', hash.slice(0, 2)), { recursive: true });
      // No fsync: the rename makes the blob appear whole or not at all, and a blob torn by a power loss
      // fails its hash check on read and is computed again (CorruptBlob is a MissingBlob).
      writeFileAtomicSync(p, bytes, false);
    }
    return hash;
  }

  /** The bytes under a key, checked against it. */
  get(hash: string): Uint8Array {
    const p = this.path(hash);
    if (!existsSync(p)) throw new MissingBlob(hash, this.dir);
    const bytes = new Uint8Array(readFileSync(p));
    const got = sha256(bytes);
    if (got !== hash) {
      rmSync(p, { force: true });
      throw new CorruptBlob(hash, got, this.dir);
    }
    return bytes;
  }

  putTensor(t: Tensor): string {
    return this.put(encodeNpy(t));
  }

  getTensor(hash: string): Tensor {
    return parseNpy(this.get(hash), `store blob ${hash}`) as Tensor;
  }

  putJson(v: unknown): string {
    return this.put(new TextEncoder().encode(JSON.stringify(v)));
  }

  getJson<T>(hash: string): T {
    return JSON.parse(new TextDecoder().decode(this.get(hash))) as T;
  }
}

/** A key the store does not hold (deleted, or a worker on another store): its unit is computed again. */
export class MissingBlob extends Error {
  constructor(
    readonly hash: string,
    dir: string,
    message = `store ${dir}: no blob ${hash} (deleted, or this process does not share the coordinator's store: give every worker --store on the same shared volume)`,
  ) {
    super(message);
    this.name = 'MissingBlob';
  }
}

/** A blob whose bytes do not hash to its key (torn by a crash, or altered): removed, and treated as missing. */
export class CorruptBlob extends MissingBlob {
  constructor(hash: string, got: string, dir: string) {
    super(hash, dir, `store ${dir}: the blob ${hash} was corrupt (its bytes hash to ${got}); removed, to be computed again`);
    this.name = 'CorruptBlob';
  }
}
