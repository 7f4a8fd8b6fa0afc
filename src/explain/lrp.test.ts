/**
 * LRP against a float64 layer-by-layer PyTorch implementation (fixtures/make_lrp_fixtures.py: Captum
 * LRP's layer rules on a CNN with Conv+bias, an unfolded BatchNorm, MaxPool, AvgPool, global average
 * pooling and two Gemms), the ε → 0 identity with gradient × input, and conservation on the same
 * network with every bias (and the BatchNorm shift) zeroed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Model } from '../runtime/model.js';
import { lrp } from './lrp.js';
import { inputXGradient } from './input-x-gradient.js';
import { explain } from './registry.js';
import { relMaxError } from './fixtures/tiny.js';
import { loadLrpCnn, type LrpCnnFixtures } from './fixtures/lrp-cnn.js';

const load = () => loadLrpCnn<LrpFixtures>('lrp_fixtures.json');

interface LrpFixtures extends LrpCnnFixtures {
  logits: number[];
  gradXInput: number[];
  lrp: { rule: 'epsilon' | 'gamma'; epsilon: number; gamma?: number; attributions: number[] }[];
}


/** The same network with Conv/Gemm biases, BatchNorm β and running mean set to zero. */
function biasFree(model: Model): Model {
  const g = model.ir.graph;
  const inits = new Map(g.initializers);
  for (const [name, t] of inits) {
    if (name.endsWith('.bias') || name.endsWith('.running_mean')) inits.set(name, { ...t, data: new Float32Array(t.data.length) });
  }
  return model.derive({ ...model.ir, graph: { ...g, initializers: inits } }, 'lrp_cnn (bias-free)');
}

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((p, q) => p + q, 0);

test('LRP-ε and LRP-γ equal a layer-by-layer PyTorch LRP (Captum layer rules)', async (t) => {
  const { model, fx, x } = load();
  try {
    for (const ref of fx.lrp) {
      const r = await lrp(model, x, fx.targets, { epsilon: ref.epsilon, rule: ref.rule, gamma: ref.gamma });
      const e = relMaxError(r.attributions!.data, ref.attributions);
      t.diagnostic(`${ref.rule} ε=${ref.epsilon}${ref.gamma !== undefined ? ` γ=${ref.gamma}` : ''}: rel. error ${e.toExponential(2)}`);
      assert.ok(e < 1e-5, `${ref.rule} ε=${ref.epsilon}: rel. error ${e}`);
      assert.equal(r.signed, true);
      assert.deepEqual(r.map.shape, [2, 12, 12]);
      // the map is the channel sum
      const [, c, h, w] = fx.shape;
      const m0 = Array.from({ length: h * w }, (_, p) => Array.from({ length: c }, (_, ch) => r.attributions!.data[ch * h * w + p]!).reduce((a, b) => a + b));
      assert.ok(relMaxError(r.map.data.subarray(0, h * w), m0) < 1e-6);
    }
    // ε matters: the fixtures at ε = 0.25 are far from gradient × input, and from ε = 1e-9
    const big = fx.lrp.find((f) => f.rule === 'epsilon' && f.epsilon === 0.25)!;
    assert.ok(relMaxError(big.attributions, fx.gradXInput) > 0.05);
  } finally {
    await model.dispose();
  }
});

test('LRP-0 and LRP-ε at tiny ε are gradient × input (ReLU net, biases included)', async (t) => {
  const { model, fx, x } = load();
  try {
    const gxi = await inputXGradient(model, x, fx.targets);
    const e0 = relMaxError(gxi.attributions!.data, fx.gradXInput);
    for (const epsilon of [0, 1e-9]) {
      const r = await lrp(model, x, fx.targets, { epsilon });
      const e = relMaxError(r.attributions!.data, gxi.attributions!.data);
      t.diagnostic(`ε=${epsilon}: rel. error vs candor gradient × input ${e.toExponential(2)} (gradient × input vs PyTorch ${e0.toExponential(2)})`);
      assert.ok(e < 1e-6, `ε=${epsilon}: ${e}`);
      assert.ok(relMaxError(r.attributions!.data, fx.gradXInput) < 1e-5);
    }
    // winner-take-all MaxPool is the same at tiny ε, different at large ε
    const a = await lrp(model, x, fx.targets, { epsilon: 1e-9, maxPool: 'winner' });
    assert.ok(relMaxError(a.attributions!.data, gxi.attributions!.data) < 1e-6);
    const b1 = await lrp(model, x, fx.targets, { epsilon: 0.25, maxPool: 'winner' });
    const b2 = await lrp(model, x, fx.targets, { epsilon: 0.25 });
    assert.ok(relMaxError(b1.attributions!.data, b2.attributions!.data) > 1e-3);
  } finally {
    await model.dispose();
  }
});

