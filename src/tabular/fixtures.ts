/** Test helpers: the recorded XGBoost fixtures (see fixtures/make_fixtures.py). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseXgboostJson } from './xgboost.js';
import type { TreeEnsemble } from './ensemble.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface XgbExpected {
  rows: (number | null)[][];
  margin: number[];
  prediction: number[];
  contribs: number[][];
  interactions: number[][][];
}

export function loadXgbFixture(name: string): { model: TreeEnsemble; expected: XgbExpected; X: Float64Array; n: number } {
  const model = parseXgboostJson(readFileSync(`${FIXTURES}${name}.model.json`, 'utf8'), { source: `${name}.model.json` });
  const expected = JSON.parse(readFileSync(`${FIXTURES}${name}.expected.json`, 'utf8')) as XgbExpected;
  const X = Float64Array.from(expected.rows.flat().map((v) => (v === null ? NaN : v)));
  return { model, expected, X, n: expected.rows.length };
}
