/**
 * Local accuracy (efficiency): for every row, the attributions sum to the model's output minus the
 * expected value. Every SHAP function checks it before returning, so a wrong attribution is an error
 * rather than a plausible-looking plot.
 */

export interface Additive {
  values: Float64Array;
  expected: number;
  output: Float64Array;
  n: number;
  d: number;
}

/** Default tolerance: relative to the output's magnitude, with an absolute floor. */
export const DEFAULT_TOLERANCE = 1e-6;

/** Largest |expected + Σ values − output| over rows, scaled by max(1, |output|). */
export function localAccuracyError(a: Additive): { worst: number; row: number } {
  let worst = 0;
  let row = -1;
  for (let r = 0; r < a.n; r++) {
    let s = a.expected;
    for (let j = 0; j < a.d; j++) s += a.values[r * a.d + j]!;
    const out = a.output[r]!;
    const err = Math.abs(s - out) / Math.max(1, Math.abs(out));
    if (!(err <= worst)) {
      worst = err;
      row = r;
    }
  }
  return { worst, row };
}

export function checkLocalAccuracy(a: Additive, method: string, tolerance = DEFAULT_TOLERANCE): void {
  const { worst, row } = localAccuracyError(a);
  if (!(worst <= tolerance)) {
    let s = a.expected;
    for (let j = 0; j < a.d; j++) s += a.values[row * a.d + j]!;
    throw new Error(
      `${method}: local accuracy violated at row ${row}: expected value ${a.expected} + Σ SHAP = ${s}, but the model outputs ${a.output[row]} (relative error ${worst.toExponential(2)} > ${tolerance})`,
    );
  }
}
