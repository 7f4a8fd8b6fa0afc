import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, fixturePath } from '../testing/paths.js';
import { readNpyFileSync } from '../io/files.js';
import { relativeError } from '../testing/gradcheck.js';

const run = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: repoRoot });

test('candor grad writes logits, input gradient, activation and layer gradient equal to PyTorch', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'candor-grad-')), 'out');
  const r = run(['grad', '--model', fixturePath('models/small_cnn_opset13.onnx'), '--input', fixturePath('models/golden/small_cnn_input.npy'), '--target', '1', '--layer', 'features.8', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['activation.npy', 'grad_input.npy', 'grad_layer.npy', 'logits.npy']);
  const g = (n: string) => readNpyFileSync(fixturePath(`models/golden/small_cnn_${n}.npy`)).data as Float32Array;
  assert.ok(relativeError(readNpyFileSync(join(out, 'grad_input.npy')).data as Float32Array, g('grad_input_class1')) < 1e-4);
  assert.ok(relativeError(readNpyFileSync(join(out, 'grad_layer.npy')).data as Float32Array, g('layer_grad_class1')) < 1e-4);
  // a second run into the same folder needs --force
  const again = run(['grad', '--model', fixturePath('models/small_cnn_opset13.onnx'), '--input', fixturePath('models/golden/small_cnn_input.npy'), '--target', 'pred', '--out', out]);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /exists and is not empty; use --force/);
});

test('candor grad explains bad requests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-grad-'));
  const bad = join(dir, 'bad.npy');
  writeFileSync(bad, 'not a numpy file');
  const r = run(['grad', '--model', fixturePath('models/small_cnn_opset13.onnx'), '--input', bad, '--target', '1', '--out', join(dir, 'o')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.npy/);
  const m = run(['grad', '--input', bad]);
  assert.equal(m.status, 2);
  assert.match(m.stderr, /missing --model/);
  const u = run(['frobnicate']);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown command 'frobnicate'/);
});
