import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSvg } from '../report/chart.js';
import { barSpec, beeswarmSpec, dependenceSpec, forceSvg, meanAbs, rowContributions, waterfallSpec, type ShapMatrix } from './plots.js';
import { shapSection } from './section.js';

// a hand-made 4-feature explanation of 3 rows
const m: ShapMatrix = {
  values: Float64Array.from([0.5, -0.2, 0, 0.1, -1, 0.3, 0.05, 0, 2, -0.1, 0.2, -0.4]),
  n: 3,
  d: 4,
  expected: 0.25,
  featureNames: ['age', 'size', 'grade', 'nodes'],
  X: Float64Array.from([50, 1.2, 2, 0, 61, 3.4, NaN, 1, 45, 0.8, 3, 4]),
  outputLabel: 'log-odds',
};
const count = (svg: string, re: RegExp) => svg.match(re)?.length ?? 0;

test('bar plot: one bar per feature, ordered by mean |SHAP|', async () => {
  assert.deepEqual([...meanAbs(m)].map((v) => +v.toFixed(4)), [1.1667, 0.2, 0.0833, 0.1667]);
  const spec = barSpec(m);
  assert.deepEqual((spec.data as { values: { feature: string }[] }).values.map((r) => r.feature), ['age', 'size', 'nodes', 'grade']);
  const svg = await renderSvg(spec);
  assert.equal(count(svg, /aria-roledescription="bar"/g), 4);
  assert.match(svg, /mean \|SHAP value\| \(log-odds\)/);
});

test('waterfall: bars run from E[f(X)] to f(x), largest contribution on top', async () => {
  const parts = rowContributions(m, 1, 2);
  assert.deepEqual(parts.map((p) => p.label), ['age = 61', 'size = 3.4', '2 other features']);
  assert.ok(Math.abs(parts[2]!.value - 0.05) < 1e-15);
  const spec = waterfallSpec(m, 1, 2);
  const bars = (spec.data as { values: { start: number; end: number; label: string }[] }).values;
  assert.equal(bars[0]!.label, 'age = 61');
  // drawn bottom-up: the last bar starts at E[f(X)], the top one ends at f(x) = 0.25 − 1 + 0.3 + 0.05
  assert.equal(bars[2]!.start, 0.25);
  assert.ok(Math.abs(bars[0]!.end - -0.4) < 1e-12);
  const svg = await renderSvg(spec);
  assert.match(svg, /f\(x\) = -0\.4/);
  assert.equal(count(svg, /aria-roledescription="bar"/g), 3);
});

test('force plot: one arrow per non-zero contribution, red up to f(x), blue down to it', () => {
  const svg = forceSvg(m, 0);
  assert.equal(count(svg, /<polygon/g), 3); // grade has SHAP 0
  assert.equal(count(svg, /fill="#ff0051" stroke/g), 2);
  assert.equal(count(svg, /fill="#008bfb" stroke/g), 1);
  assert.match(svg, /f\(x\) = 0\.65/);
  assert.match(svg, /base value 0\.25/);
});

test('beeswarm and dependence: one point per row and feature; missing values left out of the dependence plot', async () => {
  const svg = await renderSvg(beeswarmSpec(m));
  assert.equal(count(svg, /aria-roledescription="circle"/g), 12);
  const pts = (beeswarmSpec(m).data as { values: unknown[] }).values;
  assert.equal(pts.length, 12);
  const dep = (dependenceSpec(m, 2).data as { values: unknown[] }).values;
  assert.equal(dep.length, 2);
  // coloured by a feature with a missing value: that point is drawn grey, not dropped
  assert.equal(count(await renderSvg(dependenceSpec(m, 0, 2)), /aria-roledescription="circle"/g), 3);
});

test('section: figures, tables, checks and results for the report; the row must exist', () => {
  const s = shapSection({ ...m, output: Float64Array.from([0.65, -0.4, 1.95]), method: 'tree-path-dependent', modelDescription: 'test model', row: 2 });
  assert.equal(s.id, 'tabular-shap');
  assert.deepEqual(s.figures.map((f) => f.id), ['shap-bar', 'shap-beeswarm', 'shap-waterfall', 'shap-force', 'shap-dependence']);
  assert.equal(s.checks![0]!.verdict, 'pass');
  assert.equal(s.checks![1]!.verdict, 'question');
  assert.deepEqual(s.results.ranking, ['age', 'size', 'nodes', 'grade']);
  assert.match(s.summary.join(' '), /For row 2 the model outputs 1\.95/);
  const broken = shapSection({ ...m, output: Float64Array.from([0.65, -0.4, 9]), method: 'x', modelDescription: 'm', row: 0 });
  assert.equal(broken.checks![0]!.verdict, 'fail');
  assert.throws(() => shapSection({ ...m, output: new Float64Array(3), method: 'x', modelDescription: 'm', row: 3 }), /row 3 is outside/);
  JSON.stringify(s.results);
});
