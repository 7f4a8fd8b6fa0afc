import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';

const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: repoRoot });

test('candor train on a small slice of the bundled PneumoniaMNIST writes a model and its card, and refuses to overwrite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-train-'));
  const out = join(dir, 'new', 'folder', 'tiny.onnx'); // --out's folder is created (the model was lost at the end otherwise)
  const r = run(['train', '--out', out, '--limit', '200', '--size', '32', '--epochs', '2', '--batch-size', '64', '--shortcut', 'corner:8']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(join(dir, 'new', 'folder')).sort(), ['tiny.json', 'tiny.onnx']);
  const card = JSON.parse(readFileSync(join(dir, 'new', 'folder', 'tiny.json'), 'utf8'));
  assert.equal(card.history.length, 2);
  assert.deepEqual(card.classes, ['normal', 'pneumonia']);
  assert.equal(card.training.shortcut, 'corner:8');
  assert.ok(card.extra['test (marked)'].accuracy >= 0);
  assert.match(r.stdout, /kept epoch \d; test acc/);
  const again = run(['train', '--out', out, '--limit', '50', '--epochs', '1']);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /exists; use --force/);
  const bad = run(['train', '--out', join(dir, 'x.onnx'), '--data', join(dir, 'missing.npz')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /missing\.npz: no such file/);
  // a folder that cannot be made is refused before any training
  writeFileSync(join(dir, 'afile'), '');
  const blocked = run(['train', '--out', join(dir, 'afile', 'm.onnx'), '--limit', '50', '--epochs', '1']);
  assert.equal(blocked.status, 2);
  assert.match(blocked.stderr, /--out .*m\.onnx: cannot write to its folder/);
  assert.doesNotMatch(blocked.stderr, /epoch 1/);
});
