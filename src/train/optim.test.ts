/**
 * Optimisers against PyTorch 1.13 (torch.optim SGD/Adam/AdamW, foreach=False): parameter trajectories
 * over 20 steps recorded by fixtures/make_fixtures.py; gradients are regenerated here from the same
 * formula (exact in float32).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Adam, AdamW, SGD, createOptimizer, normAndBias, type Optimizer, type OptimizerOptions } from './optim.js';
import { oneCycle } from './schedule.js';

interface Cfg {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, number | boolean | number[]>;
  noDecay?: boolean;
  oneCycle?: { maxLr: number; totalSteps: number };
  lrs: number[];
  momenta: number[];
  trajectory: Record<string, string>;
}
interface Fixture {
  steps: number;
  params: { name: string; size: number; exponent: number; init: string }[];
  configs: Cfg[];
}

const fx = JSON.parse(readFileSync(new URL('./fixtures/optim.json', import.meta.url), 'utf8')) as Fixture;

function f32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function initParams(): Map<string, Float32Array> {
  return new Map(fx.params.map((p) => [p.name, f32(p.init)]));
}

/** g = f32(((i*7 + t*13 + k*5) % 23 - 11) * 2^E[k] + p/4), into `out`. */
function fillGrads(params: Map<string, Float32Array>, t: number, out: Map<string, Float32Array>): void {
  fx.params.forEach((spec, k) => {
    const p = params.get(spec.name)!;
    const g = out.get(spec.name)!;
    const scale = 2 ** spec.exponent;
    for (let i = 0; i < p.length; i++) g[i] = (((i * 7 + t * 13 + k * 5) % 23) - 11) * scale + p[i]! / 4;
  });
}

function build(cfg: Cfg, params: Map<string, Float32Array>): Optimizer {
  const o = cfg.options;
  const opts = {
    type: cfg.optimizer,
    lr: o.lr as number,
    ...(o.momentum !== undefined ? { momentum: o.momentum as number } : {}),
    ...(o.dampening !== undefined ? { dampening: o.dampening as number } : {}),
    ...(o.nesterov !== undefined ? { nesterov: o.nesterov as boolean } : {}),
    ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay as number } : {}),
    ...(o.betas !== undefined ? { betas: o.betas as [number, number] } : {}),
    ...(o.eps !== undefined ? { eps: o.eps as number } : {}),
    ...(o.amsgrad !== undefined ? { amsgrad: o.amsgrad as boolean } : {}),
    ...(cfg.noDecay ? { excludeFromWeightDecay: normAndBias } : {}),
  } as OptimizerOptions;
  return createOptimizer(params, opts);
}

/** Runs `steps` steps from `from`, returning per-step snapshots; the one-cycle lr/momentum come from schedule.ts. */
function run(cfg: Cfg, opt: Optimizer, params: Map<string, Float32Array>, from: number, to: number): Map<string, Float32Array[]> {
  const grads = new Map([...params].map(([n, p]) => [n, new Float32Array(p.length)]));
  const snaps = new Map([...params.keys()].map((n) => [n, [] as Float32Array[]]));
  const sched = cfg.oneCycle ? oneCycle(cfg.oneCycle) : undefined;
  for (let t = from; t < to; t++) {
    fillGrads(params, t, grads);
    if (sched) {
      opt.setMomentum(sched.momentum(t));
      opt.step(grads, sched.lr(t));
    } else {
      opt.step(grads);
    }
    for (const [n, p] of params) snaps.get(n)!.push(p.slice());
  }
  return snaps;
}

/** Largest |a − b| / max(|b|, 1e-3) over all elements (values here are O(0.01–10)). */
function maxRel(a: Float32Array, b: Float32Array): { rel: number; differing: number } {
  let rel = 0;
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) differing++;
    rel = Math.max(rel, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-3));
  }
  return { rel, differing };
}

for (const cfg of fx.configs) {
  test(`${cfg.name}: 20-step parameter trajectory matches torch.optim.${cfg.optimizer} to float32 rounding`, (t) => {
    const params = initParams();
    const opt = build(cfg, params);
    const snaps = run(cfg, opt, params, 0, fx.steps);
    let worst = 0;
    let differing = 0;
    let total = 0;
    for (const spec of fx.params) {
      const ref = f32(cfg.trajectory[spec.name]!);
      const got = new Float32Array(fx.steps * spec.size);
      snaps.get(spec.name)!.forEach((s, k) => got.set(s, k * spec.size));
      const r = maxRel(got, ref);
      worst = Math.max(worst, r.rel);
      differing += r.differing;
      total += got.length;
    }
    t.diagnostic(`max relative error ${worst.toExponential(2)}, ${differing}/${total} values not bit-identical`);
    assert.ok(worst <= 1e-6, `max relative error ${worst}`);
  });
}

test('one-cycle runs drive lr and momentum/beta1 exactly as OneCycleLR set them in PyTorch', () => {
  for (const cfg of fx.configs.filter((c) => c.oneCycle)) {
    const s = oneCycle(cfg.oneCycle!);
    for (let t = 0; t < fx.steps; t++) {
      assert.ok(Math.abs(s.lr(t) - cfg.lrs[t]!) <= 1e-12 * cfg.lrs[t]!, `${cfg.name} lr at ${t}`);
      assert.ok(Math.abs(s.momentum(t) - cfg.momenta[t]!) <= 1e-12, `${cfg.name} momentum at ${t}`);
    }
  }
});

