import { test } from 'node:test';
import assert from 'node:assert/strict';
import { treeShapInteractions } from './interactions.js';
import { loadXgbFixture } from './fixtures.js';
import { randomEnsemble, randomRows } from './random-trees.js';
import { bruteForcePathDependent } from './brute-force.js';
import { predictMargin } from './ensemble.js';

for (const name of ['xgb_binary_d3', 'xgb_binary_d6_missing']) {
  test(`SHAP interaction values equal XGBoost's pred_interactions (${name}) to 1e-5`, () => {
    const { model, expected } = loadXgbFixture(name);
    const rows = expected.interactions.length;
    const d = model.nFeatures;
    const X = Float64Array.from(expected.rows.slice(0, rows).flat().map((v) => (v === null ? NaN : v)));
    const s = treeShapInteractions(model, X, rows);
    let worst = 0;
    for (let r = 0; r < rows; r++)
      for (let i = 0; i <= d; i++)
        for (let j = 0; j <= d; j++) {
          const ref = expected.interactions[r]![i]![j]!;
          const mine = i === d && j === d ? s.expected : i === d || j === d ? 0 : s.values[r * d * d + i * d + j]!;
          worst = Math.max(worst, Math.abs(mine - ref));
        }
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
    console.log(`# ${name}: largest |interaction − pred_interactions| = ${worst.toExponential(2)}`);
  });
}

test('SHAP interaction values: rows sum to the SHAP values; off-diagonal symmetric; a tree on one feature has no interactions', () => {
  const e = randomEnsemble({ trees: 4, depth: 4, features: 5, seed: 12 });
  const X = randomRows(5, 5, 13);
  const s = treeShapInteractions(e, X, 5);
  const m = predictMargin(e, X, 5);
  for (let r = 0; r < 5; r++) {
    const phi = bruteForcePathDependent(e, X, r);
    let total = s.expected;
    for (let j = 0; j < 5; j++) {
      let row = 0;
      for (let i = 0; i < 5; i++) {
        row += s.values[r * 25 + j * 5 + i]!;
        assert.ok(Math.abs(s.values[r * 25 + j * 5 + i]! - s.values[r * 25 + i * 5 + j]!) < 1e-12);
      }
      assert.ok(Math.abs(row - phi[j]!) < 1e-9);
      total += row;
    }
    assert.ok(Math.abs(total - m[r]!) < 1e-9);
  }
  const one = randomEnsemble({ trees: 1, depth: 3, features: 1, seed: 1 });
  const t = treeShapInteractions({ ...one, nFeatures: 3, featureNames: ['a', 'b', 'c'] }, randomRows(2, 3, 2, 0), 2);
  for (let r = 0; r < 2; r++) for (const k of [1, 2, 3, 5, 6, 7, 8]) assert.equal(t.values[r * 9 + k], 0);
});
