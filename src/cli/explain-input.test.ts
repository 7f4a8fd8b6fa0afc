/**
 * One preprocessing everywhere (issue 14): the images `candor explain` makes of a NIfTI volume and of a
 * multi-frame DICOM with default options are those the training pipeline (MedicalReader) makes of the same
 * slice or frame — which web/volume.test.ts shows are the workbench's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MedicalReader } from '../data/medical-folder.js';
import { repoRoot } from '../testing/paths.js';
import { loadBatch } from './explain-input.js';
import { DEFAULT_PREPROCESSING } from '../data/preprocessing.js';
import { maxAbsDiff } from '../testing/gradcheck.js';

const FIX = join(repoRoot, 'src', 'io', 'fixtures');

test('candor explain reads a NIfTI volume along k by default, each slice exactly as training data and the workbench do', async () => {
  const path = join(FIX, 'nifti', 'anatomical.nii'); // 33×41×25
  const b = await loadBatch(path, { channels: 1, height: 41, width: 33 }, { ...DEFAULT_PREPROCESSING, scale: 'unit' });
  const reader = new MedicalReader();
  assert.equal(b.sources.length, 8);
  b.sources.forEach((src, i) => {
    assert.equal(src.axis, 'k');
    const node = reader.read(path, 'nifti', { slices: [src.slice!] })[0]!;
    assert.ok(maxAbsDiff(b.x.data.subarray(i * 41 * 33, (i + 1) * 41 * 33), node.data) <= 1e-6, `slice ${src.slice}`);
  });
});

test('candor explain reads DICOM frames with the file window by default, as training data and the workbench do', async () => {
  const path = join(FIX, 'dicom', 'rtdose.dcm');
  const reader = new MedicalReader();
  const first = reader.read(path, 'dicom', { frames: [0] })[0]!;
  const [h, w] = first.shape.slice(1) as [number, number];
  const b = await loadBatch(`${path}:0-4`, { channels: 1, height: h, width: w }, { ...DEFAULT_PREPROCESSING, scale: 'unit' });
  b.sources.forEach((src, i) => {
    const node = reader.read(path, 'dicom', { frames: [src.frame!] })[0]!;
    assert.ok(maxAbsDiff(b.x.data.subarray(i * h * w, (i + 1) * h * w), node.data) <= 1e-6, `frame ${src.frame}`);
  });
});

test('a non-finite input value is refused, naming the file and the image, in explain and in the engine', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { writeNpyFileSync } = await import('../io/files.js');
  const { loadModel } = await import('../runtime/node.js');
  const { Tensor } = await import('../tensor/tensor.js');
  const file = join(mkdtempSync(join(tmpdir(), 'candor-nan-')), 'x.npy');
  const data = new Float32Array(2 * 64 * 64).fill(0.1);
  data[64 * 64 + 7] = NaN;
  writeNpyFileSync(file, { dtype: 'float32', shape: [2, 1, 64, 64], data });
  await assert.rejects(loadBatch(file, { channels: 1, height: 64, width: 64 }), /x\.npy: image row 1 x holds NaN \(a non-finite value\) at element 7/);
  const model = loadModel(join(repoRoot, 'models/baseline/small_cnn_pneumoniamnist64.onnx'));
  await assert.rejects(model.forward(new Tensor(data, [2, 1, 64, 64])), /input image 1 holds NaN at element 7/);
  await model.dispose();
});

test("candor explain uses the model card's preprocessing unless a flag overrides it, announces a changed aspect ratio, and records both", async () => {
  const { mkdtempSync, copyFileSync, writeFileSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { explainCommand } = await import('./explain.js');
  const { encodePng } = await import('../io/image.js');
  const { Tensor } = await import('../tensor/tensor.js');
  const { quiet } = await import('../trust/cli-testing.js');
  const dir = mkdtempSync(join(tmpdir(), 'candor-card-pre-'));
  const model = join(dir, 'm.onnx');
  copyFileSync(join(repoRoot, 'models/baseline/small_cnn_pneumoniamnist64.onnx'), model);
  writeFileSync(join(dir, 'm.json'), JSON.stringify({ input: { channels: 1, size: 64 }, classes: ['normal', 'pneumonia'], preprocessing: { scale: 'unit', window: null, axis: 'k', resize: 'pad' } }));
  const png = join(dir, 'wide.png'); // 96×48 colour: another aspect ratio and RGB for a 1-channel model
  writeFileSync(png, encodePng(new Tensor(Uint8Array.from({ length: 3 * 48 * 96 }, (_, i) => (i * 7) % 256), [3, 48, 96])));
  const run = async (out: string, extra: string[] = []) => {
    await quiet(() => explainCommand(['--model', model, '--methods', 'saliency', '--input', png, '--out', join(dir, out), ...extra]));
    return JSON.parse(readFileSync(join(dir, out, 'explain.json'), 'utf8'));
  };
  const carded = await run('a');
  assert.deepEqual(carded.input.preprocessing, { scale: 'unit', window: null, axis: 'k', resize: 'pad', from: { scale: 'card', window: 'default', axis: 'card', resize: 'card' } });
  assert.match(carded.input.notes.join('\n'), /1 images were scaled to fit and padded with black.*\n.*1 colour images were converted to grey/);
  const flagged = await run('b', ['--resize', 'stretch', '--scale', 'pm1']);
  assert.equal(flagged.input.preprocessing.from.resize, 'flag');
  assert.equal(flagged.input.preprocessing.scale, 'pm1');
  assert.match(flagged.input.notes[0], /1 of 1 images had another aspect ratio than the model's input \(e\.g\. 96×48 → 64×64 \(width×height\)\) and were stretched/);
  // The recorded inputs reproduce the probabilities: unit pixels, padded, grey by luma.
  const { decodeImage } = await import('../io/image.js');
  const { toModelSize } = await import('../data/preprocessing.js');
  const { loadModel } = await import('../runtime/node.js');
  const img = decodeImage(readFileSync(png), png).tensor;
  const x = toModelSize(img.reshape([1, ...img.shape]), 1, [64, 64], 'pad');
  const m = loadModel(model);
  const p = m.probabilities(await m.forward(x));
  assert.ok(Math.abs(p.data[1]! - carded.images[0].probabilities[1]) < 1e-6);
  await m.dispose();
});
