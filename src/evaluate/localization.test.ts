/** Localisation metrics on hand-computed examples (values worked out in the comments). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { energyPointingGame, pointingGame, relevanceMass, relevanceRank } from './localization.js';

// one 3×4 map, mask = the left 2×2 block (pixels 0, 1, 4, 5)
const map = Tensor.from([4, -1, 0, 1, 2, 3, -2, 0, 0, 0, 5, 1], [1, 3, 4]);
const mask = new Tensor(Uint8Array.from([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]), [1, 3, 4]);

test('relevance mass: positive, absolute and signed fractions inside the mask', () => {
  // positive: inside 4+0+2+3 = 9, total 4+1+2+3+5+1 = 16
  assert.deepEqual(relevanceMass(map, mask), [9 / 16]);
  // absolute: inside 4+1+2+3 = 10, total 10+1+2+5+1 = 19
  assert.deepEqual(relevanceMass(map, mask, 'absolute'), [10 / 19]);
  // signed: inside 8, total 13
  assert.deepEqual(relevanceMass(map, mask, 'signed'), [8 / 13]);
  assert.deepEqual(energyPointingGame(map, mask), [9 / 16]);
});

test('relevance rank: the |M| = 4 top pixels are 5, 4, 3, 2 → 3 inside', () => {
  assert.deepEqual(relevanceRank(map, mask), [3 / 4]);
});

test('pointing game: the maximum (5 at row 2, col 2) misses; tolerance √2 reaches the mask at (1,1)', () => {
  assert.deepEqual(pointingGame(map, mask), [0]);
  assert.deepEqual(pointingGame(map, mask, { tolerance: 1 }), [0]);
  assert.deepEqual(pointingGame(map, mask, { tolerance: 1.5 }), [1]);
  const tie = Tensor.from([5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0], [1, 3, 4]);
  assert.deepEqual(pointingGame(tie, mask), [1], 'any maximal pixel inside counts');
});

test('empty masks give NaN; shapes are checked', () => {
  const empty = new Tensor(new Uint8Array(12), [1, 3, 4]);
  assert.ok(Number.isNaN(relevanceMass(map, empty)[0]!));
  assert.ok(Number.isNaN(relevanceRank(map, empty)[0]!));
  assert.ok(Number.isNaN(pointingGame(map, empty)[0]!));
  assert.throws(() => relevanceMass(map, new Tensor(new Uint8Array(12), [1, 4, 3])), /masks are/);
});
