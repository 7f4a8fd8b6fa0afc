import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';
import { readNpyFileSync, writeNpyFileSync } from '../io/files.js';
import { decodePng, encodePng } from '../io/image.js';
import { writeFileSync } from 'node:fs';
import { Tensor } from '../tensor/tensor.js';
import { explainCommand } from './explain.js';
import { UsageError } from './args.js';

const run = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'explain', ...args], { encoding: 'utf8', cwd: repoRoot });

test('candor explain --pdf also writes the grid as a one-page PDF', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'candor-explain-')), 'out');
  const r = run(['--input', 'pneumoniamnist:test:0-1', '--methods', 'gradcam', '--out', out, '--pdf']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(readdirSync(out).includes('grid.pdf'));
  const pdf = readFileSync(join(out, 'grid.pdf')).toString('latin1');
  assert.ok(pdf.startsWith('%PDF-') && /\/FontFile2/.test(pdf) && pdf.match(/\/Type \/Page\b/g)?.length === 1);
});

test('candor explain on the bundled baseline: maps, overlays and grid for 2 images × 2 methods', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'candor-explain-')), 'out');
  const r = run(['--input', 'pneumoniamnist:test:0-2', '--methods', 'saliency,gradcam', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['explain.json', 'gradcam.npy', 'gradcam_0.png', 'gradcam_1.png', 'grid.png', 'grid.svg', 'saliency.npy', 'saliency_0.png', 'saliency_1.png']);
  for (const m of ['saliency', 'gradcam']) {
    const t = readNpyFileSync(join(out, `${m}.npy`));
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(t.shape, [2, 64, 64]);
    assert.ok((t.data as Float32Array).every((v) => Number.isFinite(v) && v >= 0), `${m} map is finite and non-negative`);
    // overlays at the default --panel-size 256: the 64×64 map upscaled ×4, nearest
    assert.deepEqual(decodePng(readFileSync(join(out, `${m}_1.png`))).tensor.shape, [3, 256, 256]);
  }
  // CAM maps are min–max scaled per image (pytorch-grad-cam)
  const cam = readNpyFileSync(join(out, 'gradcam.npy')).data as Float32Array;
  assert.ok(Math.abs(Math.max(...cam.subarray(0, 4096)) - 1) < 1e-5);
  // grid: 2 rows × (image + 2 panels) of 256 px, 3 title lines of 16 px (source, true class, prediction), gaps of
  // 8, one colorbar block (12 + 16 + 8: saliency and Grad-CAM are both unsigned, jet); the SVG holds the titles as text
  const grid = decodePng(readFileSync(join(out, 'grid.png'))).tensor;
  assert.deepEqual(grid.shape, [3, 8 + 2 * (48 + 256 + 8) + 36, 8 + 3 * (256 + 8)]);
  const svg = readFileSync(join(out, 'grid.svg'), 'utf8');
  for (const t of ['saliency', 'gradcam', 'jet']) assert.match(svg, new RegExp(`<text [^>]*>${t}</text>`));
  // each overlay pixel is a 4×4 block of one colour (nearest upscaling: nothing interpolated)
  const ov = decodePng(readFileSync(join(out, 'saliency_0.png'))).tensor;
  for (const [y, x] of [[0, 0], [100, 37], [255, 255]] as const) {
    for (let c = 0; c < 3; c++) assert.equal(ov.data[c * 65536 + y * 256 + x], ov.data[c * 65536 + (y - (y % 4)) * 256 + (x - (x % 4))]);
  }
  const small = run(['--input', 'pneumoniamnist:test:0-1', '--methods', 'saliency', '--panel-size', '64', '--out', join(out, '..', 'small')]);
  assert.equal(small.status, 0, small.stderr);
  assert.deepEqual(decodePng(readFileSync(join(out, '..', 'small', 'saliency_0.png'))).tensor.shape, [3, 64, 64]);

  // never overwrite a non-empty --out without --force
  const again = run(['--input', 'pneumoniamnist:test:0-1', '--methods', 'saliency', '--out', out]);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /exists and is not empty; use --force/);
});

