import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAudit } from './run.js';
import { AUDIT_TEST_IDS } from './tests.js';
import { proportionalCounts } from './context.js';
import { keyOf, stableJson, WorkCache } from './cache.js';
import { parseNpy } from '../io/npy.js';

const CHROMIUM = '/usr/bin/chromium';
const chromiumSkip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); the browser check needs it`;
let reportDir: string | undefined;

test('proportionalCounts splits a sample over classes exactly, every present class at least once', () => {
  assert.deepEqual(proportionalCounts([234, 390], 100), [38, 62]);
  assert.deepEqual(proportionalCounts([1, 1000], 10), [1, 9]);
  assert.deepEqual(proportionalCounts([0, 5, 5], 3), [0, 2, 1]);
  assert.deepEqual(proportionalCounts([2, 3], 100), [2, 3]);
});

test('work cache keys ignore object key order but not values, and a corrupt entry is recomputed', async () => {
  assert.equal(stableJson({ b: 1, a: [1, { d: 2, c: 3 }] }), stableJson({ a: [1, { c: 3, d: 2 }], b: 1 }));
  assert.notEqual(keyOf({ a: new Float32Array([1, 2]) }), keyOf({ a: new Float32Array([1, 3]) }));
  const dir = mkdtempSync(join(tmpdir(), 'candor-cache-'));
  const c = new WorkCache(dir, 'v');
  let calls = 0;
  const f = async () => ({ x: ++calls });
  assert.deepEqual(await c.json('t', { k: 1 }, f), { x: 1 });
  assert.deepEqual(await c.json('t', { k: 1 }, f), { x: 1 });
  assert.equal(c.hits, 1);
  const file = join(dir, 't', readdirSync(join(dir, 't'))[0]!);
  writeFileSync(file, '{truncated');
  assert.deepEqual(await c.json('t', { k: 1 }, f), { x: 2 }, 'a corrupt entry is recomputed');
  assert.deepEqual(await c.json('t', { k: 1 }, f), { x: 2 }, 'and replaced');
  assert.deepEqual(await c.json('t', { k: 2 }, f), { x: 3 });
  assert.deepEqual(await new WorkCache(dir, 'v2').json('t', { k: 1 }, f), { x: 4 }, 'another candor version does not reuse entries');
});

test('cached results keep NaN and infinities (a constant map’s correlation reads back as NaN, not null)', async () => {
  const c = new WorkCache(mkdtempSync(join(tmpdir(), 'candor-cache-')), 'v');
  const v = { mean: NaN, lo: -Infinity, hi: Infinity, n: 0, values: [1, NaN] };
  assert.deepEqual(await c.json('nan', { k: 1 }, async () => v), v);
  const back = await c.json('nan', { k: 1 }, async () => assert.fail('computed twice'));
  assert.equal(c.hits, 1);
  assert.deepEqual(back, v);
});

test('a small audit of the bundled baseline writes a complete report, refuses to overwrite it, and reuses its work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-audit-'));
  const out = join(dir, 'report');
  // ground-truth boxes for the localisation benchmark: a .npz has no files, so test-split rows, model pixels
  const boxesCsv = join(dir, 'boxes.csv');
  writeFileSync(boxesCsv, ['row,x,y,w,h', ...Array.from({ length: 624 }, (_, r) => `${r},${16 + (r % 3)},20,20,24`)].join('\n'));
  const opts = {
    data: 'pneumoniamnist',
    methods: ['saliency', 'gradcam'],
    n: 8,
    nRandomization: 4,
    nStability: 4,
    shortcut: 'corner:8',
    region: 'box:24,20,16,24',
    masks: boxesCsv,
    epochs: { randomLabels: 1, shortcut: 1 },
    trainLimit: 200,
    tests: [...AUDIT_TEST_IDS],
    seed: 0,
    cacheDir: join(dir, 'cache'),
    quiet: true,
    out,
    force: false,
  };
  const first = await runAudit(opts);
  assert.deepEqual(readdirSync(out).sort(), ['index.html', 'maps', 'results.json']);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.deepEqual(Object.keys(results.sections).sort(), [...AUDIT_TEST_IDS].sort());
  for (const id of AUDIT_TEST_IDS) assert.ok(!results.sections[id].notRun, `${id} did not run: ${results.sections[id].notRun}`);
  const verdicts = new Set(first.checklist.map((c) => c.verdict));
  assert.ok(!verdicts.has('not run'), 'every test ran');
  for (const c of first.checklist.filter((c) => c.verdict !== 'question')) assert.ok(c.value && c.threshold, `${c.id} states its value and threshold`);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  const text = html.replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, '');
  assert.equal(text.match(/.{0,200}(NaN|undefined|\[object Object\]).{0,80}/)?.[0], undefined);
  assert.doesNotMatch(html, /(src|href)="https?:/, 'no network references');
  for (const s of first.sections) for (const f of s.figures) assert.match(html, new RegExp(`id="fig-${f.id}"`));
  assert.ok((html.match(/<svg/g)?.length ?? 0) >= 8, 'charts are inline SVG');
  const map = parseNpy(readFileSync(join(out, 'maps', 'audited_model_saliency.npy')));
  assert.deepEqual(map.shape, [8, 64, 64]);
  // the metrics section scores the controls beside the methods, every metric for each
  const metrics = results.sections.metrics;
  assert.deepEqual(metrics.controls, ['random', 'sobel', 'constant']);
  for (const [id, m] of Object.entries(metrics.metrics as Record<string, { scores: Record<string, unknown> }>)) {
    assert.deepEqual(Object.keys(m.scores).sort(), ['constant', 'gradcam', 'random', 'saliency', 'sobel'], id);
  }
  assert.ok(first.checklist.some((c) => c.id === 'metrics-controls'));
  assert.equal(results.sections.localisation.scored, 8);
  assert.match(results.sections.localisation.masks, /boxes of .*boxes\.csv/);

  await assert.rejects(runAudit(opts), /already holds a report; use --force/);
  await assert.rejects(runAudit({ ...opts, force: true, methods: ['saliency', 'random', 'sobel'] }), /--methods: random, sobel are control maps, not explanation methods/);
  // No scale given: the bundled baseline's card says [-1, 1], so the re-run's work is the first run's.
  const second = await runAudit({ ...opts, force: true });
  assert.equal(second.cache.misses, 0, 'the re-run computed nothing');
  assert.deepEqual(second.checklist.map((c) => c.value), first.checklist.map((c) => c.value));
  reportDir = out;
});

test('the audit report opens in headless Chromium with no errors, no requests and every image decoded', { skip: chromiumSkip }, async () => {
  assert.ok(reportDir, 'the audit test above wrote a report');
  const out = reportDir!;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('request', (r) => !r.url().startsWith('file:') && !r.url().startsWith('data:') && requests.push(r.url()));
    await page.goto('file://' + join(out, 'index.html'));
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
    const broken = await page.evaluate(() => [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).length);
    assert.equal(broken, 0, 'every image decodes');
    assert.equal(await page.locator('section').count(), AUDIT_TEST_IDS.length);
  } finally {
    await browser.close();
  }
});

test('regionMasks reads a box or a mask file, and names the expected shapes when a mask does not fit', async () => {
  const { regionMasks } = await import('./sections/region.js');
  const rows = Int32Array.from([2, 0]);
  const b = regionMasks('box:1,2,3,1', rows, 3, [8, 8]);
  assert.deepEqual(b.masks.shape, [2, 8, 8]);
  assert.deepEqual(Array.from(b.masks.data.slice(16, 24)), [0, 1, 1, 1, 0, 0, 0, 0]);
  assert.equal(b.masks.data.reduce((a, v) => a + v, 0), 6);
  assert.throws(() => regionMasks('box:6,0,3,1', rows, 3, [8, 8]), /must lie inside the 8×8/);
  const dir = mkdtempSync(join(tmpdir(), 'candor-region-'));
  const { writeNpyFileSync } = await import('../io/files.js');
  const per = new Uint8Array(3 * 64);
  per[2 * 64 + 5] = 1;
  writeNpyFileSync(join(dir, 'per.npy'), { dtype: 'uint8', shape: [3, 8, 8], data: per });
  const m = regionMasks(join(dir, 'per.npy'), rows, 3, [8, 8]);
  assert.equal(m.masks.data[5], 1, 'sample 0 is test row 2');
  assert.equal(m.masks.data.reduce((a, v) => a + v, 0), 1);
  writeNpyFileSync(join(dir, 'bad.npy'), { dtype: 'uint8', shape: [4, 4], data: new Uint8Array(16) });
  assert.throws(() => regionMasks(join(dir, 'bad.npy'), rows, 3, [8, 8]), /expected \[8, 8\].*or \[3, 8, 8\]/);
  assert.throws(() => regionMasks('circle:3', rows, 3, [8, 8]), /box:x,y,w,h, a \.npy mask or 'masks'/);
});
