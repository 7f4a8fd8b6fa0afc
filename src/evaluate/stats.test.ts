/**
 * Summaries against scipy/numpy (fixtures/stats.json): t quantiles (scipy.stats.t.ppf), the t
 * interval (scipy.stats.t.interval with sem; closed forms for df 1 and 2), numpy.percentile; the bootstrap interval by its
 * properties (seeded, brackets the mean, close to the t interval for a near-normal sample).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatCI, meanCI, quantile, quartiles, tQuantile } from './stats.js';

const fx = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/stats.json', import.meta.url)), 'utf8')) as {
  t_ppf: { p: number; df: number; q: number }[];
  sample: number[];
  mean: number;
  t95: [number, number];
  median: number;
  q25: number;
  q75: number;
};

test('tQuantile matches the closed forms for df 1 and 2 to 1e-13, and scipy.stats.t.ppf to 1e-8', () => {
  // scipy's t.ppf (cephes stdtrit) is itself only good to ~1e-9 relative: the closed forms are the
  // sharper reference. df = 1: tan(π(p − ½)) = 1/tan(π(1 − p)); df = 2: (2p − 1)/√(2p(1 − p)).
  for (const p of [0.6, 0.9, 0.95, 0.975, 0.995, 0.9999]) {
    assert.ok(Math.abs(tQuantile(p, 1) * Math.tan(Math.PI * (1 - p)) - 1) < 1e-13, `df 1, p ${p}`);
    assert.ok(Math.abs(tQuantile(p, 2) / ((2 * p - 1) / Math.sqrt(2 * p * (1 - p))) - 1) < 1e-13, `df 2, p ${p}`);
  }
  let worst = 0;
  for (const { p, df, q } of fx.t_ppf) {
    worst = Math.max(worst, Math.abs(tQuantile(p, df) - q) / Math.abs(q), Math.abs(-tQuantile(1 - p, df) - q) / Math.abs(q));
  }
  assert.ok(worst < 1e-8, `worst relative error ${worst}`);
  assert.throws(() => tQuantile(1, 3), /p must be/);
});

test('meanCI (t) matches scipy.stats.t.interval; quartiles match numpy.percentile', () => {
  const ci = meanCI(fx.sample);
  assert.ok(Math.abs(ci.mean - fx.mean) < 1e-12);
  assert.ok(Math.abs(ci.lo - fx.t95[0]) < 1e-9 && Math.abs(ci.hi - fx.t95[1]) < 1e-9, `${ci.lo}, ${ci.hi} vs ${fx.t95}`);
  const q = quartiles([...fx.sample, NaN]);
  assert.equal(q.dropped, 1);
  assert.ok(Math.abs(q.median - fx.median) < 1e-12 && Math.abs(q.q25 - fx.q25) < 1e-12 && Math.abs(q.q75 - fx.q75) < 1e-12);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
});

test('bootstrap interval is seeded, brackets the mean and agrees roughly with the t interval', () => {
  const a = meanCI(fx.sample, { method: 'bootstrap', seed: 7 });
  const b = meanCI(fx.sample, { method: 'bootstrap', seed: 7 });
  const c = meanCI(fx.sample, { method: 'bootstrap', seed: 8 });
  assert.deepEqual(a, b);
  assert.notEqual(a.lo, c.lo);
  assert.ok(a.lo < a.mean && a.mean < a.hi);
  const t = meanCI(fx.sample);
  // percentile bootstrap is a little narrower than t for small n; both ≈ mean ± 2 se
  assert.ok(Math.abs(a.lo - t.lo) < 0.3 * (t.hi - t.lo) && Math.abs(a.hi - t.hi) < 0.3 * (t.hi - t.lo), `${a.lo},${a.hi} vs ${t.lo},${t.hi}`);
});

test('formatCI writes "mean [lo, hi]"; NaN and single values are handled', () => {
  assert.equal(formatCI({ mean: 0.1234, lo: 0.08, hi: 0.159 }), '0.12 [0.08, 0.16]');
  assert.equal(formatCI(meanCI([0.5])), '0.50 [n/a, n/a]');
  assert.equal(formatCI(quartiles([1, 2, 3, 4, 5]), 1), '3.0 [2.0, 4.0]');
});
