/**
 * Effective complexity (Nguyen & Martínez 2020; Quantus `EffectiveComplexity`): how many attributions
 * exceed `eps` in absolute value (default 1e-5), after Quantus' normalisation by the batch's largest |a|.
 * Quantus defaults: abs, normalise.
 */
import { prepareAttributions } from './prepare.js';

export function effectiveComplexity(a: ArrayLike<number>, n: number, opts: { eps?: number; abs?: boolean; normalise?: boolean } = {}): number[] {
  const eps = opts.eps ?? 1e-5;
  return prepareAttributions(a, n, { abs: opts.abs ?? true, normalise: opts.normalise }).map((row) => {
    let c = 0;
    for (const v of row) if (Math.abs(v) > eps) c++;
    return c;
  });
}
