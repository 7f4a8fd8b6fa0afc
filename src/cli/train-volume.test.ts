/**
 * Volumes end to end through the CLI: `candor synth-volumes` writes planted-lesion volumes, `candor train` trains
 * a 3-D architecture on them (with a 3-D shortcut marker when asked), and `candor explain` explains the trained
 * model on the same .npz. Small and short (the mechanics; whether a model learns is the audit's business).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';
import { readNpyFileSync, readNpzFileSync } from '../io/files.js';

const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: repoRoot });

test('synth-volumes → train small_cnn_3d (with a cube shortcut) → explain: cards, maps and splits of volumes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-train3d-'));
  const data = join(dir, 'l3d.npz');
  const s = cli(['synth-volumes', '--out', data, '--count', '40', '--size', '16', '--seed', '2']);
  assert.equal(s.status, 0, s.stderr);
  const npz = readNpzFileSync(data);
  assert.deepEqual(npz.get('train_images')!.shape, [28, 16, 16, 16]);
  assert.deepEqual(npz.get('test_masks')!.shape, [6, 16, 16, 16]);
  assert.equal(cli(['synth-volumes', '--out', data, '--count', '40']).status, 2, 'never overwrites without --force');

  const model = join(dir, 'm.onnx');
  const t = cli(['train', '--arch', 'small_cnn_3d', '--data', data, '--size', '16', '--epochs', '1', '--batch-size', '8', '--shortcut', 'corner:16', '--out', model]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stderr, /at 16×16×16 \(volumes\)/);
  const card = JSON.parse(readFileSync(model.replace(/\.onnx$/, '.json'), 'utf8'));
  assert.deepEqual(card.input.spatial, [16, 16, 16]);
  assert.equal(card.training.augment, false);
  assert.ok(card.extra['test (marked)'], 'the marked test copy is evaluated');

  const wrong = cli(['train', '--arch', 'small_cnn', '--data', data, '--size', '16', '--epochs', '1', '--out', join(dir, 'x.onnx')]);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /holds volumes; train a 3-D architecture/);

  const out = join(dir, 'ex');
  const e = cli(['explain', '--model', model, '--input', `${data}:test:0-2`, '--methods', 'gradcam,occlusion', '--occlusion-window', '4,4,4', '--occlusion-stride', '4,4,4', '--out', out]);
  assert.equal(e.status, 0, e.stderr);
  assert.deepEqual(readNpyFileSync(join(out, 'occlusion.npy')).shape, [2, 16, 16, 16]);

  // the CLI audits the 3-D model on its volumes (volume-audit.test.ts runs every test)
  const a = cli(['audit', '--model', model, '--data', data, '--tests', 'overview,trust', '--methods', 'saliency', '--n', '4', '--no-cache', '--out', join(dir, 'audit')]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stderr, /input 1×16×16×16 \(volumes\)/);
  assert.ok(existsSync(join(dir, 'audit', 'index.html')));
});

test('train on a CSV of NIfTI volumes records the voxel order in the card, and explain then reads NIfTI inputs in that order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-train3d-csv-'));
  const nifti = join(dir, 'nifti');
  assert.equal(cli(['synth-volumes', '--out', join(dir, 'l.npz'), '--count', '20', '--size', '12', '--nifti', nifti]).status, 0);
  const model = join(dir, 'm.onnx');
  const t = cli(['train', '--arch', 'small_cnn_3d', '--data', join(nifti, 'labels.csv'), '--size', '12', '--epochs', '1', '--batch-size', '8', '--voxel-order', 'kji', '--out', model]);
  assert.equal(t.status, 0, t.stderr);
  const card = JSON.parse(readFileSync(model.replace(/\.onnx$/, '.json'), 'utf8'));
  assert.equal(card.input.voxelOrder, 'kji');
  assert.match(card.data.description ?? JSON.stringify(card), /voxel order kji/);
  const e = cli(['explain', '--model', model, '--input', join(nifti, 'vol_0.nii.gz'), '--methods', 'saliency', '--out', join(dir, 'ex')]);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(JSON.parse(readFileSync(join(dir, 'ex', 'explain.json'), 'utf8')).input.voxelOrder, 'kji');
  const bad = cli(['train', '--arch', 'small_cnn', '--data', join(nifti, 'labels.csv'), '--size', '12', '--voxel-order', 'kji', '--out', join(dir, 'x.onnx')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--voxel-order applies to 3-D models/);
});
