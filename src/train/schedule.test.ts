/**
 * Schedules against torch.optim.lr_scheduler (PyTorch 1.13): the lr (and OneCycleLR's momentum / beta1)
 * an optimiser held before each of ~100 steps, recorded by fixtures/make_fixtures.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { constant, cosine, oneCycle, stepDecay, warmupCosine, type Schedule, type StepDecayOptions } from './schedule.js';

interface Rec {
  kind: string;
  optimizer?: string;
  options: Record<string, any>;
  lr: number[];
  momentum?: number[];
  closedForm?: number[];
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/schedules.json', import.meta.url), 'utf8')) as { schedules: Rec[] };

/** Largest |a − b| / max(|b|, floor) over the sequence. */
function maxRel(s: Schedule, ref: number[], floor: number): number {
  let worst = 0;
  ref.forEach((v, t) => (worst = Math.max(worst, Math.abs(s(t) - v) / Math.max(Math.abs(v), floor))));
  return worst;
}

const describe = (r: Rec) => `${r.kind}${r.optimizer ? `/${r.optimizer}` : ''} ${JSON.stringify(r.options)}`;

test('cosine equals CosineAnnealingLR: its closed form to 1e-13, its recursive stepping to 1e-12 (100 steps, past T_max)', (t) => {
  for (const r of fx.schedules.filter((s) => s.kind === 'cosine')) {
    const s = cosine(r.options as { baseLr: number; tMax: number; etaMin: number });
    const closed = maxRel(s, r.closedForm!, 1e-12);
    const stepped = maxRel(s, r.lr, 1e-12);
    t.diagnostic(`${describe(r)}: closed form ${closed.toExponential(1)}, stepped ${stepped.toExponential(1)}`);
    assert.ok(closed <= 1e-13, `closed form ${closed}`);
    assert.ok(stepped <= 1e-12, `stepped ${stepped}`);
  }
});

test('oneCycle equals OneCycleLR lr and momentum/beta1 (defaults, linear, three-phase; SGD and Adam) to 1e-12', (t) => {
  for (const r of fx.schedules.filter((s) => s.kind === 'oneCycle')) {
    const oc = oneCycle(r.options as { maxLr: number; totalSteps: number });
    const lr = maxRel(oc.lr, r.lr, 1e-6 * r.options.maxLr);
    let mom = 0;
    r.momentum!.forEach((m, k) => (mom = Math.max(mom, Math.abs(oc.momentum(k) - m))));
    t.diagnostic(`${describe(r)}: lr ${lr.toExponential(1)}, momentum abs ${mom.toExponential(1)} over ${r.lr.length} steps`);
    assert.ok(lr <= 1e-12, `lr ${lr}`);
    assert.ok(mom <= 1e-12, `momentum ${mom}`);
    // Like PyTorch: step == totalSteps is allowed, one more is an error.
    assert.equal(r.lr.length, oc.totalSteps + 1);
    assert.throws(() => oc.lr(oc.totalSteps + 1), /tried to step \d+ times; the specified number of total steps is/);
  }
  const d = oneCycle({ maxLr: 0.1, totalSteps: 100 });
  assert.equal(d.initialLr, 0.1 / 25);
  assert.equal(d.minLr, 0.1 / 25 / 1e4);
  assert.equal(d.momentum(0), 0.95);
  assert.ok(Math.abs(d.momentum(29) - 0.85) < 1e-3 && Math.abs(d.lr(29) - 0.1) < 1e-3);
});

test('warmupCosine equals SequentialLR(LinearLR, CosineAnnealingLR) to 1e-12 and holds minLr after the end', (t) => {
  for (const r of fx.schedules.filter((s) => s.kind === 'warmupCosine')) {
    const s = warmupCosine(r.options as { baseLr: number; warmupSteps: number; totalSteps: number });
    const e = maxRel(s, r.lr, 1e-12);
    t.diagnostic(`${describe(r)}: ${e.toExponential(1)}`);
    assert.ok(e <= 1e-12, `${e}`);
    assert.equal(s(r.options.totalSteps), r.options.minLr);
    assert.equal(s(r.options.totalSteps + 50), r.options.minLr);
  }
  const z = warmupCosine({ baseLr: 1, warmupSteps: 4, totalSteps: 10 });
  assert.deepEqual([0, 1, 2, 3, 4].map(z), [0, 0.25, 0.5, 0.75, 1]);
  assert.throws(() => warmupCosine({ baseLr: 1, warmupSteps: 10, totalSteps: 10 }), /must be < totalSteps/);
});

test('stepDecay equals StepLR and MultiStepLR to 1e-12', (t) => {
  for (const r of fx.schedules.filter((s) => s.kind === 'stepDecay')) {
    const s = stepDecay(r.options as StepDecayOptions);
    const e = maxRel(s, r.lr, 1e-12);
    t.diagnostic(`${describe(r)}: ${e.toExponential(1)}`);
    assert.ok(e <= 1e-12, `${e}`);
  }
});

test('constant is constant; steps must be integers ≥ 0; bad options are named', () => {
  const c = constant(3e-4);
  assert.equal(c(0), 3e-4);
  assert.equal(c(123456), 3e-4);
  assert.throws(() => c(-1), /step must be an integer ≥ 0, got -1/);
  assert.throws(() => cosine({ baseLr: 0.1, tMax: 10 })(1.5), /got 1.5/);
  assert.throws(() => cosine({ baseLr: 0.1, tMax: 0 }), /tMax must be an integer ≥ 1/);
  assert.throws(() => oneCycle({ maxLr: 0.1, totalSteps: 10, pctStart: 1.5 }), /pctStart must be in \[0, 1\]/);
  assert.throws(() => stepDecay({ baseLr: 0.1, stepSize: 0 }), /stepSize must be an integer ≥ 1/);
});
