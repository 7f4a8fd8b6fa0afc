/** Helpers for the trust commands' tests: temporary dirs, CSV/.npy writers, quiet runs. Tests only. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '../io/npy.js';
import { Tensor } from '../tensor/tensor.js';

export const tempDir = (name: string): string => mkdtempSync(join(tmpdir(), `candor-${name}-`));

export function writeCsv(path: string, header: string[], rows: (string | number)[][]): string {
  writeFileSync(path, [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return path;
}

export function writeNpy(path: string, data: Float64Array | Int32Array, shape: number[]): string {
  writeFileSync(path, encodeNpy(new Tensor(data as never, shape)));
  return path;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

/** Run a command with console.log silenced; returns what it printed. */
export async function quiet(run: () => Promise<void>): Promise<string> {
  const log = console.log;
  const err = console.error;
  let out = '';
  console.log = (...a: unknown[]) => void (out += a.join(' ') + '\n');
  console.error = () => {};
  try {
    await run();
  } finally {
    console.log = log;
    console.error = err;
  }
  return out;
}
