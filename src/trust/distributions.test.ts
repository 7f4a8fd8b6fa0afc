import { test } from 'node:test';
import assert from 'node:assert/strict';
import { betaInc, betaQuantile, logGamma, normalCdf, normalQuantile, normalSf } from './distributions.js';
import { clopperPearsonInterval, proportion, wilsonInterval } from './intervals.js';
import { fixture } from './fixtures/index.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-300, Math.abs(b));

test('normal CDF, upper tail and quantile match scipy.stats.norm to 1e-13 relative', () => {
  const f = fixture('distributions');
  for (const [z, v] of f.normalCdf) assert.ok(rel(normalCdf(z), v) < 1e-13, `cdf(${z}) = ${normalCdf(z)} vs ${v}`);
  for (const [z, v] of f.normalSf) assert.ok(rel(normalSf(z), v) < 1e-13, `sf(${z}) = ${normalSf(z)} vs ${v}`);
  for (const [p, v] of f.normalQuantile) assert.ok(Math.abs(normalQuantile(p) - v) < 1e-12 * Math.max(1, Math.abs(v)), `ppf(${p}) = ${normalQuantile(p)} vs ${v}`);
  assert.equal(normalQuantile(0), -Infinity);
  assert.throws(() => normalQuantile(1.5), /p must be in \[0, 1\]/);
});

test('log-gamma, incomplete beta and beta quantile match scipy.special / scipy.stats.beta', () => {
  const f = fixture('distributions');
  for (const [x, v] of f.logGamma) assert.ok(Math.abs(logGamma(x) - v) < 1e-12 * Math.max(1, Math.abs(v)), `lgamma(${x})`);
  for (const [a, b, x, v] of f.betaInc) assert.ok(Math.abs(betaInc(a, b, x) - v) < 1e-13, `betainc(${a}, ${b}, ${x}) = ${betaInc(a, b, x)} vs ${v}`);
  for (const [p, a, b, v] of f.betaQuantile) assert.ok(Math.abs(betaQuantile(p, a, b) - v) < 1e-12, `beta.ppf(${p}, ${a}, ${b})`);
});

test('Wilson and Clopper–Pearson intervals match the closed form and scipy to 1e-12, including x = 0 and x = n', () => {
  for (const [x, n, c, w, cp] of fixture('proportions')) {
    const W = wilsonInterval(x, n, c);
    const C = clopperPearsonInterval(x, n, c);
    assert.ok(Math.abs(W.lower - Math.max(0, w[0])) < 1e-12 && Math.abs(W.upper - Math.min(1, w[1])) < 1e-12, `wilson ${x}/${n}`);
    assert.ok(Math.abs(C.lower - cp[0]) < 1e-12 && Math.abs(C.upper - cp[1]) < 1e-12, `clopper-pearson ${x}/${n}: ${JSON.stringify(C)} vs ${cp}`);
  }
  assert.deepEqual(proportion(0, 0), { value: null, successes: 0, n: 0, wilson: null, clopperPearson: null });
  assert.throws(() => wilsonInterval(3, 2), /successes must be an integer in \[0, 2\]/);
});