test('candor explain takes a preprocessed .npy batch as is and explains bad requests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-explain-'));
  const x = join(dir, 'x.npy');
  writeNpyFileSync(x, new Tensor(Float32Array.from({ length: 64 * 64 }, (_, i) => Math.cos(i * 0.1)), [1, 1, 64, 64]));
  const ok = run(['--input', x, '--methods', 'gradient', '--target', '1', '--colormap', 'viridis', '--opacity', '0.3', '--out', join(dir, 'o')]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(readNpyFileSync(join(dir, 'o', 'gradient.npy')).shape, [1, 64, 64]);

  const bad = join(dir, 'bad.npy');
  writeNpyFileSync(bad, Tensor.zeros([2, 3, 28, 28]));
  const shape = run(['--input', bad, '--methods', 'saliency', '--out', join(dir, 'o2')]);
  assert.equal(shape.status, 2);
  assert.match(shape.stderr, /shape \[2, 3, 28, 28\] does not fit the model, which takes \[N, 1, 64, 64\]/);

  const alpha = run(['--input', x, '--methods', 'gradient', '--alpha', '0.3', '--out', join(dir, 'o5')]);
  assert.equal(alpha.status, 2);
  assert.match(alpha.stderr, /--alpha is not an option of explain: the overlay's opacity is --opacity \(e\.g\. --opacity 0\.3\); --alpha is the miscoverage level of candor conformal/);

  const unknown = run(['--methods', 'saliency,lrp2', '--out', join(dir, 'o3')]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown method 'lrp2' \(valid: saliency, gradient, inputxgradient, smoothgrad, ig, gradientshap, .*, rise, rollout, attnrelevance, random, sobel, constant\)/);

  const missing = run(['--input', join(dir, 'nope.npz'), '--methods', 'saliency', '--out', join(dir, 'o4')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.npz: no such file/);

  const cmap = run(['--methods', 'saliency', '--colormap', 'hot', '--out', join(dir, 'o5')]);
  assert.equal(cmap.status, 2);
  assert.match(cmap.stderr, /unknown colormap 'hot' \(valid: jet, turbo/);
});

test('candor explain reads PNG, DICOM and NIfTI inputs, takes method options, and keeps channels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-explain-'));
  const a = join(dir, 'a.png');
  const b = join(dir, 'b.png');
  writeFileSync(a, encodePng(new Tensor(Float32Array.from({ length: 3 * 40 * 50 }, (_, i) => (i % 50) / 50), [3, 40, 50])));
  writeFileSync(b, encodePng(new Tensor(Float32Array.from({ length: 30 * 30 }, (_, i) => (i % 7) / 7), [1, 30, 30])));
  const png = run(['--input', `${a},${b}`, '--methods', 'ig,occlusion,rise', '--ig-steps', '4', '--opt', 'ig.baseline=black', '--occlusion-window', '16',
    '--opt', 'occlusion.strides=16,8', '--rise-masks', '16', '--keep-channels', '--opacity', '0.7', '--out', join(dir, 'png')]);
  assert.equal(png.status, 0, png.stderr);
  assert.deepEqual(readNpyFileSync(join(dir, 'png', 'ig.npy')).shape, [2, 64, 64]);
  assert.deepEqual(readNpyFileSync(join(dir, 'png', 'ig_attributions.npy')).shape, [2, 1, 64, 64]);
  assert.deepEqual(readNpyFileSync(join(dir, 'png', 'occlusion_attributions.npy')).shape, [2, 1, 64, 64]);
  assert.ok(!readdirSync(join(dir, 'png')).includes('rise_attributions.npy'));
  assert.match(png.stderr, /rise has no per-channel attributions/);

  const dcm = run(['--input', join(repoRoot, 'src/io/fixtures/dicom/SC_rgb_rle_2frame.dcm:1'), '--methods', 'guidedbackprop,gradcam', '--opt', 'gradcam.augSmooth=true', '--out', join(dir, 'dcm')]);
  assert.equal(dcm.status, 0, dcm.stderr);
  assert.deepEqual(readNpyFileSync(join(dir, 'dcm', 'gradcam.npy')).shape, [1, 64, 64]);
  assert.match(dcm.stdout, /SC_rgb_rle_2frame\.dcm frames 1-2/);

  const nii = run(['--input', join(repoRoot, 'src/io/fixtures/nifti/anatomical.nii:coronal:3-6'), '--methods', 'featureablation', '--ablation-mask', 'slic', '--opt', 'segments=16', '--out', join(dir, 'nii')]);
  assert.equal(nii.status, 0, nii.stderr);
  assert.deepEqual(readNpyFileSync(join(dir, 'nii', 'featureablation.npy')).shape, [3, 64, 64]);

  // several CAM layers (aggregated) and CAM options for every CAM listed
  const ml = run(['--input', 'pneumoniamnist:test:0-1', '--methods', 'gradcam,scorecam', '--layer', 'features.4,features.8', '--opt', 'scorecam.topChannels=8', '--opt', 'eigenSmooth=true', '--out', join(dir, 'ml')]);
  assert.equal(ml.status, 0, ml.stderr);
  assert.deepEqual(readNpyFileSync(join(dir, 'ml', 'scorecam.npy')).shape, [1, 64, 64]);

  // raw image arrays in .npy are scaled and resized like image files
  const raw = join(dir, 'raw.npy');
  writeNpyFileSync(raw, new Tensor(Float32Array.from({ length: 2 * 28 * 28 }, (_, i) => i % 255), [2, 28, 28]));
  const r2 = run(['--input', raw, '--methods', 'saliency', '--out', join(dir, 'raw')]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stdout, /as raw images/);
});

