/**
 * Incremental inference (plan.ts, graph.ts, run.ts): the boxes a plan computes follow the receptive-field
 * rule worked by hand; the gather indices point where they should; and occlusion and grid feature
 * ablation computed incrementally equal the direct computation (every perturbed image through the whole
 * model) on every model of the zoo (real PyTorch/Keras exports, 2-D and 3-D) and on the 3-D ResNet
 * fixture — or say why they computed directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpzFileSync } from '../../io/files.js';
import { loadModel, nodeOrt } from '../../runtime/node.js';
import { Model } from '../../runtime/model.js';
import { buildArchitecture } from '../../train/arch/index.js';
import { repoRoot } from '../../testing/paths.js';
import { Tensor } from '../../tensor/tensor.js';
import { Rng } from '../../tensor/rng.js';
import { DataType, type Graph } from '../../onnx/ir.js';
import type { Attribution } from '../types.js';
import { occlusion } from '../occlusion.js';
import { featureAblation } from '../feature-ablation.js';
import { planIncremental, type GatherStep } from './plan.js';
import { gatherIndices } from './graph.js';

const ZOO = join(repoRoot, 'src/autodiff/fixtures/zoo');

/** The maps agree to float32 rounding: within 1e-5 of the map's scale, or of the logits' when the map is rounding noise itself. */
function assertSameMaps(a: Attribution, b: Attribution, what: string): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.map.data.length; i++) {
    err = Math.max(err, Math.abs(a.map.data[i]! - b.map.data[i]!));
    scale = Math.max(scale, Math.abs(b.map.data[i]!));
  }
  const logitScale = Math.max(...Array.from(b.logits.data, Math.abs));
  const ref = scale < 1e-4 * logitScale ? logitScale : scale;
  assert.ok(err <= 1e-5 * ref, `${what}: incremental and direct maps differ by ${err} (scale ${ref})`);
  return err / ref;
}

test('a plan grows the box by the receptive-field rule: Conv k3 s2 p1, then MaxPool k2 s2, on a 16-wide row', () => {
  const graph: Graph = {
    name: 'g',
    nodes: [
      { opType: 'Conv', domain: '', name: 'c', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: { type: 'ints', value: [1, 3] }, strides: { type: 'ints', value: [1, 2] }, pads: { type: 'ints', value: [0, 1, 0, 1] } } },
      { opType: 'MaxPool', domain: '', name: 'p', inputs: ['y'], outputs: ['z'], attrs: { kernel_shape: { type: 'ints', value: [1, 2] }, strides: { type: 'ints', value: [1, 2] } } },
      { opType: 'GlobalAveragePool', domain: '', name: 'g', inputs: ['z'], outputs: ['out'], attrs: {} },
    ],
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 1, 1, 16] }],
    outputs: [{ name: 'out', elemType: DataType.FLOAT, shape: ['batch', 2, 1, 1] }],
    initializers: new Map([['w', { name: 'w', dataType: DataType.FLOAT, dims: [2, 1, 1, 3], data: new Float32Array(6) }]]),
    valueInfo: new Map(),
  };
  const shapes: Record<string, number[]> = { x: [1, 1, 1, 16], w: [2, 1, 1, 3], y: [1, 2, 1, 8], z: [1, 2, 1, 4], out: [1, 2, 1, 1] };
  // two patches: columns [6, 10) and [12, 16)
  const plan = planIncremental({ graph, nodes: graph.nodes, shape: (t) => shapes[t] ?? null, input: 'x', channels: 1, spatial: [1, 16], window: [1, 4], origins: Int32Array.from([0, 6, 0, 12]) });
  const gathers = plan.steps.filter((s): s is GatherStep => s.kind === 'gather');
  // Conv outputs that read [6,10): o with 2o−1 ≤ 9 and 2o+1 ≥ 6 → o ∈ [3, 5] (3 wide); for [12,16): o ∈ [6, 7], 2 wide,
  // so the box is 3 wide and the second patch's is clamped to [5, 8); the input windows start at 2o − 1 and are 2·2 + 3 = 7 wide.
  assert.deepEqual(gathers[0]!.size, [1, 7]);
  assert.deepEqual(Array.from(gathers[0]!.origins), [0, 5, 0, 9]);
  assert.deepEqual(plan.boxes.get('x')!.size, [1, 4]);
  // MaxPool outputs that read Conv box [3,6): q ∈ [1, 2]; box [5,8): q ∈ [2, 3] → 2 wide, windows at 2q, 4 wide, padded with −∞
  assert.deepEqual(gathers[1]!.size, [1, 4]);
  assert.deepEqual(Array.from(gathers[1]!.origins), [0, 2, 0, 4]);
  assert.equal(gathers[1]!.pad, -Infinity);
  assert.deepEqual(Array.from(plan.boxes.get('y')!.origins), [0, 3, 0, 5]);
  // GlobalAveragePool is not local: the pooled box is gathered to the whole tensor there
  assert.deepEqual(gathers[2]!.size, [1, 4]);
  assert.match(plan.stoppedAt ?? '', /GlobalAveragePool/);
  // multiply-adds: the Conv computes 3 of its 8 outputs
  assert.equal(plan.fullMacs, 2 * 8 * 3);
  assert.equal(plan.macs, 2 * 3 * 3);
});

