/**
 * A value given as a number or named after the array it stands in (Quantus' baseline names, shared by its
 * removal metrics and the constant control map): 'black' is the array's minimum, 'white' its maximum,
 * 'mean' its mean.
 */
export type NamedValue = number | 'black' | 'white' | 'mean';

/** The value `value` names for array `x`; `what` names the option in the error. */
export function namedValue(x: ArrayLike<number>, value: NamedValue, what: string): number {
  if (typeof value === 'number') return value;
  if (value !== 'black' && value !== 'white' && value !== 'mean') throw new Error(`${what} must be a number, black, white or mean, got '${String(value)}'`);
  let lo = Infinity;
  let hi = -Infinity;
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    sum += v;
  }
  return value === 'black' ? lo : value === 'white' ? hi : sum / x.length;
}
