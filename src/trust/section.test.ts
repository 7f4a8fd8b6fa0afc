import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trustSection } from './section.js';
import { renderSvg } from '../report/chart.js';
import { fixture } from './fixtures/index.js';
import { clinicalMetrics } from './clinical.js';

const f = fixture('clinical');
const probs = Float64Array.from((f.score as number[]).flatMap((p) => [1 - p, p]));
const half = 100;
const rows = (a: Float64Array, lo: number, hi: number) => a.slice(2 * lo, 2 * hi);

test('trustSection on binary probabilities with a calibration split and stochastic passes fills every part, and its charts render', async () => {
  const passes = 3;
  const n = f.y.length - half;
  const ev = rows(probs, half, f.y.length);
  const samples = new Float64Array(passes * n * 2);
  for (let t = 0; t < passes; t++) for (let i = 0; i < n; i++) {
    const p = Math.min(0.999, Math.max(0.001, ev[2 * i + 1]! + 0.05 * (t - 1)));
    samples[(t * n + i) * 2] = 1 - p;
    samples[(t * n + i) * 2 + 1] = p;
  }
  const s = await trustSection({
    probs: ev,
    labels: f.y.slice(half),
    classNames: ['normal', 'pneumonia'],
    calibration: { probs: rows(probs, 0, half), labels: f.y.slice(0, half) },
    stochastic: { samples, passes, kind: 'mc-dropout' },
    groups: f.groups.slice(half),
  });
  assert.equal(s.id, 'trust');
  const ids = s.checks!.map((c) => c.id);
  for (const c of ['trust.sensitivity-specificity', 'trust.auroc', 'trust.calibrated', 'trust.recalibration', 'trust.uncertainty', 'trust.conformal', 'trust.subgroup-gap']) assert.ok(ids.includes(c), c);
  for (const c of s.checks!) assert.ok(['pass', 'warn', 'fail', 'not run', 'question'].includes(c.verdict) && c.why.length > 20);
  // The numbers in results are the statistics' own (sensitivity at 0.5 on the evaluation half).
  const m = clinicalMetrics(Array.from({ length: f.y.length - half }, (_, i) => ev[2 * i + 1]!), f.y.slice(half), { threshold: 0.5 });
  const res = s.results as any;
  assert.equal(res.discrimination.metrics.sensitivity.value, m.sensitivity.value);
  assert.ok(res.conformal.marginal.evaluation.coverage > 0.5);
  assert.equal(res.uncertainty.passes, 3);
  assert.doesNotThrow(() => JSON.stringify(s.results));
  assert.doesNotMatch(JSON.stringify(s.results), /NaN|Infinity/);
  assert.ok(s.summary.some((p) => /sensitivity \d/.test(p)) && s.summary.some((p) => /calibration error/.test(p)));
  const figs = s.figures.map((x) => x.id);
  for (const id of ['trust-roc', 'trust-pr', 'trust-reliability', 'trust-recalibration', 'trust-risk-coverage', 'trust-conformal-sizes']) assert.ok(figs.includes(id), id);
  for (const fig of s.figures) {
    const svg = await renderSvg(fig.spec!);
    assert.match(svg, /^<svg/, fig.id);
  }
  const roc = await renderSvg(s.figures.find((x) => x.id === 'trust-roc')!.spec!);
  assert.ok((roc.match(/class="mark-symbol role-mark/g) ?? []).length >= 1, 'the operating point is drawn');
});

test('trustSection with one class only reports what cannot be measured instead of failing or writing NaN', async () => {
  const s = await trustSection({ probs: rows(probs, 0, 10), labels: new Array(10).fill(0) });
  const sens = s.checks!.find((c) => c.id === 'trust.sensitivity-specificity')!;
  assert.equal(sens.verdict, 'not run');
  assert.equal((s.results as any).discrimination.auroc, null);
  assert.doesNotMatch(JSON.stringify(s.results), /NaN/);
  await assert.rejects(trustSection({ probs: [0.5], labels: [0] }), /not \[N, K\] with K ≥ 2/);
});

test('trustSection on three classes gives one-vs-rest metrics, macro AUROC and top-label calibration', async () => {
  const c = fixture('calibration').multi;
  const s = await trustSection({ probs: Float64Array.from(c.probs.flat()), labels: c.labels, logits: Float64Array.from(c.logits.flat()) });
  const res = s.results as any;
  assert.equal(res.classes, 3);
  assert.ok(res.discrimination.macroAuroc > 0.5);
  assert.ok(Math.abs(res.calibration.before.ece - c.uniform.ece) < 1e-12);
  assert.equal(s.tables[0]!.rows.length, 3);
});
