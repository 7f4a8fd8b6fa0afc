import { test } from 'node:test';
import assert from 'node:assert/strict';
import { treeShap } from './treeshap.js';
import { loadXgbFixture } from './fixtures.js';

for (const algorithm of ['leaf', 'recursive'] as const)
for (const name of ['xgb_binary_d3', 'xgb_binary_d6_missing', 'xgb_regression_d6']) {
  // XGBoost computes in float32: differences are measured relative to max(1, |value|) (the
  // regression's contributions are in hundreds of µm², where one float32 ulp is ~6e-5).
  test(`path-dependent TreeSHAP equals XGBoost's pred_contribs (${name}, ${algorithm}) to 1e-5`, () => {
    const { model, expected, X, n } = loadXgbFixture(name);
    const s = treeShap(model, X, n, { algorithm });
    const d = model.nFeatures;
    let worst = 0;
    for (let r = 0; r < n; r++) {
      const ref = expected.contribs[r]!;
      for (let j = 0; j < d; j++) worst = Math.max(worst, Math.abs(s.values[r * d + j]! - ref[j]!) / Math.max(1, Math.abs(ref[j]!)));
      worst = Math.max(worst, Math.abs(s.expected - ref[d]!) / Math.max(1, Math.abs(ref[d]!)));
      assert.ok(Math.abs(s.output[r]! - expected.margin[r]!) / Math.max(1, Math.abs(expected.margin[r]!)) < 1e-6, `row ${r} margin`);
    }
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
    console.log(`# ${name} ${algorithm}: largest |TreeSHAP − pred_contribs| / max(1, |ref|) = ${worst.toExponential(2)}`);
  });
}
