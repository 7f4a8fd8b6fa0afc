import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './rng.js';

function moments(a: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / (a.length - 1)) };
}

test('the same seed gives the same sequence; different seeds differ', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xa = Array.from({ length: 100 }, () => a.next());
  const xb = Array.from({ length: 100 }, () => b.next());
  const xc = Array.from({ length: 100 }, () => c.next());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
  assert.notEqual(new Rng(-1).next(), new Rng(1).next());
  assert.notEqual(new Rng(0).next(), new Rng(1).next());
  assert.ok(xa.every((x) => x >= 0 && x < 1));
});

test('uniform values fall in range with mean and variance of U(lo, hi)', () => {
  const r = new Rng(1);
  const a = r.fillUniform(new Float32Array(200_000), -2, 3);
  assert.ok(a.every((x) => x >= -2 && x < 3));
  const m = moments(a);
  assert.ok(Math.abs(m.mean - 0.5) < 0.02, `mean ${m.mean}`);
  assert.ok(Math.abs(m.std - 5 / Math.sqrt(12)) < 0.02, `std ${m.std}`);
  const u = r.uniform(10, 11);
  assert.ok(u >= 10 && u < 11);
});

test('normal draws have the requested mean and std, and roughly normal tails', () => {
  const r = new Rng(7);
  const a = r.fillNormal(new Float32Array(200_000), 1.5, 0.5);
  const m = moments(a);
  assert.ok(Math.abs(m.mean - 1.5) < 0.01, `mean ${m.mean}`);
  assert.ok(Math.abs(m.std - 0.5) < 0.01, `std ${m.std}`);
  let beyond2 = 0;
  for (const x of a) if (Math.abs(x - 1.5) > 1.0) beyond2++;
  assert.ok(Math.abs(beyond2 / a.length - 0.0455) < 0.005, `P(|z|>2) = ${beyond2 / a.length}`);
  // Box–Muller caches its second value: two fresh generators agree draw by draw
  const p = new Rng(3), q = new Rng(3);
  for (let i = 0; i < 5; i++) assert.equal(p.normal(), q.normal());
});

test('int(n) is uniform over 0..n-1', () => {
  const r = new Rng(5);
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70_000; i++) counts[r.int(7)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `count ${c}`);
  assert.throws(() => r.int(0));
  assert.throws(() => r.int(2.5));
});

test('shuffle and permutation give permutations, deterministically', () => {
  const p = new Rng(9).permutation(1000);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(p, new Rng(9).permutation(1000));
  assert.notDeepEqual(p, new Rng(10).permutation(1000));
  const arr = ['a', 'b', 'c', 'd', 'e'];
  new Rng(0).shuffle(arr);
  assert.deepEqual([...arr].sort(), ['a', 'b', 'c', 'd', 'e']);
  // every position is reachable: first element of a 4-permutation roughly uniform
  const r = new Rng(11);
  const first = [0, 0, 0, 0];
  for (let i = 0; i < 8000; i++) first[r.permutation(4)[0]!]++;
  for (const c of first) assert.ok(Math.abs(c - 2000) < 200, `count ${c}`);
});

test('fork gives independent streams that depend on the label and seed, not on draws so far', () => {
  const r = new Rng(0);
  const f1 = r.fork('conv1.weight').next();
  r.next();
  r.normal();
  assert.equal(r.fork('conv1.weight').next(), f1);
  assert.notEqual(r.fork('conv2.weight').next(), f1);
  assert.notEqual(new Rng(1).fork('conv1.weight').next(), f1);
  assert.notEqual(r.fork('a').fork('b').next(), r.fork('b').fork('a').next());
  // a forked stream is not correlated with its parent
  const parent = new Rng(123);
  const child = parent.fork('x');
  const n = 50_000;
  let sxy = 0;
  for (let i = 0; i < n; i++) sxy += (parent.next() - 0.5) * (child.next() - 0.5);
  assert.ok(Math.abs(sxy / n / (1 / 12)) < 0.03, `corr ${sxy / n / (1 / 12)}`);
});

test('fillNormal gives the same numbers as repeated normal() calls', () => {
  const a = new Rng(4), b = new Rng(4);
  a.normal(); // leave a cached value behind
  b.normal();
  const arr = a.fillNormal(new Float64Array(7), 2, 3);
  const ref = Array.from({ length: 7 }, () => b.normal(2, 3));
  for (let i = 0; i < 7; i++) assert.ok(Math.abs(arr[i]! - ref[i]!) < 1e-12, `${i}: ${arr[i]} vs ${ref[i]}`);
  assert.equal(a.normal(), b.normal());
});
