import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { auroc, splitRows, takeRows, trainTrees } from './train.js';
import { predict, predictMargin } from './ensemble.js';
import { readCsvTable } from './csv.js';
import { FIXTURES } from './fixtures.js';
import { treeShap } from './treeshap.js';
import { bruteForcePathDependent } from './brute-force.js';

const table = readCsvTable(`${FIXTURES}../../../data/breast_cancer_wisconsin.csv`, { target: 'malignant' });

test("boosted trees reproduce XGBoost's exact greedy trees (5 rounds, depth 3, λ 1, η 0.3): training margins to 1e-5", () => {
  const ref = JSON.parse(readFileSync(`${FIXTURES}xgb_exact_training_margins.json`, 'utf8')) as { margin: number[] };
  const e = trainTrees(table.X, table.y!, table.n, table.d, { kind: 'gbt', trees: 5, maxDepth: 3, eta: 0.3, lambda: 1, minChildWeight: 0.001 });
  const m = predictMargin(e, table.X, table.n);
  let worst = 0;
  for (let i = 0; i < table.n; i++) worst = Math.max(worst, Math.abs(m[i]! - ref.margin[i]!));
  assert.ok(worst < 1e-5, `largest margin difference ${worst}`);
  console.log(`# candor gbt vs xgboost exact: ${worst.toExponential(2)}`);
});

for (const kind of ['rf', 'gbt'] as const) {
  test(`${kind} on the breast-cancer table: held-out AUROC above 0.95, SHAP exact against brute force on a 4-feature model`, () => {
    const { train, test: held } = splitRows(table.y!, 0.25, 0);
    assert.equal(held.length + train.length, table.n);
    assert.equal(held.filter((i) => table.y![i] === 1).length, 53); // stratified: round(212 · 0.25)
    const Xtr = takeRows(table.X, table.d, train);
    const e = trainTrees(Xtr, Float64Array.from(train, (i) => table.y![i]!), train.length, table.d, { kind, trees: 50, seed: 1 });
    const p = predict(e, takeRows(table.X, table.d, held), held.length);
    const a = auroc(p, held.map((i) => table.y![i]!));
    assert.ok(a > 0.95, `AUROC ${a}`);
    if (kind === 'rf') assert.ok(p.every((v) => v >= 0 && v <= 1 + 1e-12), `forest output outside [0, 1]: ${p.find((v) => !(v >= 0 && v <= 1 + 1e-12))}`);
    // a small model over four features, for the exponential reference
    const cols = [0, 7, 20, 27];
    const X4 = Float64Array.from({ length: table.n * 4 }, (_, k) => table.X[Math.floor(k / 4) * table.d + cols[k % 4]!]!);
    const small = trainTrees(X4, table.y!, table.n, 4, { kind, trees: 10, maxDepth: 5, seed: 2 });
    const s = treeShap(small, X4.subarray(0, 40), 10);
    for (let r = 0; r < 10; r++) {
      const b = bruteForcePathDependent(small, X4, r);
      for (let j = 0; j < 4; j++) assert.ok(Math.abs(s.values[r * 4 + j]! - b[j]!) < 1e-9, `row ${r} feature ${j}: ${s.values[r * 4 + j]} vs ${b[j]}`);
    }
  });
}

test('auroc: known values, ties count one half', () => {
  assert.equal(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(auroc([0.5, 0.5], [0, 1]), 0.5);
});
