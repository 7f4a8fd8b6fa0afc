import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';

const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: repoRoot });

test('candor train on a small slice of the bundled PneumoniaMNIST writes a model and its card, and refuses to overwrite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-train-'));
  const out = join(dir, 'tiny.onnx');
  const r = run(['train', '--out', out, '--limit', '200', '--size', '32', '--epochs', '2', '--batch-size', '64', '--shortcut', 'corner:8']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(dir).sort(), ['tiny.json', 'tiny.onnx']);
  const card = JSON.parse(readFileSync(join(dir, 'tiny.json'), 'utf8'));
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
});
