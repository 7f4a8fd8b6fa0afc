/**
 * The content-addressed store a work queue's coordinator and workers share: every blob (model bytes,
 * image chunks, maps, trained models) lives under the SHA-256 of its bytes, appears whole or not at all
 * (a rename into place; an S3 PUT), and is checked against that hash when read, so a torn or altered blob
 * is removed and computed again, never a wrong result. The queue carries only these hashes.
 *
 * Two places hold it: a directory (`--store DIR`, the default: local disk, or a volume every machine
 * mounts — NFS, a Kubernetes ReadWriteMany volume), or S3-compatible object storage (`--store
 * s3://BUCKET/PREFIX`, ./s3-store.ts: AWS S3, MinIO, Ceph…).
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

/** Where blobs are kept: a directory or an S3 bucket. */
export interface BlobBackend {
  /** For messages: the folder or s3:// URL. */
  readonly location: string;
  /** Bytes under a name, or undefined when absent. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Store bytes under a name, appearing whole or not at all. */
  write(name: string, bytes: Uint8Array): Promise<void>;
  exists(name: string): Promise<boolean>;
  remove(name: string): Promise<void>;
}

export class ContentStore {
  private constructor(
    readonly backend: BlobBackend,
    /** A random id written when the store is created: coordinator and workers check they share one store. */
    readonly id: string,
  ) {}

  /** The store at `spec`: a folder, or s3://BUCKET[/PREFIX] (created with its id when new). */
  static async open(spec: string): Promise<ContentStore> {
    const backend = /^s3:\/\//i.test(spec) ? await (await import('./s3-store.js')).S3Backend.open(spec) : new DirBackend(spec);
    let raw = await backend.read('store.json');
    if (!raw) {
      await backend.write('store.json', new TextEncoder().encode(JSON.stringify({ id: randomUUID(), created: new Date().toISOString() })));
      raw = await backend.read('store.json');
    }
    try {
      return new ContentStore(backend, (JSON.parse(new TextDecoder().decode(raw)) as { id: string }).id);
    } catch (e) {
      throw new Error(`${backend.location}/store.json: unreadable (${(e as Error).message}); it identifies the store — remove it only if no worker uses this store`);
    }
  }

  /** For messages and for `--store` of a worker command line. */
  get location(): string {
    return this.backend.location;
  }

  private name(hash: string): string {
    if (!HASH.test(hash)) throw new Error(`store: '${hash}' is not a SHA-256 content key`);
    return `blobs/${hash.slice(0, 2)}/${hash.slice(2)}`;
  }

  has(hash: string): Promise<boolean> {
    return this.backend.exists(this.name(hash));
  }

  /** Store bytes; returns their key. Writing what is already there is a no-op. */
  async put(bytes: Uint8Array): Promise<string> {
    const hash = sha256(bytes);
    const name = this.name(hash);
    if (!(await this.backend.exists(name))) await this.backend.write(name, bytes);
    return hash;
  }

  /** The bytes under a key, checked against it. */
  async get(hash: string): Promise<Uint8Array> {
    const name = this.name(hash);
    const bytes = await this.backend.read(name);
    if (!bytes) throw new MissingBlob(hash, this.location);
    const got = sha256(bytes);
    if (got !== hash) {
      await this.backend.remove(name);
      throw new CorruptBlob(hash, got, this.location);
    }
    return bytes;
  }

  putTensor(t: Tensor): Promise<string> {
    return this.put(encodeNpy(t));
  }

  async getTensor(hash: string): Promise<Tensor> {
    return parseNpy(await this.get(hash), `store blob ${hash}`) as Tensor;
  }

  putJson(v: unknown): Promise<string> {
    return this.put(new TextEncoder().encode(JSON.stringify(v)));
  }

  async getJson<T>(hash: string): Promise<T> {
    return JSON.parse(new TextDecoder().decode(await this.get(hash))) as T;
  }
}

/** A folder: blobs/ab/cdef… files, renamed into place (no fsync: a blob torn by a power loss fails its hash). */
class DirBackend implements BlobBackend {
  readonly location: string;
  constructor(dir: string) {
    this.location = resolve(dir);
    if (existsSync(this.location) && !statSync(this.location).isDirectory()) throw new Error(`--store ${dir}: not a directory`);
    mkdirSync(join(this.location, 'blobs'), { recursive: true });
  }
  async read(name: string): Promise<Uint8Array | undefined> {
    const p = join(this.location, name);
    return existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined;
  }
  async write(name: string, bytes: Uint8Array): Promise<void> {
    const p = join(this.location, name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileAtomicSync(p, bytes, false);
  }
  async exists(name: string): Promise<boolean> {
    return existsSync(join(this.location, name));
  }
  async remove(name: string): Promise<void> {
    rmSync(join(this.location, name), { force: true });
  }
}

/** A key the store does not hold (deleted, or a worker on another store): its unit is computed again. */
export class MissingBlob extends Error {
  constructor(
    readonly hash: string,
    location: string,
    message = `store ${location}: no blob ${hash} (deleted, or this process does not share the coordinator's store: give every worker --store on the same shared volume or bucket)`,
  ) {
    super(message);
    this.name = 'MissingBlob';
  }
}

/** A blob whose bytes do not hash to its key (torn by a crash, or altered): removed, and treated as missing. */
export class CorruptBlob extends MissingBlob {
  constructor(hash: string, got: string, location: string) {
    super(hash, location, `store ${location}: the blob ${hash} was corrupt (its bytes hash to ${got}); removed, to be computed again`);
    this.name = 'CorruptBlob';
  }
}