test('gather indices read the box rows inside the box, the unperturbed rows outside it and the padding row off the edge', () => {
  // a 4×4 tensor, box 2×2 at (1,1) for patch 0 and at (2,2) for patch 1; window 3×3 at (−1,0) and (1,1)
  const source = { full: [4, 4], channels: 1, size: [2, 2], origins: Int32Array.from([1, 1, 2, 2]) };
  const step: GatherStep = { kind: 'gather', out: 'o', source: 's', local: 'l', pad: 0, size: [3, 3], origins: Int32Array.from([-1, 0, 1, 1]) };
  const idx = Array.from(gatherIndices(step, source, 0, 2));
  const P = 16;
  const pad = P + 2 * 4;
  // patch 0: row −1 is padding; row 0: (0,0),(0,1),(0,2) unperturbed; row 1: (1,0) unperturbed, (1,1),(1,2) box rows 0,1
  assert.deepEqual(idx.slice(0, 9), [pad, pad, pad, 0, 1, 2, 4, P + 0, P + 1]);
  // patch 1 (box rows from P + 4): (1,1),(1,2),(1,3) unperturbed; (2,1) unperturbed, (2,2),(2,3) box; (3,1), (3,2),(3,3) box
  assert.deepEqual(idx.slice(9), [5, 6, 7, 9, P + 4, P + 5, 13, P + 6, P + 7]);
});

const index = JSON.parse(readFileSync(join(ZOO, 'zoo.json'), 'utf8')) as Record<string, { file: string }>;
test('occlusion computed incrementally equals direct occlusion on every model of the zoo, or says why it ran directly', async () => {
  const used: string[] = [];
  const direct: string[] = [];
  for (const [name, e] of Object.entries(index)) {
    const model = loadModel(join(ZOO, e.file));
    let x = readNpzFileSync(join(ZOO, `${name}.npz`)).get('input') as Tensor;
    x = new Tensor(Float32Array.from(x.data as Float32Array).subarray(0, (2 * x.data.length) / x.shape[0]!), [2, ...x.shape.slice(1)]);
    if (name.startsWith('keras')) x = new Tensor(x.data, [2, x.shape[3]!, x.shape[1]!, x.shape[2]!]);
    const spatial = x.shape.slice(2);
    const window = spatial.map((l) => Math.min(8, l));
    const strides = spatial.map((l) => Math.min(4, l));
    const inc = await occlusion(model, x, 'pred', { window, strides, incremental: true, batchSize: 7 });
    const dir = await occlusion(model, x, 'pred', { window, strides, incremental: false });
    const how = String(inc.extra!.passes);
    assert.match(String(dir.extra!.passes), /^direct \(not asked for\)$/);
    if (how.startsWith('incremental')) {
      assertSameMaps(inc, dir, name);
      used.push(name);
    } else {
      assert.match(how, /^direct \(incremental inference would save 0 % of the arithmetic \(whole tensors from \w+ node/, name);
      direct.push(name);
    }
  }
  // every convolutional export saves some arithmetic; the Keras export's first op is its layout Transpose
  assert.deepEqual(direct, ['keras_nhwc']);
  assert.ok(used.includes('resnet50') && used.includes('densenet') && used.includes('res3d') && used.includes('vit'), used.join(', '));
});

test('3-D ResNet: occlusion and grid feature ablation (cells that do not divide the volume) computed incrementally equal the direct ones', async () => {
  const model = loadModel(join(repoRoot, 'src/explain/fixtures/r3d_small.onnx'));
  const rng = new Rng(5);
  const c = model.inputShape[1] as number;
  const x = new Tensor(Float32Array.from({ length: 2 * c * 16 * 32 * 32 }, () => rng.normal()), [2, c, 16, 32, 32]);
  const opts = { window: [4, 8, 8], strides: [4, 8, 8] };
  const inc = await occlusion(model, x, 'pred', { ...opts, incremental: true });
  const dir = await occlusion(model, x, 'pred', { ...opts, incremental: false });
  assert.match(String(inc.extra!.passes), /^incremental \(\d+ % of a forward pass/);
  assertSameMaps(inc, dir, 'occlusion');
  const fa = await featureAblation(model, x, 'pred', { cell: [5, 10, 10], incremental: true });
  const fd = await featureAblation(model, x, 'pred', { cell: [5, 10, 10], incremental: false });
  assert.match(String(fa.extra!.passes), /^incremental/);
  assert.deepEqual(fa.extra!.features, [4 * 4 * 4, 4 * 4 * 4]);
  assertSameMaps(fa, fd, 'feature ablation');
  // 'auto' on this narrow model (widths 8–64): moving the gathered values would cost more than the saving, said
  const auto = await occlusion(model, x, 'pred', opts);
  assert.match(String(auto.extra!.passes), /^direct \(incremental inference would save only \d+ multiply-adds per value it gathers/);
});

test("'auto' runs a candor-built ResNet-18's occlusion (3×64², BatchNorm nodes unfolded) incrementally, equal to the direct map", async () => {
  const model = Model.fromIR(buildArchitecture('resnet18', { inChannels: 3, numClasses: 2, inputSize: 64, seed: 1 }), nodeOrt, { source: 'resnet18' });
  const rng = new Rng(9);
  const x = new Tensor(Float32Array.from({ length: 3 * 3 * 64 * 64 }, () => rng.uniform(-1, 1)), [3, 3, 64, 64]);
  const progress: number[] = [];
  const auto = await occlusion(model, x, 'pred', { window: 8, strides: 4, onProgress: (d) => progress.push(d) });
  assert.match(String(auto.extra!.passes), /^incremental \(7\d % of a forward pass's multiply-adds per perturbed image; whole tensors from GlobalAveragePool/);
  assert.equal(progress.at(-1), 3 * 225);
  const dir = await occlusion(model, x, 'pred', { window: 8, strides: 4, incremental: false });
  assertSameMaps(auto, dir, 'resnet18');
  await assert.rejects(occlusion(model, x, 'pred', { incremental: 'yes' as unknown as boolean }), /incremental: expected auto, true or false, got "yes"/);
  await model.dispose();
});