test('candor explain: bad method options and inputs are clear errors listing what is valid', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-explain-'));
  const cases: [string[], RegExp][] = [
    [['--methods', 'ig', '--opt', 'ig.stpes=3'], /ig has no option 'stpes' \(valid: batchSize, seed, steps, method, baseline/],
    [['--methods', 'ig', '--opt', 'gradcam.layer=x'], /method 'gradcam' is not among --methods \(ig\)/],
    [['--methods', 'ig', '--opt', 'lrp2.x=1'], /unknown method 'lrp2' \(valid: saliency/],
    [['--methods', 'saliency', '--opt', 'steps=3'], /no method among saliency takes 'steps'/],
    [['--methods', 'saliency', '--ig-steps', '3'], /--ig-steps applies to ig, which is not among --methods/],
    [['--methods', 'ig', '--opt', 'ig.method=simpson'], /unknown method 'simpson' \(valid: riemann_left/],
    [['--methods', 'scorecam', '--scorecam-variant', 'keras'], /unknown variant 'keras' \(valid: pytorch-grad-cam, paper, tf-keras-vis\)/],
    [['--methods', 'ig', '--opt', 'steps'], /expected method\.key=value or key=value/],
    [['--methods', 'saliency', '--scale', 'z'], /--scale must be one of pm1, unit, imagenet/],
    [['--methods', 'saliency', '--input', join(repoRoot, 'src/io/fixtures/nifti/anatomical.nii:diagonal')], /unknown axis 'diagonal' \(valid: i, j, k, axial, coronal, sagittal\)/],
    [['--methods', 'saliency', '--input', join(repoRoot, 'src/io/fixtures/dicom/SC_rgb_rle_2frame.dcm:5')], /range 5-6 is empty or outside the 2 available/],
    [['--methods', 'saliency', '--input', 'scan.tiff'], /expected x\.npy, data\.npz\[:split\[:range\]\], a bundled dataset .*, a\.png/],
  ];
  // In-process (a usage error is what the CLI turns into exit status 2), to keep the suite fast.
  for (const [i, [args, re]] of cases.entries()) {
    await assert.rejects(explainCommand([...args, '--out', join(dir, `o${i}`)]), (e: Error) => {
      assert.ok(e instanceof UsageError, `${args.join(' ')}: not a usage error: ${e.message}`);
      assert.match(e.message, re);
      return true;
    });
  }
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await explainCommand(['--help']);
  } finally {
    console.log = log;
  }
  const help = lines.join('\n');
  assert.match(help, /gradientshap: samples \[50\], stdev \[0\], baselines \[uniform\]/);
  assert.match(help, /scorecam: .*variant \[pytorch-grad-cam\]/);
  const r = run(['--methods', 'lrp2', '--out', join(dir, 'cli')]);
  assert.equal(r.status, 2, 'the command exits with status 2 on a usage error');
});

test('candor explain on a Keras-style model (channels-last, sigmoid head, Rescaling inside) with --scale byte says what it adapted', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'candor-explain-keras-')), 'out');
  const r = run(['--model', 'src/runtime/fixtures/nhwc_binary.onnx', '--scale', 'byte', '--input', 'pneumoniamnist:test:0-2', '--methods', 'saliency,gradcam', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /channels-last \[N, H, W, C\] images; candor feeds it \[N, C, H, W\]/);
  assert.match(r.stdout + r.stderr, /one sigmoid output σ\(z\); candor uses the two logits \[−z\/2, z\/2\]/);
  assert.deepEqual(readNpyFileSync(join(out, 'saliency.npy')).shape, [2, 32, 32]);
  const bad = run(['--model', 'src/runtime/fixtures/nhwc_binary.onnx', '--scale', 'bytes', '--methods', 'saliency', '--out', join(out, 'x')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--scale must be one of pm1, unit, imagenet, byte, got 'bytes'/);
});

