/**
 * The workbench with a 3-D model, in real headless Chromium (issue 15, part 6): a NIfTI volume and a DICOM
 * series open as volumes, shown as three linked planes with sliders and crosshairs; the browser's
 * prediction and maps equal the Node engine's on the same volume (the CLI's reading, data/volume.ts); a
 * map exported as NIfTI lands on the source grid with the source's affine. Skipped without Chromium.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../cli/serve.js';
import { CHROMIUM, openWorkbench, pageIdle, relError, type WorkbenchPage } from '../testing/workbench-page.js';
import { loadModel } from '../runtime/node.js';
import { explain } from '../explain/registry.js';
import { readNifti } from '../io/nifti.js';
import { mapToSourceGrid } from '../data/volume.js';
import { PreprocessLog } from '../data/preprocessing.js';
import { prepareVolumeInput, readSeries } from './volume-input.js';
import { softmaxRow } from './preprocess.js';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); the browser tests need it`;
const ARTIFACTS = join(PACKAGE_ROOT, 'test-artifacts');
const MODEL = join(PACKAGE_ROOT, 'src', 'explain', 'fixtures', 'r3d_small.onnx');
const NIFTI = join(PACKAGE_ROOT, 'src', 'io', 'fixtures', 'nifti', 'anatomical.nii');
const SERIES = join(PACKAGE_ROOT, 'src', 'io', 'fixtures', 'dicom-series', 'ct');
const SPEC = { channels: 2, depth: 16, height: 32, width: 32, scale: 'pm1' as const, resize: 'stretch' as const };

let wb: WorkbenchPage;
let page: Page;
let pageErrors: string[];
let external: string[];


const idle = () => pageIdle(page);

const cursor = () => page.evaluate(() => window.candor.state.cursor!.slice());
const planePixels = (plane: string) => page.locator(`canvas[data-plane="${plane}"]`).evaluate((c: HTMLCanvasElement) => c.toDataURL());

before(async () => {
  if (skip) return;
  wb = await openWorkbench();
  ({ page, pageErrors, external } = wb);
});

after(async () => {
  await wb?.close();
});

test('a NIfTI volume with a 3-D model: three linked planes, the CLI engine’s prediction and maps, and a NIfTI export with the source affine', { skip }, async () => {
  await page.setInputFiles('#model-file', MODEL);
  await idle();
  assert.match((await page.textContent('#model-info'))!, /2×16×32×32 \(volumes/);
  await page.setInputFiles('#image-files', NIFTI);
  await idle();
  assert.equal(await page.locator('#grid canvas[data-plane]').count(), 3, 'three planes');
  const planes = await page.locator('#grid canvas[data-plane]').evaluateAll((cs) => cs.map((c) => (c as HTMLElement).dataset.plane));
  assert.deepEqual(planes, ['AXIAL', 'CORONAL', 'SAGITTAL'], 'anatomical planes from the affine');
  assert.match((await page.textContent('#volume-info'))!, /radiological convention/);
  assert.ok(await page.locator('#slice').isHidden(), 'no NIfTI slice chooser: the model takes the whole volume');

  // Node: the file read as `candor explain` reads it, onnxruntime-node.
  const vol = readNifti(readFileSync(NIFTI), NIFTI);
  const v = prepareVolumeInput(vol, SPEC, new PreprocessLog());
  const model = loadModel(MODEL, { threads: 1 });
  const logits = await model.forward(v.x);
  const probs = await page.evaluate(() => window.candor.state.predictions.original!.probabilities);
  assert.ok(relError(probs, softmaxRow(logits.data)) < 1e-4, `probabilities differ from Node: ${probs} vs ${softmaxRow(logits.data)}`);

  await page.locator('#methods input').evaluateAll((inputs) => inputs.forEach((i) => ((i as HTMLInputElement).checked = ['saliency', 'gradcam'].includes((i as HTMLInputElement).value))));
  await page.click('#run');
  await idle();
  const maps = await page.evaluate(() => [...window.candor.state.results.values()].map((r) => ({ method: r.method, depth: r.depth, map: Array.from(r.map) })));
  for (const method of ['saliency', 'gradcam']) {
    const b = maps.find((r) => r.method === method)!;
    assert.ok(b, `${method} computed`);
    assert.equal(b.depth, 16);
    const n = await explain(model, v.x, method, 'pred');
    const e = relError(b.map, n.map.data);
    console.log(`# ${method} on a volume: max |browser − node| / max |node| ${e.toExponential(2)}`);
    assert.ok(e < 1e-4, `${method}: browser and Node differ by ${e}`);
  }

  // Linked views: a slider moves one plane; a click on a plane moves the other two.
  const c0 = await cursor();
  const coronalBefore = await planePixels('CORONAL');
  const axialBefore = await planePixels('AXIAL');
  await page.locator('input[data-plane="AXIAL"]').fill(String((c0[2 - 2]! + 3) % 16)); // the axial plane's fixed axis is S–I
  const c1 = await cursor();
  assert.notDeepEqual(c1, c0, 'the axial slider moved the cursor');
  assert.notEqual(await planePixels('AXIAL'), axialBefore, 'the axial plane changed');
  assert.notEqual(await planePixels('CORONAL'), coronalBefore, 'the crosshair moved on the coronal plane');
  const box = (await page.locator('canvas[data-plane="AXIAL"]').boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.2, box.y + box.height * 0.7);
  const c2 = await cursor();
  assert.equal(c2.filter((x, a) => x !== c1[a]).length >= 1, true, 'a click moved the cursor within the axial plane');
  await page.click('#volume-max');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'workbench-volume.png'), fullPage: true });
  assert.ok((await page.textContent('#volume-info'))!.includes('cursor at voxel'));

  // The shown map as NIfTI: the source grid and affine, the map resampled back as the CLI does.
  const shown = await page.evaluate(() => { const s = window.candor.state; const r = [...s.results.values()][0]!; return { method: r.method, map: Array.from(r.map) }; });
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#volume-nifti')]);
  const nii = readNifti(readFileSync((await dl.path())!), 'exported.nii.gz');
  assert.deepEqual(nii.dims, vol.dims.slice(0, 3));
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) assert.ok(Math.abs(nii.affine[r]![c]! - vol.affine[r]![c]!) < 1e-4, `affine[${r}][${c}] ${nii.affine[r]![c]} vs ${vol.affine[r]![c]}`);
  const expected = mapToSourceGrid(Float32Array.from(shown.map), [16, 32, 32], v.sample);
  assert.ok(relError(nii.volume.data, expected) < 1e-6, 'the exported map is the map on the source grid');
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(external, []);
  await model.dispose();
});

test('a DICOM series opened together is one volume for a 3-D model, read as the CLI reads the folder', { skip }, async () => {
  const files = readdirSync(SERIES).map((f) => join(SERIES, f));
  await page.setInputFiles('#image-files', files);
  await idle();
  const img = await page.evaluate(() => window.candor.state.images.at(-1)!);
  assert.equal(img.kind, 'series');
  assert.equal(img.series!.files, files.length);
  assert.equal(await page.locator('#grid canvas[data-plane]').count(), 3);
  const s = readSeries(files.map((f) => ({ bytes: readFileSync(f), name: f })), 'ct');
  const v = prepareVolumeInput(s.volume, SPEC, new PreprocessLog(), s.fileWindow, undefined, "the series' own window");
  const model = loadModel(MODEL, { threads: 1 });
  const logits = await model.forward(v.x);
  const probs = await page.evaluate(() => window.candor.state.predictions.original!.probabilities);
  assert.ok(relError(probs, softmaxRow(logits.data)) < 1e-4, `probabilities differ from Node: ${probs} vs ${softmaxRow(logits.data)}`);
  await model.dispose();
  assert.deepEqual(pageErrors, []);
  // a 2-D image with the 3-D model is a clear error naming the file and what to open instead
  const sample = page.locator('#samples button').first();
  const name = await sample.getAttribute('title');
  await sample.click();
  await page.evaluate(() => window.candor.idle());
  assert.equal(await page.locator('#status').getAttribute('class'), 'error');
  const msg = (await page.textContent('#status'))!;
  assert.ok(msg.includes(`${name} is a 2-D image`) && /open a NIfTI volume, or the files of a DICOM series together/.test(msg), msg);
});
