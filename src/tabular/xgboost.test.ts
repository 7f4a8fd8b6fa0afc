import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseXgboostJson } from './xgboost.js';
import { predict, predictMargin } from './ensemble.js';
import { FIXTURES, loadXgbFixture } from './fixtures.js';

const NAMES = ['xgb_binary_d3', 'xgb_binary_d6_missing', 'xgb_regression_d6'];

for (const name of NAMES) {
  test(`XGBoost JSON ${name}: margins and predictions equal XGBoost's own`, () => {
    const { model, expected, X, n } = loadXgbFixture(name);
    const m = predictMargin(model, X, n);
    const p = predict(model, X, n);
    for (let i = 0; i < n; i++) {
      const scale = Math.max(1, Math.abs(expected.margin[i]!));
      assert.ok(Math.abs(m[i]! - expected.margin[i]!) / scale < 1e-5, `row ${i}: margin ${m[i]} vs ${expected.margin[i]}`);
      assert.ok(Math.abs(p[i]! - expected.prediction[i]!) / Math.max(1, Math.abs(expected.prediction[i]!)) < 1e-5, `row ${i}: prediction`);
    }
  });
}

test('XGBoost JSON: feature names, link and base margin come from the file', () => {
  const { model } = loadXgbFixture('xgb_binary_d3');
  assert.equal(model.featureNames[0], 'mean_radius');
  assert.equal(model.link, 'logistic');
  assert.equal(model.base, 0); // logit(0.5)
  assert.equal(model.trees.length, 20);
  const reg = loadXgbFixture('xgb_regression_d6').model;
  assert.equal(reg.link, 'identity');
  assert.equal(reg.base, 500);
});

test('XGBoost JSON: malformed files are errors naming the field', () => {
  const text = readFileSync(`${FIXTURES}xgb_binary_d3.model.json`, 'utf8');
  const src = { source: 'm.json' };
  assert.throws(() => parseXgboostJson('{"learner": 3}', src), /m\.json: 'learner' must be an object/);
  assert.throws(() => parseXgboostJson('not json', src), /m\.json: not JSON/);
  const j = JSON.parse(text);
  j.learner.gradient_booster.model.trees[2].split_indices[0] = 99;
  assert.throws(() => parseXgboostJson(JSON.stringify(j), src), /m\.json: trees\[2\]: node 0 splits on feature 99/);
  const k = JSON.parse(text);
  delete k.learner.gradient_booster.model.trees[1].sum_hessian;
  assert.throws(() => parseXgboostJson(JSON.stringify(k), src), /trees\[1\]\.sum_hessian' must be an array/);
  const l = JSON.parse(text);
  l.learner.gradient_booster.model.trees[0].left_children[0] = 1000;
  assert.throws(() => parseXgboostJson(JSON.stringify(l), src), /trees\[0\]: node 0 has a child index out of range/);
  const o = JSON.parse(text);
  o.learner.objective.name = 'survival:aft';
  assert.throws(() => parseXgboostJson(JSON.stringify(o), src), /objective 'survival:aft' is not supported/);
});
