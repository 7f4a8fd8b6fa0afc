import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseModel } from '../onnx/proto.js';
import { resnet18 } from '../train/arch/index.js';
import { cascadingSteps, parameterGroups, randomizeGroups } from './randomize.js';

const BASELINE = new URL('../../models/baseline/small_cnn_pneumoniamnist64.onnx', import.meta.url);

function stats(a: ArrayLike<number>): { min: number; max: number; mean: number } {
  let min = Infinity, max = -Infinity, s = 0;
  for (let i = 0; i < a.length; i++) {
    min = Math.min(min, a[i]!);
    max = Math.max(max, a[i]!);
    s += a[i]!;
  }
  return { min, max, mean: s / a.length };
}

test('parameterGroups lists the bundled small CNN layer by layer, input side first, every weight once', () => {
  const ir = parseModel(readFileSync(BASELINE));
  const groups = parameterGroups(ir);
  const inits = groups.flatMap((g) => g.initializers);
  assert.equal(new Set(inits).size, inits.length, 'no initializer in two groups');
  assert.ok(groups.length >= 4, `expected one group per conv/linear layer, got ${groups.map((g) => g.name)}`);
  const first = groups[0]!.initializers[0]!;
  const last = groups[groups.length - 1]!.initializers;
  // The first group reads the image (1 input channel); the last produces the 2 logits.
  assert.equal(ir.graph.initializers.get(first)!.dims[1], 1);
  assert.ok(last.some((n) => ir.graph.initializers.get(n)!.dims.includes(2)), `last group ${last} should be the classifier`);
});

test('parameterGroups merges ResNet-18 blocks by module path to stay within maxGroups', () => {
  const ir = resnet18({ numClasses: 2, inChannels: 1 });
  const groups = parameterGroups(ir, { maxGroups: 12 });
  assert.deepEqual(groups.map((g) => g.name), ['conv1', 'bn1', 'layer1.0', 'layer1.1', 'layer2.0', 'layer2.1', 'layer3.0', 'layer3.1', 'layer4.0', 'layer4.1', 'fc']);
  const coarse = parameterGroups(ir, { maxGroups: 7 });
  assert.deepEqual(coarse.map((g) => g.name), ['conv1', 'bn1', 'layer1', 'layer2', 'layer3', 'layer4', 'fc']);
  const all = new Set([...ir.graph.initializers.keys()].filter((n) => !n.endsWith('num_batches_tracked')));
  assert.equal(coarse.flatMap((g) => g.initializers).length, groups.flatMap((g) => g.initializers).length);
  assert.ok(coarse.flatMap((g) => g.initializers).every((n) => all.has(n)));
});

test('randomizeGroups redraws only the chosen groups, with torch default bounds, leaving the input model untouched', () => {
  const ir = parseModel(readFileSync(BASELINE));
  const groups = parameterGroups(ir);
  const top = groups[groups.length - 1]!;
  const before = new Map([...ir.graph.initializers].map(([k, v]) => [k, Float32Array.from(v.data as Float32Array)]));
  const r = randomizeGroups(ir, [top], 7);
  for (const [name, t] of ir.graph.initializers) assert.deepEqual(t.data, before.get(name), `${name} of the original changed`);
  for (const [name, t] of r.graph.initializers) {
    const changed = !(t.data as Float32Array).every((v, i) => v === before.get(name)![i]);
    assert.equal(changed, top.initializers.includes(name), `${name}: changed=${changed}`);
  }
  const w = r.graph.initializers.get(top.initializers[0]!)!;
  const fanIn = w.dims.slice(1).reduce((a, b) => a * b, 1);
  const s = stats(w.data as Float32Array);
  const b = 1 / Math.sqrt(fanIn);
  assert.ok(s.min >= -b && s.max <= b && s.max > 0.8 * b && s.min < -0.8 * b, `weights in ±${b}: ${JSON.stringify(s)}`);
});

test('randomizeGroups draws the same values for a group whatever else is randomized (cascading steps share draws)', () => {
  const ir = parseModel(readFileSync(BASELINE));
  const steps = cascadingSteps(parameterGroups(ir));
  assert.equal(steps[0]!.length, 1);
  assert.equal(steps[steps.length - 1]!.length, parameterGroups(ir).length);
  const a = randomizeGroups(ir, steps[0]!, 3);
  const b = randomizeGroups(ir, steps[2]!, 3);
  const name = steps[0]![0]!.initializers[0]!;
  assert.deepEqual(a.graph.initializers.get(name)!.data, b.graph.initializers.get(name)!.data);
  const c = randomizeGroups(ir, steps[0]!, 4);
  assert.notDeepEqual(a.graph.initializers.get(name)!.data, c.graph.initializers.get(name)!.data);
});

test('randomizing batch norm resets it to the torch defaults (scale 1, shift 0, mean 0, var 1)', () => {
  const ir = resnet18({ numClasses: 2, inChannels: 1, seed: 1 });
  const bn = parameterGroups(ir).find((g) => g.name === 'bn1')!;
  const r = randomizeGroups(ir, [bn], 0);
  const vals = bn.initializers.map((n) => stats(r.graph.initializers.get(n)!.data as Float32Array));
  assert.deepEqual(vals.map((s) => [s.min, s.max]), [[1, 1], [0, 0], [0, 0], [1, 1]]);
});
