import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shapCommand } from './shap.js';
import { readNpyFileSync } from '../io/files.js';
import { FIXTURES } from '../tabular/fixtures.js';
import { UsageError } from './args.js';
import { repoRoot } from '../testing/paths.js';

const quiet = async (f: () => Promise<void>) => {
  const log = console.log, err = console.error;
  console.log = console.error = () => {};
  try {
    await f();
  } finally {
    console.log = log;
    console.error = err;
  }
};

test("candor shap --model xgb.json: shap_values.npy equals XGBoost's pred_contribs on the bundled table, interactions written", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-shap-'));
  try {
    await quiet(() => shapCommand(['--model', `${FIXTURES}xgb_binary_d3.model.json`, '--out', dir, '--row', '12', '--interactions']));
    const vals = readNpyFileSync(join(dir, 'shap_values.npy'));
    assert.deepEqual(vals.shape, [569, 30]);
    const ref = JSON.parse(readFileSync(`${FIXTURES}xgb_binary_d3.expected.json`, 'utf8')) as { contribs: number[][] };
    let worst = 0;
    ref.contribs.forEach((row, r) => row.slice(0, 30).forEach((c, j) => (worst = Math.max(worst, Math.abs(c - (vals.data[r * 30 + j] as number))))));
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
    assert.ok(Math.abs(Number(readFileSync(join(dir, 'expected_value.txt'), 'utf8')) - ref.contribs[0]![30]!) < 1e-5);
    assert.deepEqual(readNpyFileSync(join(dir, 'shap_interactions.npy')).shape, [569, 30, 30]);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    assert.equal(results.method, 'tree-path-dependent');
    assert.equal(results.row.index, 12);
    for (const f of ['bar.svg', 'beeswarm.svg', 'waterfall.svg', 'force.svg', 'dependence.svg']) assert.match(readFileSync(join(dir, f), 'utf8'), /^<svg/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('candor shap trains its own model when given none, and never overwrites without --force', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-shap-'));
  try {
    await quiet(() => shapCommand(['--train', 'rf', '--out', dir, '--row', '3']));
    const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    assert.ok(r.metrics['held-out AUROC'] > 0.95);
    assert.equal(r.outputSpace, 'probability of malignant');
    const sum = Object.values(r.row.values as Record<string, number>).reduce((a, b) => a + b, r.expectedValue);
    assert.ok(Math.abs(sum - r.row.output) < 1e-9);
    await assert.rejects(shapCommand(['--out', dir]), (e: Error) => e instanceof UsageError && /already holds index\.html, shap_values\.npy/.test(e.message));
    await quiet(() => shapCommand(['--out', dir, '--force', '--method', 'interventional', '--background', '20']));
    assert.equal(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).method, 'tree-interventional');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('candor shap: malformed model files and bad options are clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-shap-'));
  try {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ learner: { learner_model_param: { num_feature: '30', base_score: '5E-1' }, objective: { name: 'binary:logistic' }, gradient_booster: { name: 'gbtree', model: { trees: 'oops', tree_info: [] } } } }));
    await assert.rejects(shapCommand(['--model', bad, '--out', join(dir, 'o')]), /bad\.json: 'gradient_booster\.model\.trees' must be an array/);
    await assert.rejects(shapCommand(['--out', join(dir, 'o'), '--method', 'magic']), UsageError);
    await assert.rejects(shapCommand(['--out', join(dir, 'o'), '--row', '9999']), /outside the table/);
    await assert.rejects(shapCommand(['--model', `${FIXTURES}onnx_tree_regressor.onnx`, '--method', 'tree', '--out', join(dir, 'o')]), /no node covers/);
    assert.equal(existsSync(join(dir, 'o', 'shap_values.npy')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('candor shap on a 3-class XGBoost model explains every class, matching XGBoost pred_contribs [rows, classes, features]', async () => {
  const { readFileSync, writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { readNpyFileSync } = await import('../io/files.js');
  const { shapCommand } = await import('./shap.js');
  const fix = join(repoRoot, 'src', 'tabular', 'fixtures');
  const exp = JSON.parse(readFileSync(join(fix, 'xgb_multiclass.expected.json'), 'utf8')) as { rows: number[][]; featureNames: string[]; contribs: number[][][]; margin: number[][] };
  const dir = mkdtempSync(join(tmpdir(), 'candor-shap-mc-'));
  const csv = join(dir, 'rows.csv');
  writeFileSync(csv, [exp.featureNames.join(','), ...exp.rows.map((r) => r.join(','))].join('\n') + '\n');
  const out = join(dir, 'out');
  const log = console.log;
  console.log = () => {};
  try {
    await shapCommand(['--model', join(fix, 'xgb_multiclass.model.json'), '--data', csv, '--method', 'tree', '--row', '3', '--out', out]);
  } finally {
    console.log = log;
  }
  const v = readNpyFileSync(join(out, 'shap_values.npy'));
  const [n, K, d] = v.shape as number[];
  assert.deepEqual([n, K, d], [40, 3, 29]);
  let worst = 0;
  for (let r = 0; r < n!; r++) for (let k = 0; k < K!; k++) for (let j = 0; j < d!; j++) worst = Math.max(worst, Math.abs((v.data as Float64Array)[(r * K! + k) * d! + j]! - exp.contribs[r]![k]![j]!));
  assert.ok(worst < 1e-5, `max |candor − XGBoost| = ${worst}`);
  const expected = readFileSync(join(out, 'expected_value.txt'), 'utf8').trim().split('\n').map(Number);
  expected.forEach((e, k) => assert.ok(Math.abs(e - exp.contribs[0]![k]![d!]!) < 1e-5, `class ${k} expected value`));
  const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  const margins = exp.margin[3]!;
  assert.equal(res.plottedClass, margins.indexOf(Math.max(...margins)));
  assert.equal(res.shapValuesLayout, '[rows, classes, features]');
});
