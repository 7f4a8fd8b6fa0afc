import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { larsLassoPath, lassoLarsIC, solve } from './lars.js';
import { FIXTURES } from './fixtures.js';

interface Case { A: number[][]; b: number[]; alphas: number[]; coef_path: number[][]; aic: number[]; coef: number[]; noise_variance: number }
const cases = (JSON.parse(readFileSync(`${FIXTURES}lasso_lars_ic.json`, 'utf8')) as { cases: Case[] }).cases;

test('solve: a 3×3 system, and null for a singular one', () => {
  const x = solve(Float64Array.from([4, 1, 0, 1, 3, 1, 0, 1, 2]), Float64Array.from([1, 2, 3]), 3)!;
  // check A x = b
  assert.ok(Math.abs(4 * x[0]! + x[1]! - 1) < 1e-14 && Math.abs(x[0]! + 3 * x[1]! + x[2]! - 2) < 1e-14 && Math.abs(x[1]! + 2 * x[2]! - 3) < 1e-14);
  assert.equal(solve(Float64Array.from([1, 2, 2, 4]), Float64Array.from([1, 1]), 2), null);
});

cases.forEach((c, k) => {
  const n = c.A.length, p = c.A[0]!.length;
  const A = Float64Array.from(c.A.flat());
  const b = Float64Array.from(c.b);
  test(`LARS-lasso path and LassoLarsIC(aic) equal scikit-learn's (case ${k}: ${n}×${p})`, () => {
    const fit = lassoLarsIC(A, b, n, p, 'aic');
    assert.equal(fit.path.alphas.length, c.alphas.length, 'number of knots');
    let worst = 0;
    fit.path.alphas.forEach((a, i) => (worst = Math.max(worst, Math.abs(a - c.alphas[i]!))));
    fit.path.coefs.forEach((co, i) => co.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - c.coef_path[i]![j]!)))));
    fit.coef.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - c.coef[j]!))));
    assert.ok(worst < 1e-9, `largest difference ${worst}`);
    assert.ok(Math.abs(fit.noiseVariance - c.noise_variance) < 1e-12);
    fit.criterion.forEach((v, i) => assert.ok(Math.abs(v - c.aic[i]!) < 1e-7 * Math.abs(c.aic[i]!)));
    console.log(`# lars case ${k}: ${worst.toExponential(2)}`);
  });
});

test('LARS path ends at the least-squares fit', () => {
  const c = cases[2]!;
  const n = c.A.length, p = c.A[0]!.length;
  const path = larsLassoPath(Float64Array.from(c.A.flat()), Float64Array.from(c.b), n, p);
  assert.equal(path.alphas[path.alphas.length - 1], 0);
});