test('LRP conserves relevance on the bias-free network: Σ R = y_t at small ε, less at large ε', async (t) => {
  const { model, fx, x } = load();
  const free = biasFree(model);
  try {
    const gxi = await inputXGradient(free, x, fx.targets);
    for (const rule of ['epsilon', 'gamma'] as const) {
      const r = await lrp(free, x, fx.targets, { epsilon: 1e-9, rule });
      const rs = r.extra!.relevanceSum as number[];
      const y = r.extra!.targetLogit as number[];
      for (let i = 0; i < rs.length; i++) {
        const err = Math.abs(rs[i]! - y[i]!) / Math.abs(y[i]!);
        t.diagnostic(`${rule} image ${i}: Σ R = ${rs[i]!.toFixed(6)}, y_t = ${y[i]!.toFixed(6)}, rel. ${err.toExponential(2)}`);
        assert.ok(Math.abs(y[i]!) > 1e-2, 'logit too small for the check');
        assert.ok(err < 1e-4, `${rule}: Σ R ${rs[i]} vs y_t ${y[i]}`);
        assert.ok(Math.abs(sum(r.map.data.subarray(i * 144, (i + 1) * 144)) - rs[i]!) < 1e-4 * Math.abs(y[i]!));
      }
      if (rule === 'epsilon') assert.ok(relMaxError(r.attributions!.data, gxi.attributions!.data) < 1e-6);
      else assert.ok(relMaxError(r.attributions!.data, gxi.attributions!.data) > 1e-2, 'γ redistributes differently');
    }
    // ε absorbs relevance: |Σ R| shrinks as ε grows, keeping the sign
    const y = (await lrp(free, x, fx.targets, { epsilon: 0 })).extra!.targetLogit as number[];
    let prev = y.map(Math.abs);
    for (const epsilon of [0.01, 0.1, 1]) {
      const rs = (await lrp(free, x, fx.targets, { epsilon })).extra!.relevanceSum as number[];
      for (let i = 0; i < rs.length; i++) {
        assert.ok(Math.sign(rs[i]!) === Math.sign(y[i]!) && Math.abs(rs[i]!) < prev[i]!, `ε=${epsilon} image ${i}: ${rs[i]} vs ${prev[i]}`);
      }
      prev = rs.map(Math.abs);
    }
  } finally {
    await free.dispose();
    await model.dispose();
  }
});

test('lrp is registered and validates its options', async () => {
  const { model, fx, x } = load();
  try {
    const a = await explain(model, x, 'lrp', fx.targets, { epsilon: 0.01 });
    const b = await lrp(model, x, fx.targets, { epsilon: 0.01 });
    assert.equal(a.method, 'lrp');
    assert.deepEqual(a.map.data, b.map.data);
    const ref = fx.lrp.find((f) => f.rule === 'epsilon' && f.epsilon === 0.01)!;
    assert.ok(relMaxError(a.attributions!.data, ref.attributions) < 1e-5);
    await assert.rejects(lrp(model, x, 0, { epsilon: -1 }), /epsilon must be a finite number ≥ 0/);
    await assert.rejects(lrp(model, x, 0, { rule: 'alpha-beta' as never }), /unknown rule 'alpha-beta' \(valid: epsilon, gamma\)/);
    await assert.rejects(lrp(model, x, 0, { maxPool: 'avg' as never }), /unknown maxPool 'avg'/);
  } finally {
    await model.dispose();
  }
});
