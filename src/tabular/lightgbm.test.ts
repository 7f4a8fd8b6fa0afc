import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseLightgbmText } from './lightgbm.js';
import { predict, predictMargin } from './ensemble.js';
import { treeShap } from './treeshap.js';
import { bruteForcePathDependent } from './brute-force.js';
import { FIXTURES } from './fixtures.js';

const TEXT = readFileSync(`${FIXTURES}lightgbm_small.txt`, 'utf8');
// rows (a, b, c) and margins worked out by hand from the file:
//  tree 0: a <= 5 (NaN → left) ? (b <= 2.5, 0 or NaN → right ? −0.3 : 0.1) : 0.4
//  tree 1: c <= 0 (NaN read as 0) ? −0.2 : 0.25;  tree 2: 0.05
const ROWS = [
  [3, 1, -1, -0.3 - 0.2 + 0.05],
  [NaN, 0, NaN, 0.1 - 0.2 + 0.05],
  [7, 9, 0.5, 0.4 + 0.25 + 0.05],
  [5, 2.5, 0, -0.3 - 0.2 + 0.05],
  [4, 1e-40, 1e-40, 0.1 + 0.25 + 0.05], // |b| ≤ 1e-35 counts as zero (missing), c is compared as it is
];

test('LightGBM text: margins and probabilities match the hand-computed values (<=, NaN, Zero and None missing types)', () => {
  const e = parseLightgbmText(TEXT, { source: 'small.txt' });
  assert.equal(e.trees.length, 3);
  assert.deepEqual(e.featureNames, ['a', 'b', 'c']);
  assert.equal(e.link, 'logistic');
  const X = Float64Array.from(ROWS.flatMap((r) => r.slice(0, 3)));
  const m = predictMargin(e, X, ROWS.length);
  ROWS.forEach((r, i) => assert.ok(Math.abs(m[i]! - r[3]!) < 1e-15, `row ${i}: ${m[i]} vs ${r[3]}`));
  const p = predict(e, X, ROWS.length);
  assert.ok(Math.abs(p[2]! - 1 / (1 + Math.exp(-0.7))) < 1e-15);
});

test('LightGBM text: TreeSHAP from leaf/internal counts equals brute-force Shapley values and a hand value', () => {
  const e = parseLightgbmText(TEXT);
  const X = Float64Array.from(ROWS.flatMap((r) => r.slice(0, 3)));
  const s = treeShap(e, X, ROWS.length);
  for (let r = 0; r < ROWS.length; r++) {
    const b = bruteForcePathDependent(e, X, r);
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(s.values[r * 3 + j]! - b[j]!) < 1e-12);
  }
  // tree 1 alone: E = 0.6·(−0.2) + 0.4·0.25 = −0.02; row 0 goes left: φ_c = −0.2 − (−0.02) = −0.18 from that tree
  // expected value: tree 0 = 0.3·0.4 + 0.5·(−0.3) + 0.2·0.1 = −0.01; total −0.01 − 0.02 + 0.05
  assert.ok(Math.abs(s.expected - 0.02) < 1e-15);
  assert.ok(Math.abs(s.values[2]! - -0.18) < 1e-15);
});

test('LightGBM text: malformed files are errors naming the tree and field', () => {
  assert.throws(() => parseLightgbmText('hello', { source: 'x.txt' }), /x\.txt: not a LightGBM text model/);
  assert.throws(() => parseLightgbmText(TEXT.replace('threshold=5.0000000000000009 2.5', 'threshold=5'), { source: 'x.txt' }), /x\.txt: Tree=0: 'threshold' has 1 values, expected 2/);
  assert.throws(() => parseLightgbmText(TEXT.replace('left_child=1 -2', 'left_child=1 -7')), /Tree=0: 'left_child\[1\]' = -7 points outside the tree/);
  assert.throws(() => parseLightgbmText(TEXT.replace('decision_type=10 4', 'decision_type=11 4')), /Tree=0: decision_type\[0\] is categorical/);
  assert.throws(() => parseLightgbmText(TEXT.replace('split_feature=0 1', 'split_feature=0 9')), /Tree=0: node 1 splits on feature 9/);
  assert.throws(() => parseLightgbmText(TEXT.replace('objective=binary sigmoid:1', 'objective=weird')), /objective 'weird' is not supported/);
});
