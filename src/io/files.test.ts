import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import {
  openNpzFile, readNpyFile, readNpyFileSync, readNpzFile, readNpzFileSync, writeNpyFile, writeNpyFileSync,
  writeNpzFile, writeNpzFileSync,
} from './files.js';

function withDir(fn: (dir: string) => Promise<void> | void) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'candor-io-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const t = new Tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);

test('npy and npz files round-trip and leave no temporary files behind', withDir(async (dir) => {
  await writeNpyFile(join(dir, 'a.npy'), t);
  writeNpyFileSync(join(dir, 'b.npy'), t, { fortranOrder: true });
  await writeNpzFile(join(dir, 'c.npz'), { t, labels: new Tensor(Uint8Array.from([0, 1]), [2], 'uint8') }, { compress: true });
  writeNpzFileSync(join(dir, 'd.npz'), new Map([['t', t]]));
  assert.deepEqual(readdirSync(dir).sort(), ['a.npy', 'b.npy', 'c.npz', 'd.npz']);
  for (const r of [await readNpyFile(join(dir, 'a.npy')), readNpyFileSync(join(dir, 'b.npy'))]) {
    assert.deepEqual(r.shape, [2, 3]);
    assert.deepEqual(Array.from(r.data as Float32Array), [1, 2, 3, 4, 5, 6]);
  }
  assert.deepEqual([...(await readNpzFile(join(dir, 'c.npz'))).keys()], ['t', 'labels']);
  assert.deepEqual((await openNpzFile(join(dir, 'c.npz'))).get('labels').shape, [2]);
  assert.deepEqual(readNpzFileSync(join(dir, 'd.npz')).get('t')!.shape, [2, 3]);
}));

test('overwriting replaces the file whole; a failed write leaves the old file and no temp file', withDir(async (dir) => {
  const p = join(dir, 'x.npy');
  await writeNpyFile(p, t);
  await writeNpyFile(p, new Tensor(Float32Array.from([9]), [1]));
  assert.deepEqual(Array.from((await readNpyFile(p)).data as Float32Array), [9]);
  await assert.rejects(writeNpyFile(join(dir, 'missing-dir', 'y.npy'), t), /ENOENT/);
  assert.throws(() => writeNpyFileSync(p, { dtype: 'float32', shape: [5], data: new Float32Array(1) }), /data has 1 elements/);
  assert.deepEqual(readdirSync(dir), ['x.npy']);
  assert.deepEqual(Array.from((await readNpyFile(p)).data as Float32Array), [9]);
}));

test('read errors name the file path', withDir(async (dir) => {
  const p = join(dir, 'junk.npz');
  writeFileSync(p, 'not a zip at all, just text');
  await assert.rejects(readNpzFile(p), (e: Error) => e.message.startsWith(`${p}: not a zip archive`));
  assert.throws(() => readNpyFileSync(p), (e: Error) => e.message.startsWith(`${p}: not a .npy file`));
}));
