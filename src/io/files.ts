/**
 * Node-only file helpers for `.npy` / `.npz`. Writes are atomic: the bytes go to a temporary file in
 * the same directory, which is flushed and then renamed over the target, so a crash never leaves a
 * half-written array behind. Error messages name the path.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { openSync, readFileSync, renameSync, unlinkSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Tensor, TensorLike } from '../tensor/tensor.js';
import { encodeNpy, parseNpy, type NpyWriteOptions } from './npy.js';
import { openNpz, readNpz, writeNpz, type NpzArchive, type NpzWriteOptions } from './npz.js';

function bytesOf(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function tempPath(path: string): string {
  const rand = Math.random().toString(36).slice(2, 10);
  return join(dirname(path), `.${basename(path)}.${process.pid}.${rand}.tmp`);
}

/** Write `bytes` to `path` atomically (temp file in the same directory, fsync, rename). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = tempPath(path);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/**
 * Synchronous twin of {@link writeFileAtomic}. `durable: false` skips the fsync: readers still see the whole
 * file or none (the rename), but a power loss may leave a torn one — for stores that check a hash on read.
 */
export function writeFileAtomicSync(path: string, bytes: Uint8Array, durable = true): void {
  const tmp = tempPath(path);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw err;
  }
}

export async function readNpyFile(path: string): Promise<Tensor<any>> {
  return parseNpy(bytesOf(await readFile(path)), path);
}

export function readNpyFileSync(path: string): Tensor<any> {
  return parseNpy(bytesOf(readFileSync(path)), path);
}

export async function writeNpyFile(path: string, t: TensorLike, opts?: NpyWriteOptions): Promise<void> {
  await writeFileAtomic(path, encodeNpy(t, opts));
}

export function writeNpyFileSync(path: string, t: TensorLike, opts?: NpyWriteOptions): void {
  writeFileAtomicSync(path, encodeNpy(t, opts));
}

export async function readNpzFile(path: string): Promise<Map<string, Tensor<any>>> {
  return readNpz(bytesOf(await readFile(path)), path);
}

export function readNpzFileSync(path: string): Map<string, Tensor<any>> {
  return readNpz(bytesOf(readFileSync(path)), path);
}

/** Lazy: reads the file into memory once, inflates members only on `get`. */
export async function openNpzFile(path: string): Promise<NpzArchive> {
  return openNpz(bytesOf(await readFile(path)), path);
}

export function openNpzFileSync(path: string): NpzArchive {
  return openNpz(bytesOf(readFileSync(path)), path);
}

export async function writeNpzFile(
  path: string,
  entries: Record<string, TensorLike> | ReadonlyMap<string, TensorLike>,
  opts?: NpzWriteOptions,
): Promise<void> {
  await writeFileAtomic(path, writeNpz(entries, opts));
}

export function writeNpzFileSync(
  path: string,
  entries: Record<string, TensorLike> | ReadonlyMap<string, TensorLike>,
  opts?: NpzWriteOptions,
): void {
  writeFileAtomicSync(path, writeNpz(entries, opts));
}
