import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { parseOnnxTrees } from './onnx-trees.js';
import { coversFromData, predict, predictMargin } from './ensemble.js';
import { interventionalTreeShap } from './interventional.js';
import { treeShap } from './treeshap.js';
import { bruteForceInterventional } from './brute-force.js';
import { FIXTURES } from './fixtures.js';
import { readCsvTable } from './csv.js';

const table = readCsvTable(`${FIXTURES}../../../data/breast_cancer_wisconsin.csv`, { target: 'malignant' });
const d = 30;
// 80 patients, with NaNs and exact-threshold values mixed in to exercise the missing-value tracks and ties
const n = 80;
const X = table.X.slice(0, n * d);
for (let r = 0; r < n; r += 7) X[r * d + (r % 2 ? 0 : 27)] = NaN;
X[3 * d] = 15; // mean radius exactly on tree 0's threshold
X[5 * d + 27] = 0.11; // worst concave points on tree 1's threshold

async function ortRun(file: string, output: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(readFileSync(file));
  const r = await s.run({ X: new ort.Tensor('float32', Float32Array.from(X), [n, d]) });
  return r[output]!.data as Float32Array;
}

test('ONNX-ML TreeEnsembleRegressor: margins equal onnxruntime on 80 rows with NaNs and ties', async () => {
  const e = parseOnnxTrees(readFileSync(`${FIXTURES}onnx_tree_regressor.onnx`), { source: 'reg.onnx' });
  assert.equal(e.trees.length, 2);
  const ref = await ortRun(`${FIXTURES}onnx_tree_regressor.onnx`, 'Y');
  const m = predictMargin(e, X, n);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(m[i]! - ref[i]!) < 1e-6, `row ${i}: ${m[i]} vs ${ref[i]}`);
});

test('ONNX-ML TreeEnsembleClassifier (binary, LOGISTIC): probabilities equal onnxruntime', async () => {
  const e = parseOnnxTrees(readFileSync(`${FIXTURES}onnx_tree_classifier.onnx`));
  assert.equal(e.link, 'logistic');
  const ref = await ortRun(`${FIXTURES}onnx_tree_classifier.onnx`, 'probabilities');
  const p = predict(e, X, n);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(p[i]! - ref[2 * i + 1]!) < 1e-6, `row ${i}: ${p[i]} vs ${ref[2 * i + 1]}`);
});

test('ONNX-ML trees: no covers, so interventional SHAP (checked by brute force) or covers counted from data', () => {
  const e = parseOnnxTrees(readFileSync(`${FIXTURES}onnx_tree_regressor.onnx`));
  assert.throws(() => treeShap(e, X, n), /no node covers/);
  const bg = X.slice(40 * d, 50 * d);
  const s = interventionalTreeShap(e, X.subarray(0, 5 * d), 5, bg, 10);
  // only features 0 and 27 are used: brute force over a 2-feature projection is exact
  for (let r = 0; r < 5; r++) {
    const small = { ...e, nFeatures: 2, trees: e.trees.map((t) => ({ ...t, feature: t.feature.map((f) => (f === 27 ? 1 : f)) })) };
    const pick = (A: Float64Array, rows: number) => Float64Array.from({ length: rows * 2 }, (_, k) => A[Math.floor(k / 2) * d + (k % 2 ? 27 : 0)]!);
    const b = bruteForceInterventional(small, pick(X.subarray(r * d, (r + 1) * d), 1), 0, pick(bg, 10), 10);
    assert.ok(Math.abs(s.values[r * d]! - b[0]!) < 1e-9 && Math.abs(s.values[r * d + 27]! - b[1]!) < 1e-9);
  }
  const withC = coversFromData(e, table.X, table.n);
  assert.equal(withC.trees[0]!.cover![0], table.n);
  treeShap(withC, X, n); // local accuracy is checked inside
});

test('ONNX-ML trees: models without a tree ensemble are a clear error', () => {
  const other = readFileSync(`${FIXTURES}../../../models/reference/small_cnn_opset13.onnx`);
  assert.throws(() => parseOnnxTrees(other, { source: 'cnn.onnx' }), /cnn\.onnx: no TreeEnsembleClassifier or TreeEnsembleRegressor node/);
});
