/**
 * The audit of a 3-D model (issue 15, part 5): a small 3-D CNN on seeded CT-like volumes with planted
 * nodules (`candor synth-volumes`), every test run end to end; regions and figures on volumes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAudit } from './run.js';
import { AUDIT_TEST_IDS } from './tests.js';
import { regionMasks } from './sections/region.js';
import { mapsGrid, volumeGridRows } from './figures.js';
import { buildArchitecture } from '../train/arch/index.js';
import { serializeModel } from '../onnx/proto.js';
import { synthCommand } from '../cli/synth.js';
import { parseNpy } from '../io/npy.js';
import { writeNpzFileSync } from '../io/files.js';
import { Tensor } from '../tensor/tensor.js';
import type { Affine } from '../io/nifti.js';
import { lesionVolumes, windowToUint8 } from '../data/lesion-volumes.js';
import { loadImageCollection } from '../data/image-folder.js';

async function lesionData(dir: string, count: number, size: number): Promise<string> {
  const path = join(dir, `lesions${size}.npz`);
  const log = console.log;
  console.log = () => {};
  try {
    await synthCommand(['--out', path, '--count', String(count), '--size', String(size), '--seed', '0']);
  } finally {
    console.log = log;
  }
  return path;
}

test('regionMasks on volumes: a 3-D box (x along the last axis, z the first), a mask per test volume, and the data’s own masks resampled', () => {
  const rows = Int32Array.from([1]);
  const b = regionMasks('box:1,2,3,2,1,1', rows, 2, [4, 4, 4]);
  assert.deepEqual(b.masks.shape, [1, 4, 4, 4]);
  const on = [...b.masks.data.keys()].filter((p) => b.masks.data[p]);
  assert.deepEqual(on, [3 * 16 + 2 * 4 + 1, 3 * 16 + 2 * 4 + 2], 'z 3, y 2, x 1..2');
  assert.throws(() => regionMasks('box:1,2,3,1', rows, 2, [4, 4, 4]), /volumes is box:x,y,z,w,h,d/);
  assert.throws(() => regionMasks('box:0,0,3,1,1,2', rows, 2, [4, 4, 4]), /inside the 4×4×4/);

  const dir = mkdtempSync(join(tmpdir(), 'candor-vregion-'));
  const masks = new Uint8Array(2 * 8 ** 3);
  // test volume 1: a 2-voxel cube at (4..5)³ on an 8³ grid → voxel 2 of a 4³ grid after resampling
  for (let z = 4; z < 6; z++) for (let y = 4; y < 6; y++) for (let x = 4; x < 6; x++) masks[8 ** 3 + z * 64 + y * 8 + x] = 1;
  const npz = join(dir, 'd.npz');
  const img = new Tensor(new Uint8Array(2 * 8 ** 3), [2, 8, 8, 8]);
  writeNpzFileSync(npz, { test_images: img, test_labels: new Tensor(new Uint8Array(2), [2, 1]), test_masks: new Tensor(masks, [2, 8, 8, 8]) });
  const m = regionMasks('masks', rows, 2, [4, 4, 4], { path: npz, whole: false });
  assert.deepEqual([...m.masks.data.keys()].filter((p) => m.masks.data[p]), [2 * 16 + 2 * 4 + 2]);
  assert.match(m.description, /test_masks/);
  assert.throws(() => regionMasks('masks', rows, 3, [4, 4, 4], { path: npz, whole: false }), /hold 2 masks for 3 audited images/);
  writeNpzFileSync(join(dir, 'nomask.npz'), { test_images: img, test_labels: new Tensor(new Uint8Array(2), [2, 1]) });
  assert.throws(() => regionMasks('masks', rows, 2, [4, 4, 4], { path: join(dir, 'nomask.npz'), whole: false }), /needs test_masks/);
  writeFileSync(join(dir, 'x.csv'), 'a,b\n');
  assert.throws(() => regionMasks('masks', rows, 2, [4, 4, 4], { path: join(dir, 'x.csv'), whole: false }), /masks\.csv not found/);
});

test('volume figures: four rows per volume (three planes and the MIP), each panel cut through its own map’s maximum', () => {
  const s = 6;
  const images = new Tensor(new Float32Array(s ** 3).fill(-1), [1, 1, s, s, s]);
  const a = new Float32Array(s ** 3);
  const b = new Float32Array(s ** 3);
  a[1 * 36 + 2 * 6 + 3] = 1; // maximum at (1, 2, 3)
  b[4 * 36 + 0 * 6 + 5] = 1; // maximum at (4, 0, 5)
  const cells = [
    { maps: new Tensor(a, [1, s, s, s]), signed: false, title: ['A'] },
    { maps: new Tensor(b, [1, s, s, s]), signed: false, title: ['B'] },
  ];
  const rows = volumeGridRows(images, [{ index: 0, title: ['TRUE X'], cells }]);
  assert.equal(rows.length, 4);
  assert.deepEqual(rows.map((r) => r.panels[0]!.title!.at(-1)), ['AXIS 0 = 1', 'AXIS 1 = 2', 'AXIS 2 = 3', 'MIP along axis 0']);
  assert.deepEqual(rows.map((r) => r.panels[1]!.title!.at(-1)), ['AXIS 0 = 4', 'AXIS 1 = 0', 'AXIS 2 = 5', 'MIP along axis 0']);
  for (const r of rows) for (const p of r.panels) assert.ok(p.image, 'each panel has its own plane of the volume beneath');
  // with the data's affine (synth-volumes' array axes z, y, x): anatomical planes, radiological, edges labelled
  const affine = [[0, 0, -1.5, 0], [0, -1.5, 0, 0], [2.5, 0, 0, 0], [0, 0, 0, 1]];
  const anat = volumeGridRows(images, [{ index: 0, title: ['TRUE X'], cells }], [affine]);
  assert.deepEqual(anat.map((r) => r.panels[0]!.title!.at(-1)), ['AXIAL 1', 'CORONAL 2', 'SAGITTAL 3', 'MIP AXIAL']);
  assert.deepEqual(anat[0]!.title!.slice(-1), ['LEFT R TOP A'], 'axial: patient right on the left, anterior up');
  const svg = mapsGrid(images, [{ index: 0, title: ['TRUE X'], cells }]);
  assert.match(svg, /^<svg /);
  assert.match(svg, /<text [^>]*>MIP( along)?/, 'the plane titles are text');
});

test('a small audit of a 3-D CNN on planted-lesion volumes runs every test and writes a report with volume figures', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-vaudit-'));
  const data = await lesionData(dir, 60, 12);
  const model = join(dir, 'cnn3d.onnx');
  writeFileSync(model, serializeModel(buildArchitecture('small_cnn_3d', { inChannels: 1, numClasses: 2, inputSize: 12, seed: 3, dropout: 'inference' })));
  const out = join(dir, 'report');
  const r = await runAudit({
    model,
    data,
    methods: ['saliency', 'occlusion', 'gradcam'],
    n: 4,
    nRandomization: 3,
    nStability: 3,
    shortcut: 'corner:16',
    region: 'masks',
    masks: 'masks',
    epochs: { randomLabels: 1, shortcut: 1 },
    tests: [...AUDIT_TEST_IDS],
    seed: 0,
    quiet: true,
    out,
    force: false,
  });
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  for (const id of AUDIT_TEST_IDS) assert.ok(!results.sections[id].notRun, `${id} ran: ${results.sections[id].notRun}`);
  assert.deepEqual(results.model.size, 12);
  assert.deepEqual(parseNpy(readFileSync(join(out, 'maps', 'audited_model_occlusion.npy'))).shape, [4, 12, 12, 12]);
  assert.deepEqual(parseNpy(readFileSync(join(out, 'maps', 'shortcut_marker_mask.npy'))).shape, [4, 12, 12, 12]);
  // a 3-D marker: corner:16 at 12³ is a cube of 3 voxels (27 of 1728 voxels per marked volume)
  assert.ok(Math.abs(results.sections.shortcut.markerArea - 27 / 1728) < 1e-9, `marker area ${results.sections.shortcut.markerArea}`);
  assert.match(results.sections.region.region, /test_masks/);
  assert.ok(results.sections.region.area > 0 && results.sections.region.area < 0.1);
  // the localisation benchmark on the planted nodules: the negatives' empty masks are left out
  const loc = results.sections.localisation;
  assert.equal(loc.scored + loc.empty, 4);
  assert.ok(loc.scored >= 1 && loc.chanceAuprc.mean > 0 && loc.chanceAuprc.mean < 0.1);
  assert.deepEqual(loc.methods.map((m: { method: string }) => m.method), ['saliency', 'occlusion', 'gradcam', 'random', 'sobel', 'constant']);
  assert.deepEqual(results.sections.faithfulness.road, { notRun: 'volumes: no 3-D noisy linear imputation' });
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.match(html, /ROAD \(Rong et al\. 2022\) was not run/);
  const text = html.replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, '');
  assert.equal(text.match(/.{0,200}(NaN|undefined|\[object Object\]).{0,80}/)?.[0], undefined);
  // One untrained-then-briefly-trained CNN cannot pass the sanity preconditions: they must say so, not pass or fail.
  const byId = new Map(r.checklist.map((c) => [c.id, c]));
  assert.equal(byId.get('shortcut-revealed')!.verdict === 'not meaningful', byId.get('shortcut-learned')!.verdict === 'not meaningful');
  for (const c of r.checklist.filter((c) => c.verdict !== 'question' && c.verdict !== 'not run')) assert.ok(c.value, `${c.id} states its value`);
});

test('a CSV of NIfTI volumes (synth-volumes --nifti) reads one volume per file in the chosen voxel order, equal to the generator up to 8-bit rounding; the audit takes it with --region masks from masks.csv', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-vcsv-'));
  const nifti = join(dir, 'nifti');
  const log = console.log;
  console.log = () => {};
  try {
    await synthCommand(['--out', join(dir, 'l.npz'), '--count', '40', '--size', '12', '--seed', '0', '--nifti', nifti]);
  } finally {
    console.log = log;
  }
  const g = lesionVolumes({ count: 40, size: [12, 12, 12], seed: 0 });
  const bytes = windowToUint8(g.volumes);
  const vox = 12 ** 3;
  const read = (voxelOrder: 'ijk' | 'kji') => loadImageCollection(nifti, { csv: 'labels.csv', size: 12, volumes: true, voxelOrder, window: [-600, 1500] }).dataset;
  const kji = read('kji');
  assert.deepEqual(kji.images.shape, [40, 1, 12, 12, 12]);
  let worst = 0;
  let worstIjk = 0;
  const ijk = read('ijk');
  kji.origins!.forEach((o, row) => {
    const i = Number(/vol_(\d+)/.exec(o)![1]);
    for (let q = 0; q < vox; q++) {
      const want = bytes[i * vox + q]! / 255;
      worst = Math.max(worst, Math.abs(kji.images.data[row * vox + q]! - want));
      worstIjk = Math.max(worstIjk, Math.abs(ijk.images.data[row * vox + q]! - want));
    }
  });
  assert.ok(worst <= 0.5 / 255 + 1e-6, `kji volumes differ from the generator by ${worst}`);
  assert.ok(worstIjk > 0.1, 'ijk (x first) is the transposed volume: the order matters');

  const model = join(dir, 'cnn3d.onnx');
  writeFileSync(model, serializeModel(buildArchitecture('small_cnn_3d', { inChannels: 1, numClasses: 2, inputShape3d: [12, 12, 12], seed: 3, dropout: 'inference' })));
  const out = join(dir, 'report');
  await runAudit({ model, data: join(nifti, 'labels.csv'), voxelOrder: 'kji', window: [-600, 1500], methods: ['saliency'], n: 6, nRandomization: 2, nStability: 2, shortcut: 'corner:16', region: 'masks', epochs: { randomLabels: 1, shortcut: 1 }, tests: ['overview', 'region'], seed: 0, quiet: true, out, force: false });
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.match(results.sections.region.region, /masks\.csv/);
  // the region is the lesion masks of the sampled volumes: their share of voxels is the generator's
  const sampled = results.sample.images.map((s: { origin: string }) => Number(/vol_(\d+)/.exec(s.origin)![1]));
  let lesion = 0;
  let withLesion = 0;
  for (const i of sampled) {
    let c = 0;
    for (let q = 0; q < vox; q++) c += g.masks[i * vox + q]!;
    lesion += c;
    if (c) withLesion++;
  }
  assert.ok(Math.abs(results.sections.region.area - lesion / (withLesion * vox)) < 1e-9, `region area ${results.sections.region.area} vs ${lesion / (withLesion * vox)}`);
});

test('bad volumes in a CSV are clear errors naming the row: a 4-D NIfTI without #t=N, a volume one voxel thin, a PNG, a slice reference', async () => {
  const { niftiBytes } = await import('../io/nifti-write.js');
  const { encodePng } = await import('../io/image.js');
  const dir = mkdtempSync(join(tmpdir(), 'candor-vbad-'));
  const eye: Affine = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
  const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i % 7);
  writeFileSync(join(dir, 'fmri.nii'), niftiBytes(ramp(4 * 4 * 4 * 3), [4, 4, 4, 3], eye));
  writeFileSync(join(dir, 'thin.nii'), niftiBytes(ramp(4 * 4), [4, 4, 1], eye));
  writeFileSync(join(dir, 'ok.nii'), niftiBytes(ramp(64), [4, 4, 4], eye));
  writeFileSync(join(dir, 'x.png'), encodePng(new Tensor(new Float32Array(16), [1, 4, 4])));
  const read = (rows: string[]) => {
    writeFileSync(join(dir, 'l.csv'), ['file,label', ...rows].join('\n'));
    return loadImageCollection(dir, { csv: 'l.csv', size: 4, volumes: true });
  };
  assert.throws(() => read(['ok.nii,a', 'fmri.nii,b']), /l\.csv:3: fmri\.nii: a 4-D NIfTI with 3 volumes .*fmri\.nii#t=N \(0\.\.2\)/);
  assert.deepEqual(read(['ok.nii,a', 'fmri.nii#t=2,b']).dataset.images.shape, [2, 1, 4, 4, 4]);
  assert.throws(() => read(['ok.nii,a', 'thin.nii,b']), /l\.csv:3: thin\.nii: a volume of 4×4×1 voxels is too small for a 3-D model/);
  assert.throws(() => read(['ok.nii,a', 'x.png,b']), /l\.csv:3: x\.png: a 3-D model reads NIfTI volumes/);
  assert.throws(() => read(['ok.nii,a', 'ok.nii#slice=1,b']), /l\.csv:3: ok\.nii#slice=1: a slice reference, but a 3-D model takes the whole volume/);
});

// The bar of issue 15 (the full 32³ audit is in the closing note of session 7): an r3d_18's shortcut model
// trained on planted-lesion volumes with a cube marker (corner:8 = 4³ voxels, 0.2% of a 32³ volume), and occlusion
// and Integrated Gradients putting at least 5× the marker's share of their attribution on it. At 16³ the same
// cube is 1.6% of the volume and the 5× bar needs 8% of the attribution: IG put 3% there (2.0×), occlusion 6%
// (3.8×), so the test keeps the audit's default marker at 32³. About 15 minutes on 2 cores: CANDOR_SLOW=1.
const slow = process.env.CANDOR_SLOW ? false : 'set CANDOR_SLOW=1 (about 15 minutes)';
test('a 3-D shortcut (a cube marker) is learned by an r3d_18 and revealed by occlusion and Integrated Gradients', { skip: slow }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-vshortcut-'));
  const data = await lesionData(dir, 300, 32); // the note's data (seed 0)
  const model = join(dir, 'r3d.onnx');
  writeFileSync(model, serializeModel(buildArchitecture('r3d_18', { inChannels: 1, numClasses: 2, inputShape3d: [32, 32, 32], seed: 1, dropout: 'inference' })));
  // a card as candor train writes it for this model: the sanity models are rebuilt as r3d_18 and trained with its batches of 16
  writeFileSync(join(dir, 'r3d.json'), JSON.stringify({ architecture: 'r3d_18', input: { channels: 1, size: 32, spatial: [32, 32, 32], normalization: '[-1, 1]' }, classes: ['0', '1'], training: { batchSize: 16, optimizer: 'Adam', lr: 0.001, weightDecay: 0 } }));
  const r = await runAudit({ model, data, methods: ['ig', 'occlusion'], n: 4, nRandomization: 2, nStability: 2, shortcut: 'corner:8', epochs: { randomLabels: 1, shortcut: 4 }, trainLimit: 60, tests: ['shortcut'], seed: 0, quiet: true, out: join(dir, 'report'), force: false });
  const byId = new Map(r.checklist.map((c) => [c.id, c]));
  assert.equal(byId.get('shortcut-learned')!.verdict, 'pass', byId.get('shortcut-learned')!.value ?? '');
  const rows = JSON.parse(readFileSync(join(dir, 'report', 'results.json'), 'utf8')).sections.shortcut.attribution as { method: string; shows: boolean; enrichment: number }[];
  console.log(`# shortcut on 32³ volumes: ${rows.map((x) => `${x.method} ${x.enrichment.toFixed(1)}× the marker's area`).join(', ')}`);
  for (const m of ['ig', 'occlusion']) assert.ok(rows.find((x) => x.method === m)!.shows, `${m} does not show the marker: ${JSON.stringify(rows)}`);
});