test('candor explain on a multi-label model: every label by default (METHOD_LABEL files), a label by name, and clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-explain-ml-'));
  const model = join(repoRoot, 'src/runtime/fixtures/multilabel_cnn.onnx');
  const input = `${join(repoRoot, 'src/data/fixtures/quadrants_multilabel.npz')}:test:0-3`;
  const all = run(['--model', model, '--input', input, '--methods', 'gradcam', '--out', join(dir, 'all')]);
  assert.equal(all.status, 0, all.stderr);
  const names = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];
  assert.deepEqual(readdirSync(join(dir, 'all')).filter((f) => f.endsWith('.npy')).sort(), names.map((n) => `gradcam_${n}.npy`).sort());
  assert.match(all.stdout, /gradcam of label 'bottom-right': 3 map\(s\)/);
  assert.match(all.stdout, /4 independent sigmoids \(multi-label\)/);
  const one = run(['--model', model, '--input', input, '--methods', 'saliency', '--target', 'Bottom-Right', '--out', join(dir, 'one')]);
  assert.equal(one.status, 0, one.stderr);
  assert.ok(readdirSync(join(dir, 'one')).includes('saliency.npy'));
  const bad = run(['--model', model, '--input', input, '--methods', 'saliency', '--target', 'effusion', '--out', join(dir, 'bad')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /a label name \(top-left, top-right, bottom-left, bottom-right\); got 'effusion'/);
  const single = run(['--input', 'pneumoniamnist:test:0-1', '--methods', 'saliency', '--target', 'all', '--out', join(dir, 'single')]);
  assert.equal(single.status, 2);
  assert.match(single.stderr, /--target all explains every label of a multi-label model; this model has one class per image/);
});