test('state()/loadState() resume a run bit-identically (checkpoint at step 7 into a fresh optimiser)', () => {
  for (const cfg of fx.configs) {
    const pa = initParams();
    const a = build(cfg, pa);
    run(cfg, a, pa, 0, fx.steps);

    const pb = initParams();
    const b = build(cfg, pb);
    run(cfg, b, pb, 0, 7);
    const saved = b.state();
    const savedParams = new Map([...pb].map(([n, p]) => [n, p.slice()]));
    // A fresh optimiser over fresh arrays holding the checkpointed parameter values.
    const pc = savedParams;
    const c = build(cfg, pc);
    c.loadState(saved);
    assert.equal(c.stepCount, 7);
    run(cfg, c, pc, 7, fx.steps);
    for (const [n, p] of pa) assert.deepEqual(pc.get(n), p, `${cfg.name}: ${n}`);
  }
});

test('state() is a deep copy with PyTorch slot names; loadState rejects mismatches', () => {
  const params = initParams();
  const opt = new Adam(params, { lr: 1e-2, amsgrad: true });
  const grads = new Map([...params].map(([n, p]) => [n, new Float32Array(p.length).fill(0.5)]));
  opt.step(grads);
  const s = opt.state();
  assert.deepEqual(Object.keys(s.tensors).sort(), fx.params.flatMap((p) => ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'].map((k) => `${k}:${p.name}`)).sort());
  assert.equal(s.steps['conv.weight'], 1);
  s.tensors['exp_avg:conv.weight']![0] = 123;
  assert.notEqual(opt.state().tensors['exp_avg:conv.weight']![0], 123);
  assert.throws(() => new SGD(params, { lr: 0.1 }).loadState(s), /state is of a Adam optimiser/);
  const bad = { ...s, tensors: { ...s.tensors, 'exp_avg:conv.weight': new Float32Array(3) } };
  assert.throws(() => new Adam(params, { lr: 1 }).loadState(bad), /'exp_avg:conv.weight' has 3 elements/);
  const unknown = { ...s, steps: { ...s.steps, 'head.weight': 1 } };
  assert.throws(() => new Adam(params, { lr: 1 }).loadState(unknown), /unknown parameter 'head.weight'/);
});

test('step(grads, lr) sets the rate; parameters without a gradient are skipped; bad gradients are named', () => {
  const params = new Map([['w', new Float32Array([1, 2])], ['b', new Float32Array([3])]]);
  const opt = new SGD(params, { lr: 0.5 });
  opt.step(new Map([['w', new Float32Array([1, 1])]]), 0.25);
  assert.equal(opt.lr, 0.25);
  assert.deepEqual([...params.get('w')!], [0.75, 1.75]);
  assert.deepEqual([...params.get('b')!], [3]);
  assert.throws(() => opt.step(new Map([['w', new Float32Array(3)]])), /gradient of 'w' has 3 elements, parameter has 2/);
  assert.throws(() => opt.step(new Map([['v', new Float32Array(2)]])), /unknown parameter 'v'/);
  assert.throws(() => opt.step(new Map(), -1), /lr must be a finite number/);
  // The array form of parameters and gradients.
  const arr = [{ name: 'x', data: new Float32Array([2]) }];
  const o2 = new AdamW(arr, { lr: 0.1, weightDecay: 0.5 });
  o2.step([{ name: 'x', data: new Float32Array([0]) }]);
  // Decoupled decay only (zero gradient): x·(1 − lr·wd) = 2·0.95; the Adam term is 0/(0+eps)·… = 0.
  assert.equal(arr[0]!.data[0], Math.fround(2 * Math.fround(0.95)));
});

test('weight-decay exclusion is a predicate on names; Nesterov needs momentum and no dampening', () => {
  const params = new Map([['layer1.0.conv1.weight', new Float32Array(1)], ['layer1.0.bn1.weight', new Float32Array(1)], ['fc.bias', new Float32Array(1)], ['norm.gamma', new Float32Array(1)]]);
  const opt = new AdamW(params, { lr: 1e-3, excludeFromWeightDecay: normAndBias });
  assert.deepEqual(opt.names.map((n) => opt.decays(n)), [true, false, false, false]);
  const custom = new SGD(params, { lr: 1, excludeFromWeightDecay: (n) => n.startsWith('fc.') });
  assert.deepEqual(custom.names.map((n) => custom.decays(n)), [true, true, false, true]);
  assert.throws(() => new SGD(params, { lr: 0.1, nesterov: true }), /Nesterov/);
  assert.throws(() => new SGD(params, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /Nesterov/);
  assert.throws(() => new Adam(params, { lr: 0.1, betas: [1, 0.999] }), /beta1 must be in \[0, 1\)/);
});

test('a step over a ResNet-18-sized parameter set allocates no buffers after the first and takes well under a second', () => {
  const n = 11_689_512;
  const params = new Map([['w', new Float32Array(n).fill(0.01)]]);
  const grads = new Map([['w', new Float32Array(n).fill(1e-3)]]);
  const opt = new AdamW(params, { lr: 1e-3, amsgrad: true });
  opt.step(grads); // allocates exp_avg, exp_avg_sq, max_exp_avg_sq
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  opt.step(grads);
  const ms = performance.now() - t0;
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 1 << 20, `a step allocated ${grown} bytes of array buffers`);
  assert.ok(ms < 1000, `AdamW step over ${n} parameters took ${ms.toFixed(0)} ms`);
});
