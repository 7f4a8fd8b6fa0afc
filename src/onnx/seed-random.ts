/**
 * Reproducible randomness inside a graph: onnxruntime seeds a random op from its `seed` attribute
 * when it has one, and from the clock otherwise, so MC-dropout passes (and training) would differ
 * from run to run. `seedRandomOps` gives every random op its own seed derived from one number; the
 * passes of one session then follow a fixed sequence (same seed, same batches → same predictions).
 */
import { A, type Graph } from './ir.js';

/** Ops with a `seed` attribute: int for Dropout, float for the rest. */
const RANDOM_OPS: Record<string, 'int' | 'float'> = {
  Dropout: 'int',
  RandomNormal: 'float',
  RandomUniform: 'float',
  RandomNormalLike: 'float',
  RandomUniformLike: 'float',
  Bernoulli: 'float',
  Multinomial: 'float',
};

/** Seed every random op of `g` from `seed` (in place); returns how many ops were seeded. */
export function seedRandomOps(g: Graph, seed: number): number {
  let k = 0;
  for (const n of g.nodes) {
    const kind = RANDOM_OPS[n.opType];
    if (!kind) continue;
    const s = (Math.abs(Math.trunc(seed)) * 7919 + 104729 * ++k) % 2147483647;
    n.attrs['seed'] = kind === 'int' ? A.i(s) : A.f(s);
  }
  return k;
}