test('explain.json records the model, every image\'s source, predictions, targets and options: the maps recompute from it alone', async () => {
  const { createHash } = await import('node:crypto');
  const { loadBatch } = await import('./explain-input.js');
  const { loadModel } = await import('../runtime/node.js');
  const { explain } = await import('../explain/registry.js');
  const out = join(mkdtempSync(join(tmpdir(), 'candor-explain-record-')), 'out');
  const r = run(['--input', 'pneumoniamnist:test:3-6', '--methods', 'ig,gradcam', '--target', '1', '--ig-steps', '8', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const rec = JSON.parse(readFileSync(join(out, 'explain.json'), 'utf8'));
  const { resolve } = await import('node:path');
  const modelFile = resolve(repoRoot, rec.model.path);
  assert.equal(rec.model.sha256, createHash('sha256').update(readFileSync(modelFile)).digest('hex'));
  assert.deepEqual(rec.images.map((i: { source: { split: string; index: number } }) => [i.source.split, i.source.index]), [['test', 3], ['test', 4], ['test', 5]]);
  assert.ok(rec.images.every((i: { probabilities: number[] }) => Math.abs(i.probabilities[0]! + i.probabilities[1]! - 1) < 1e-6));
  const ig = rec.maps.find((m: { method: string }) => m.method === 'ig');
  assert.equal(ig.options.steps, 8);
  assert.equal(ig.diagnostics.delta.length, 3, "IG's convergence delta per image");
  // Recompute every map from the record alone: the same image rows, model, scale, method, options, targets.
  const model = loadModel(modelFile);
  for (const m of rec.maps) {
    const parts = [];
    for (const img of rec.images) {
      const b = await loadBatch(`${img.source.file}:${img.source.split}:${img.source.index}`, { channels: rec.model.input.channels, height: rec.model.input.height, width: rec.model.input.width }, { ...rec.input.preprocessing, window: rec.input.preprocessing.window ?? undefined });
      parts.push(b.x);
    }
    const x = Tensor.concat0(parts);
    const { layer, ...options } = m.options;
    const again = await explain(model, x, m.method, m.targets, { ...options, ...(layer && layer !== 'auto' ? { layer } : {}) });
    const written = readNpyFileSync(join(out, m.file)).data as Float32Array;
    let worst = 0;
    written.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - again.map.data[i]!))));
    assert.ok(worst < 1e-5, `${m.method}: recomputed map differs by ${worst}`);
  }
  await model.dispose();
});

test('--normalize and --clip choose how maps become colours (recorded in explain.json), the .npy maps stay raw, bad values are usage errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-explain-display-'));
  const overlays = (normalize: string, clip: string) => {
    const out = join(dir, `${normalize}-${clip}`);
    const r = run(['--input', 'pneumoniamnist:test:0-2', '--methods', 'saliency', '--normalize', normalize, '--clip', clip, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(readFileSync(join(out, 'explain.json'), 'utf8')) as { display: { normalize: string; clip: number } };
    assert.deepEqual([j.display.normalize, j.display.clip], [normalize, Number(clip)]);
    return { npy: readFileSync(join(out, 'saliency.npy')), png: [0, 1].map((i) => decodePng(readFileSync(join(out, `saliency_${i}.png`))).tensor.data) };
  };
  const each99 = overlays('each', '99');
  const each100 = overlays('each', '100');
  const shared = overlays('shared', '100');
  assert.ok(each99.npy.equals(each100.npy) && each99.npy.equals(shared.npy), 'the raw maps do not depend on the display');
  const differ = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).some((v, i) => v !== b[i]);
  assert.ok(differ(each99.png[0]!, each100.png[0]!), 'clipping at 99 % of the mass changes the colours');
  // one range for both images: at least one of them is shown differently than on its own range
  assert.ok(differ(shared.png[0]!, each100.png[0]!) || differ(shared.png[1]!, each100.png[1]!));
  for (const [flag, value, msg] of [['--normalize', 'global', /--normalize must be each/], ['--clip', '0', /--clip must be a percentage in \(0, 100\]/], ['--clip', '101', /--clip must be/]] as const) {
    const r = run(['--input', 'pneumoniamnist:test:0-1', '--methods', 'saliency', flag, value, '--out', join(dir, 'bad')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, msg);
  }
});
