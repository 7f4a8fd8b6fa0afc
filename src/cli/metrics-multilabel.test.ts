/**
 * `candor metrics` on the multi-label fixture: per-finding AUROC (equal to the fixture script's own, computed
 * in PyTorch/numpy when it trained the model: 0.937, 0.935, 0.933, 0.949), macro and micro, finding names
 * from the model card; options that do not apply yet are refused by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';

const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'metrics', ...args], { encoding: 'utf8', cwd: repoRoot });
const MODEL = join(repoRoot, 'src/runtime/fixtures/multilabel_cnn.onnx');
const DATA = join(repoRoot, 'src/data/fixtures/quadrants_multilabel.npz');

test('candor metrics on a multi-label model reports every finding, macro and micro AUROC', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'candor-ml-metrics-')), 'm');
  const r = run(['--model', MODEL, '--data', DATA, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { task: string; multiLabel: { labels: { label: string; auroc: { auc: number } }[]; macroAuroc: number; microAuroc: number; macroOver: number } };
  assert.equal(res.task, 'multilabel');
  const ml = res.multiLabel;
  assert.deepEqual(ml.labels.map((l) => l.label), ['top-left', 'top-right', 'bottom-left', 'bottom-right']);
  [0.937, 0.935, 0.933, 0.949].forEach((a, j) => assert.ok(Math.abs(ml.labels[j]!.auroc.auc - a) < 6e-4, `${ml.labels[j]!.label}: ${ml.labels[j]!.auroc.auc}`));
  assert.ok(Math.abs(ml.macroAuroc - ml.labels.reduce((s, l) => s + l.auroc.auc, 0) / 4) < 1e-12);
  assert.equal(ml.macroOver, 4);
  assert.match(r.stdout, /Macro AUROC 0\.93\d .*micro AUROC 0\.9\d\d/);
  assert.match(r.stdout, /PASS +Does the model rank cases well for 'bottom-right' \(AUROC\)\?/);
  const bad = run(['--model', MODEL, '--data', DATA, '--out', out + '2', '--threshold', 'youden']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--threshold youden is chosen per finding for multi-label models: not supported yet/);
  const wrongData = run(['--model', MODEL, '--out', out + '3']);
  assert.notEqual(wrongData.status, 0);
  assert.match(wrongData.stderr, /multi-label but .*has one class per image|one class per image/);
});
