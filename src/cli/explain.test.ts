import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';
import { readNpyFileSync, writeNpyFileSync } from '../io/files.js';
import { decodePng } from '../io/image.js';
import { Tensor } from '../tensor/tensor.js';

const run = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'explain', ...args], { encoding: 'utf8', cwd: repoRoot });

test('candor explain on the bundled baseline: maps, overlays and grid for 2 images × 2 methods', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'candor-explain-')), 'out');
  const r = run(['--input', 'pneumoniamnist:test:0-2', '--methods', 'saliency,gradcam', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['gradcam.npy', 'gradcam_0.png', 'gradcam_1.png', 'grid.png', 'saliency.npy', 'saliency_0.png', 'saliency_1.png']);
  for (const m of ['saliency', 'gradcam']) {
    const t = readNpyFileSync(join(out, `${m}.npy`));
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(t.shape, [2, 64, 64]);
    assert.ok((t.data as Float32Array).every((v) => Number.isFinite(v) && v >= 0), `${m} map is finite and non-negative`);
    assert.deepEqual(decodePng(readFileSync(join(out, `${m}_1.png`))).tensor.shape, [3, 64, 64]);
  }
  // CAM maps are min–max scaled per image (pytorch-grad-cam)
  const cam = readNpyFileSync(join(out, 'gradcam.npy')).data as Float32Array;
  assert.ok(Math.abs(Math.max(...cam.subarray(0, 4096)) - 1) < 1e-5);
  // grid: 2 rows × (image + 2 panels) of 128 px, 2 title lines, one colorbar (jet)
  const grid = decodePng(readFileSync(join(out, 'grid.png'))).tensor;
  assert.deepEqual(grid.shape, [3, 6 + 2 * (20 + 128 + 6) + 26, 6 + 3 * (128 + 6)]);

  // never overwrite a non-empty --out without --force
  const again = run(['--input', 'pneumoniamnist:test:0-1', '--methods', 'saliency', '--out', out]);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /exists and is not empty; use --force/);
});

test('candor explain takes a preprocessed .npy batch as is and explains bad requests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-explain-'));
  const x = join(dir, 'x.npy');
  writeNpyFileSync(x, new Tensor(Float32Array.from({ length: 64 * 64 }, (_, i) => Math.cos(i * 0.1)), [1, 1, 64, 64]));
  const ok = run(['--input', x, '--methods', 'gradient', '--target', '1', '--colormap', 'viridis', '--alpha', '0.3', '--out', join(dir, 'o')]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(readNpyFileSync(join(dir, 'o', 'gradient.npy')).shape, [1, 64, 64]);

  const bad = join(dir, 'bad.npy');
  writeNpyFileSync(bad, Tensor.zeros([2, 3, 28, 28]));
  const shape = run(['--input', bad, '--methods', 'saliency', '--out', join(dir, 'o2')]);
  assert.equal(shape.status, 2);
  assert.match(shape.stderr, /shape \[2, 3, 28, 28\] does not fit the model, which takes \[N, 1, 64, 64\]/);

  const unknown = run(['--methods', 'saliency,lime', '--out', join(dir, 'o3')]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown method 'lime' \(valid: saliency, gradient, inputxgradient, smoothgrad, ig, gradcam/);

  const missing = run(['--input', join(dir, 'nope.npz'), '--methods', 'saliency', '--out', join(dir, 'o4')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.npz: no such file/);

  const cmap = run(['--methods', 'saliency', '--colormap', 'hot', '--out', join(dir, 'o5')]);
  assert.equal(cmap.status, 2);
  assert.match(cmap.stderr, /unknown colormap 'hot' \(valid: jet, turbo/);
});
