/** Test support: the arrays of a fixture .npz, each asked for by name (a missing one is an error naming the file). */
import { basename } from 'node:path';
import { readNpzFileSync } from '../io/files.js';
import type { Tensor } from '../tensor/tensor.js';

export function npzFixture(path: string): (key: string) => Tensor {
  const fx = readNpzFileSync(path);
  return (key) => {
    const t = fx.get(key) as Tensor | undefined;
    if (!t) throw new Error(`${basename(path)} has no '${key}'`);
    return t;
  };
}
