/**
 * synth-volumes --slices, the 2-D counterpart of the planted-lesion volumes: each volume's axial slice through its
 * nodule (negatives at a nodule's depth), with its mask — and the localisation benchmark on it end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthCommand, slicePlanes } from './synth.js';
import { readNpzFileSync } from '../io/files.js';
import { lesionVolumes, windowToUint8 } from '../data/lesion-volumes.js';
import { buildArchitecture } from '../train/arch/index.js';
import { serializeModel } from '../onnx/proto.js';
import { runAudit } from '../audit/run.js';

async function quiet(f: () => Promise<void>): Promise<void> {
  const log = console.log;
  console.log = () => {};
  try {
    await f();
  } finally {
    console.log = log;
  }
}

test('synth-volumes --slices writes each volume’s slice through its nodule with its mask; the audit benchmarks localisation on it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-slices-'));
  const out = join(dir, 'slices.npz');
  await quiet(() => synthCommand(['--out', out, '--count', '40', '--size', '16', '--seed', '2', '--slices']));
  const npz = readNpzFileSync(out);
  assert.ok(!npz.has('affine'), 'no 3-D affine for 2-D images');
  const g = lesionVolumes({ count: 40, size: [16, 16, 16], seed: 2 });
  const planes = slicePlanes(g, 2);
  const bytes = windowToUint8(g.volumes);
  // rebuild the test split's rows as synth does (stratified, in order) and compare slice for slice
  const test = npz.get('test_images')!;
  const masks = npz.get('test_masks')!;
  const labels = Array.from(npz.get('test_labels')!.data as Uint8Array);
  assert.deepEqual(test.shape.slice(1), [16, 16]);
  assert.deepEqual(masks.shape, test.shape);
  const rows: number[] = [];
  for (const cls of [0, 1]) {
    const idx = [...g.labels.keys()].filter((i) => g.labels[i] === cls);
    idx.forEach((i, k) => (k >= Math.round(idx.length * 0.85) ? rows.push(i) : undefined));
  }
  rows.sort((a, b) => a - b);
  rows.forEach((i, r) => {
    const p = planes[i]!;
    assert.equal(labels[r], g.labels[i]);
    assert.deepEqual(Array.from(test.data.subarray(r * 256, (r + 1) * 256)), Array.from(bytes.subarray((i * 16 + p) * 256, (i * 16 + p + 1) * 256)));
    const area = (masks.data.subarray(r * 256, (r + 1) * 256) as Uint8Array).reduce((a, b) => a + b, 0);
    if (g.labels[i]) assert.ok(area > 0, `volume ${i}: its nodule is in the slice`);
    else assert.equal(area, 0);
  });
  const positiveDepths = new Set(g.lesions.filter((l) => l).map((l) => Math.round(l!.centre[0])));
  g.lesions.forEach((l, i) => !l && assert.ok(positiveDepths.has(planes[i]!), 'a negative is cut at a nodule’s depth'));
  await assert.rejects(synthCommand(['--out', join(dir, 'x.npz'), '--slices', '--nifti', dir]), /choose one/);

  const model = join(dir, 'cnn.onnx');
  writeFileSync(model, serializeModel(buildArchitecture('small_cnn', { inChannels: 1, numClasses: 2, inputSize: 16, seed: 3, dropout: 'inference' })));
  const report = join(dir, 'report');
  await runAudit({ model, data: out, scale: 'pm1', methods: ['saliency', 'gradcam'], n: 6, nRandomization: 2, nStability: 2, shortcut: 'corner:8', masks: 'masks', epochs: { randomLabels: 1, shortcut: 1 }, tests: ['localisation'], seed: 0, quiet: true, out: report, force: false });
  const loc = JSON.parse(readFileSync(join(report, 'results.json'), 'utf8')).sections.localisation;
  assert.match(loc.masks, /test_masks/);
  assert.equal(loc.scored + loc.empty, 6);
  assert.ok(loc.scored >= 1);
});
