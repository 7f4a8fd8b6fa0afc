/**
 * The whole audit (every test, the default methods) on the classifiers issue 13 brought in: the zoo's ViT
 * and Swin (torch.onnx.export, shapes learned from a probe run, retrained for the sanity checks through the
 * same engine) and the multi-label fixture (audited per finding, as σ(z_k)). Small settings: 8 images,
 * 200 training images per split, 1–3 epochs; the Swin (≈ 25 s) runs with CANDOR_SLOW=1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAudit } from './run.js';
import { AUDIT_TEST_IDS } from './tests.js';
import { DEFAULT_AUDIT_METHODS } from '../cli/audit.js';
import { repoRoot } from '../testing/paths.js';

const ZOO = join(repoRoot, 'src/autodiff/fixtures/zoo');
const slow = process.env.CANDOR_SLOW ? false : 'set CANDOR_SLOW=1 (about 25 s)';

const small = (model: string, data: string, out: string) => ({
  model,
  data,
  methods: DEFAULT_AUDIT_METHODS.split(','),
  n: 8,
  nRandomization: 4,
  nStability: 4,
  shortcut: 'corner:4',
  epochs: { randomLabels: 3, shortcut: 1 },
  trainLimit: 200,
  tests: [...AUDIT_TEST_IDS],
  seed: 0,
  quiet: true,
  out,
  force: false,
});

function checkReport(dir: string): { checklist: { id: string; verdict: string }[] } {
  const html = readFileSync(join(dir, 'index.html'), 'utf8').replace(/data:[^"')]+/g, ''); // base64 images may spell anything
  const bad = /\bNaN\b|\bundefined\b/.exec(html);
  assert.equal(bad, null, bad ? html.slice(Math.max(0, bad.index - 120), bad.index + 40) : '');
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
}

for (const [name, skip] of [['vit_binary', false], ['swin_binary', slow]] as const) {
  test(`candor audit completes on the zoo's ${name.replace('_binary', '')} (a torch.onnx.export transformer)`, { skip }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), `candor-audit-${name}-`)), 'report');
    const r = await runAudit(small(join(ZOO, `${name}.onnx`), 'pneumoniamnist', out));
    const res = checkReport(out);
    assert.equal(r.sections.length, AUDIT_TEST_IDS.length);
    assert.ok(res.checklist.every((c) => c.verdict !== 'not run' || c.id === 'region' || c.id === 'localisation'), JSON.stringify(res.checklist.filter((c) => c.verdict === 'not run')));
  });
}

test('candor audit of a multi-label model runs per finding, each as σ(z_k), with an index of findings', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'candor-audit-ml-')), 'report');
  const opts = { ...small(join(repoRoot, 'src/runtime/fixtures/multilabel_cnn.onnx'), join(repoRoot, 'src/data/fixtures/quadrants_multilabel.npz'), out), labels: 'top-left,Bottom-Right' };
  const r = await runAudit(opts);
  for (const f of ['top-left', 'bottom-right']) {
    const res = checkReport(join(out, f)) as unknown as { model: { classes: string[] }; checklist: { verdict: string }[] };
    assert.deepEqual(res.model.classes, [`no ${f}`, f]);
  }
  assert.ok(existsSync(join(out, 'index.html')));
  assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /href="bottom-right\/index.html">bottom-right</);
  assert.ok(r.checklist.some((c) => c.question.startsWith('[top-left]')));
  await assert.rejects(runAudit({ ...opts, labels: 'effusion', force: true }), /--labels: no finding 'effusion' \(findings: top-left, top-right, bottom-left, bottom-right\)/);
  await assert.rejects(runAudit({ ...small(join(ZOO, 'vit_binary.onnx'), 'pneumoniamnist', out + '2'), labels: 'x' }), /--labels chooses findings of a multi-label model/);
});
