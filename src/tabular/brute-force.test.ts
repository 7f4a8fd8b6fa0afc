import { test } from 'node:test';
import assert from 'node:assert/strict';
import { treeShap } from './treeshap.js';
import { interventionalTreeShap } from './interventional.js';
import { bruteForceInterventional, bruteForcePathDependent, shapleyFromGame } from './brute-force.js';
import { randomEnsemble, randomRows } from './random-trees.js';
import { predict } from './ensemble.js';

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('shapleyFromGame: a game with one interaction splits it evenly and keeps additive parts', () => {
  // v(S) = 2·[0∈S] + 3·[1∈S]·[2∈S]: φ = (2, 1.5, 1.5, 0)
  const phi = shapleyFromGame((m) => 2 * (m & 1) + 3 * (m & 2 && m & 4 ? 1 : 0), 4);
  assert.deepEqual([...phi], [2, 1.5, 1.5, 0]);
});

for (const [le, algorithm] of [[false, 'leaf'], [true, 'leaf'], [false, 'recursive'], [true, 'recursive']] as const) {
  test(`path-dependent TreeSHAP (${algorithm}) equals brute-force Shapley values of the cover-weighted game (${le ? '<=' : '<'} splits, NaNs, repeated features) to 1e-9`, () => {
    const e = randomEnsemble({ trees: 6, depth: 5, features: 6, seed: 3, le });
    const X = randomRows(25, 6, 4);
    const s = treeShap(e, X, 25, { algorithm });
    let worst = 0;
    for (let r = 0; r < 25; r++) worst = Math.max(worst, maxDiff(s.values.subarray(r * 6, r * 6 + 6), bruteForcePathDependent(e, X, r)));
    assert.ok(worst < 1e-9, `largest difference ${worst}`);
    console.log(`# path-dependent vs brute force: ${worst.toExponential(2)}`);
  });
}

test('interventional TreeSHAP equals brute-force Shapley values of the background-averaged game to 1e-9', () => {
  const e = randomEnsemble({ trees: 5, depth: 6, features: 7, seed: 5 });
  const X = randomRows(12, 7, 6);
  const B = randomRows(9, 7, 7);
  const s = interventionalTreeShap(e, X, 12, B, 9);
  let worst = 0;
  for (let r = 0; r < 12; r++) worst = Math.max(worst, maxDiff(s.values.subarray(r * 7, r * 7 + 7), bruteForceInterventional(e, X, r, B, 9)));
  assert.ok(worst < 1e-9, `largest difference ${worst}`);
  console.log(`# interventional vs brute force: ${worst.toExponential(2)}`);
});

test('interventional TreeSHAP in probability space: local accuracy, E = σ(f(z)), close to the brute-force values of the probability game', () => {
  const e = randomEnsemble({ trees: 4, depth: 4, features: 5, seed: 8 });
  const X = randomRows(6, 5, 9);
  const B = randomRows(1, 5, 10, 0);
  const s = interventionalTreeShap(e, X, 6, B, 1, { space: 'probability' });
  assert.equal(s.space, 'probability');
  // with one reference the margin game is rescaled linearly — exactly shap's rule; the expected value is σ(f(z))
  assert.ok(Math.abs(s.expected - predict(e, B, 1)[0]!) < 1e-12);
  const many = randomRows(20, 5, 11);
  const s2 = interventionalTreeShap(e, X, 6, many, 20, { space: 'probability' });
  const p = predict(e, X, 6);
  for (let r = 0; r < 6; r++) {
    let sum = s2.expected;
    for (let j = 0; j < 5; j++) sum += s2.values[r * 5 + j]!;
    assert.ok(Math.abs(sum - p[r]!) < 1e-12);
  }
  // the rescaled values approximate the probability-game Shapley values closely on this model
  const exact = bruteForceInterventional(e, X, 0, many, 20, true);
  assert.ok(maxDiff(s2.values.subarray(0, 5), exact) < 0.05);
});

test('TreeSHAP refuses models without covers and rows of the wrong width', () => {
  const e = randomEnsemble({ trees: 2, depth: 3, features: 4 });
  const bare = { ...e, trees: e.trees.map((t) => ({ ...t, cover: null })) };
  assert.throws(() => treeShap(bare, randomRows(1, 4), 1), /no node covers/);
  assert.throws(() => treeShap(e, new Float64Array(5), 1), /expected 1 rows of 4 features/);
});
