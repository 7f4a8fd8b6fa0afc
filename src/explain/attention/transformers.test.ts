/**
 * Explaining the zoo's transformers against the published code, on the same weights and images
 * (src/explain/fixtures/make_transformer_fixtures.py): pytorch-grad-cam's own CAMs with its hand-written
 * `reshape_transform` (token layers of ViT and DeiT, Swin's channels-last stage) and AblationLayerVit,
 * vit-explain's attention rollout, and Chefer et al.'s gradient-weighted attention relevance. Bar: per-image
 * Pearson ≥ 0.99 (the maps in fact agree to float32 rounding; the largest difference is printed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readNpzFileSync } from '../../io/files.js';
import { loadModel } from '../../runtime/node.js';
import { repoRoot } from '../../testing/paths.js';
import { Tensor } from '../../tensor/tensor.js';
import { pearson } from '../../evaluate/correlation.js';
import { explain, NotApplicableError } from '../registry.js';

const ZOO = join(repoRoot, 'src/autodiff/fixtures/zoo');
const ref = readNpzFileSync(join(repoRoot, 'src/explain/fixtures/transformer_fixtures.npz'));
const targets = Array.from(ref.get('targets')!.data as BigInt64Array, Number);

function compare(t: { diagnostic(m: string): void }, what: string, got: Tensor, want: Tensor): void {
  assert.deepEqual([...got.shape], [...want.shape], what);
  const n = got.shape[0]!;
  const m = got.data.length / n;
  let maxDiff = 0;
  const rs: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = Float64Array.from(got.data.subarray(i * m, (i + 1) * m));
    const b = Float64Array.from((want.data as Float32Array).subarray(i * m, (i + 1) * m));
    for (let k = 0; k < m; k++) maxDiff = Math.max(maxDiff, Math.abs(a[k]! - b[k]!));
    const constant = b.every((v) => v === b[0]) && a.every((v) => Math.abs(v - a[0]!) < 1e-6);
    rs.push(constant ? 1 : pearson(a, b));
  }
  t.diagnostic(`${what}: Pearson ${rs.map((r) => r.toFixed(6)).join(' ')}, max |Δ| ${maxDiff.toExponential(2)}`);
  rs.forEach((r, i) => assert.ok(r >= 0.99, `${what}, image ${i}: Pearson ${r}`));
}

for (const name of ['vit', 'deit', 'swin']) {
  test(`${name}: every CAM on its default layer equals pytorch-grad-cam with reshape_transform`, async (t) => {
    const model = loadModel(join(ZOO, `${name}.onnx`));
    const x = readNpzFileSync(join(ZOO, `${name}.npz`)).get('input') as Tensor;
    for (const key of [...ref.keys()].filter((k) => k.startsWith(`${name}:`) && !k.includes('rollout') && !k.includes('attnrelevance') && !k.includes(':oriented') && !k.includes(':onemin'))) {
      const [, method, layer] = /^[^:]+:([a-z]+)(?:@(.+))?$/.exec(key)!;
      const r = await explain(model, x, method!, targets, layer ? { layer } : {});
      if (method === 'eigencam') {
        // The singular vector's sign: candor orients it (eigencam.ts); pytorch-grad-cam keeps LAPACK's.
        const oriented = key.replace('eigencam', 'eigencam:oriented');
        compare(t, oriented, r.map, ref.get(oriented)! as Tensor);
        const own = ref.get(key)!.data as Float32Array;
        const fixed = ref.get(oriented)!.data as Float32Array;
        const same = own.every((v, i) => Math.abs(v - fixed[i]!) < 1e-6);
        t.diagnostic(`${key}: pytorch-grad-cam's own sign ${same ? 'agrees on every image' : 'differs on some images'}`);
      } else if (method === 'ablationcam') {
        // pytorch-grad-cam re-reads min(A) after each ablated copy (min − k·1e7 for the k-th); candor uses
        // min − 1e7 throughout (ablationcam.ts). Equal behind a LayerNorm (ViT, DeiT); not behind a linear head.
        const onemin = key.replace('ablationcam', 'ablationcam:onemin');
        compare(t, onemin, r.map, ref.get(onemin)! as Tensor);
      } else compare(t, key, r.map, ref.get(key)! as Tensor);
    }
    await model.dispose();
  });
}

for (const name of ['vit', 'deit']) {
  test(`${name}: attention rollout equals vit-explain's and attention relevance Chefer et al.'s`, async (t) => {
    const model = loadModel(join(ZOO, `${name}.onnx`));
    const x = readNpzFileSync(join(ZOO, `${name}.npz`)).get('input') as Tensor;
    for (const fusion of ['mean', 'max', 'min']) {
      const want = ref.get(`${name}:rollout:${fusion}`);
      if (!want) continue;
      const r = await explain(model, x, 'rollout', targets, { headFusion: fusion, normalize: 'vit-explain' });
      compare(t, `${name} rollout ${fusion} (vit-explain's normalisation)`, r.extra!.raw as Tensor, want as Tensor);
    }
    const d = await explain(model, x, 'rollout', targets, { discardRatio: 0.5 });
    compare(t, `${name} rollout discard 0.5`, d.extra!.raw as Tensor, ref.get(`${name}:rollout:mean:discard0.5`) as Tensor);
    const rel = await explain(model, x, 'attnrelevance', targets);
    compare(t, `${name} attnrelevance`, rel.extra!.raw as Tensor, ref.get(`${name}:attnrelevance`) as Tensor);
    assert.deepEqual(rel.map.shape, [x.shape[0], 32, 32]);
    await model.dispose();
  });
}

test('attention methods on Swin and a CNN, and Guided Backprop on a ReLU-free net, say in one line why they do not apply', async () => {
  const swin = loadModel(join(ZOO, 'swin.onnx'));
  const x = readNpzFileSync(join(ZOO, 'swin.npz')).get('input') as Tensor;
  await assert.rejects(explain(swin, x, 'rollout', 'pred'), (e: Error) => e instanceof NotApplicableError && /class token/.test(e.message));
  await assert.rejects(explain(swin, x, 'guidedbackprop', 'pred'), (e: Error) => e instanceof NotApplicableError && /no ReLU/.test(e.message));
  await assert.rejects(explain(swin, x, 'lrp', 'pred'), (e: Error) => e instanceof NotApplicableError && /attention/.test(e.message));
  const cnn = loadModel(join(ZOO, 'resnet50.onnx'));
  await assert.rejects(explain(cnn, x, 'attnrelevance', 'pred'), (e: Error) => e instanceof NotApplicableError && /has none/.test(e.message));
  await swin.dispose();
  await cnn.dispose();
});

test('candor layers lists token layers (folded to a grid), channels-last maps and attention maps; bad token layers are clear errors', async () => {
  const { spawnSync } = await import('node:child_process');
  const run = (f: string) => spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'layers', '--model', join(ZOO, f)], { encoding: 'utf8', cwd: repoRoot });
  const vit = run('vit.onnx');
  assert.equal(vit.status, 0, vit.stderr);
  assert.match(vit.stdout, /encoder\.layers\.encoder_layer_1\.ln_1 +LayerNormalization +\[batch, 17, 32\] .*\(default for CAM methods\)\s+\(tokens, folded to a grid\)/);
  assert.match(vit.stdout, /attention maps \(for attention rollout and relevance\):\n.*17×17 tokens, 2 heads/);
  const swin = run('swin.onnx');
  assert.match(swin.stdout, /features\.3\.1 +Add +\[batch, 4, 4, 32\].*\(channels-last\)/);
  const model = loadModel(join(ZOO, 'vit.onnx'));
  const x = readNpzFileSync(join(ZOO, 'vit.npz')).get('input') as Tensor;
  await model.learnShapes();
  const att = model.attentionMaps()[0]!.tensor;
  await assert.rejects(explain(model, x, 'gradcam', 0, { layer: att }), /cannot be folded to a \[N,K,h,w\] feature map: its first dim is 2\*batch \(heads or windows folded into the batch\)/);
  await assert.rejects(explain(model, x, 'gradcam', 0, { layer: 'heads.head' }), /cannot be folded .*it is 2-D/);
  await model.dispose();
});
