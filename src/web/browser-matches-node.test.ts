/**
 * End to end in real headless Chromium (playwright-core, Debian's /usr/bin/chromium): `candor serve` on
 * an ephemeral port, the workbench page explaining the bundled baseline on a bundled sample image, and
 * the maps it computed (onnxruntime-web, wasm, in a Web Worker) compared with the same engine in Node
 * (onnxruntime-node). Screenshots go to test-artifacts/. Skipped, with the reason, without Chromium.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../cli/serve.js';
import type { RunningServer } from './server/app.js';
import { CHROMIUM, openWorkbench, pageIdle, relError, type WorkbenchPage } from '../testing/workbench-page.js';
import { loadModel } from '../runtime/node.js';
import { explain } from '../explain/registry.js';
import { parameterGroups, randomizeGroups } from '../audit/randomize.js';
import { METRICS, WORKBENCH_METRICS, computeMetric } from '../audit/metric-suite.js';
import { decodePng, encodePng } from '../io/image.js';
import { readNpz } from '../io/npz.js';
import { decodeFile, windowFrame } from './decode.js';
import { MedicalReader } from '../data/medical-folder.js';
import type { Model } from '../runtime/model.js';
import { Tensor } from '../tensor/tensor.js';
import { prepareInput, softmaxRow, type InputSpec } from './preprocess.js';
import type { MapResult } from './protocol.js';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); the browser tests need it`;
const ARTIFACTS = join(PACKAGE_ROOT, 'test-artifacts');
const MODEL = join(PACKAGE_ROOT, 'models', 'baseline', 'small_cnn_pneumoniamnist64.onnx');
const SPEC: InputSpec = { channels: 1, height: 64, width: 64, scale: 'pm1', resize: 'stretch' };
const DICOM = join(PACKAGE_ROOT, 'src', 'io', 'fixtures', 'dicom');
const NIFTI = join(PACKAGE_ROOT, 'src', 'io', 'fixtures', 'nifti');

let wb: WorkbenchPage;
let srv: RunningServer;
let page: Page;
let external: string[];
let pageErrors: string[];


async function results(): Promise<(Omit<MapResult, 'map'> & { map: number[] })[]> {
  return page.evaluate(() => [...window.candor.state.results.values()].map((r) => ({ ...r, map: Array.from(r.map) })));
}

const idle = () => pageIdle(page);

before(async () => {
  if (skip) return;
  wb = await openWorkbench();
  ({ srv, page, pageErrors, external } = wb);
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await wb?.close();
});

test('the page explains the bundled baseline like the CLI engine does (Grad-CAM, Integrated Gradients, randomization)', { skip }, async () => {
  await page.click('#use-baseline');
  await idle();
  // the default CAM layer by its module path, as PyTorch names it (not the ONNX tensor name)
  assert.match((await page.locator('#layer option[value="auto"]').textContent()) ?? '', /^auto \([\w.]+\)$/);
  // candor serve makes the page cross-origin isolated, so onnxruntime-web runs threaded wasm, and the page says so.
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const engine = await page.locator('#backend').textContent();
  const threads = Number(/wasm, (\d+) threads?\)/.exec(engine ?? '')?.[1]);
  console.log(`# ${engine} (${cores} cores)`);
  assert.equal(threads, Math.min(4, cores), `the engine line: ${engine}`);
  if (cores >= 2) assert.ok(threads >= 2, `wasm threads: ${threads}`);
  const sample = page.locator('#samples button').first();
  const sampleUrl = await sample.locator('img').getAttribute('src');
  await sample.click();
  await idle();

  // Node: the same PNG, the same preprocessing, onnxruntime-node.
  const png = new Uint8Array(await (await fetch(new URL(sampleUrl!, srv.url))).arrayBuffer());
  const { x } = prepareInput(decodePng(png).tensor, SPEC);
  const model = loadModel(MODEL, { threads: 1 });
  const nodeLogits = await model.forward(x);
  const probs = await page.evaluate(() => window.candor.state.predictions.original!.probabilities);
  assert.ok(relError(probs, softmaxRow(nodeLogits.data)) < 1e-4, 'class probabilities differ from Node');

  const t0 = Date.now();
  await page.click('#run');
  await page.locator('canvas[data-method="gradcam"][data-variant="original"]').waitFor();
  const gradcamShownMs = Date.now() - t0;
  // Integrated Gradients is still running in the worker: the page must keep painting frames.
  const f0 = Date.now();
  const stillBusy = await page.evaluate(() => new Promise<boolean>((r) => requestAnimationFrame(() => r(document.body.dataset.state === 'busy'))));
  const frameMs = Date.now() - f0;
  await idle();
  const shown = await page.evaluate(() => window.candor.state.shownAfterMs);
  console.log(`# Grad-CAM on screen ${gradcamShownMs} ms after the click (page-measured ${shown['original/gradcam']?.toFixed(0)} ms, the gradient graph was compiled in the background when the model loaded)`);
  assert.ok(gradcamShownMs < 10_000, `Grad-CAM took ${gradcamShownMs} ms to show`);
  console.log(`# a frame painted ${frameMs} ms after asking, while the worker was ${stillBusy ? 'busy' : 'already idle'}`);
  assert.ok(frameMs < 1000, `the page froze for ${frameMs} ms during a computation`);

  const browser = await results();
  const errors: string[] = [];
  for (const method of ['gradcam', 'ig']) {
    const b = browser.find((r) => r.method === method && r.variant === 'original');
    assert.ok(b, `${method} is missing from the page's results`);
    const n = await explain(model, x, method, 'pred');
    assert.deepEqual([b.height, b.width], [64, 64]);
    assert.equal(b.target, n.targets[0]);
    const e = relError(b.map, n.map.data);
    errors.push(`${method} ${e.toExponential(2)} (${b.ms.toFixed(0)} ms in the worker)`);
    assert.ok(e < 1e-4, `${method}: browser and Node maps differ by ${e} of the map's scale`);
  }
  console.log(`# max |browser − node| / max |node|: ${errors.join(', ')}`);

  // Export of the maps (.npz) holds exactly the maps shown.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-npz')]);
  const npz = readNpz(new Uint8Array(readFileSync((await dl.path())!)));
  const gc = browser.find((r) => r.method === 'gradcam')!;
  assert.deepEqual(npz.get('original_gradcam')!.shape, [1, 64, 64]);
  assert.deepEqual(Array.from(npz.get('original_gradcam')!.data as Float32Array), gc.map);

  // Randomization check: same re-initialised weights (seed 0) as src/audit/randomize.ts gives Node.
  await page.uncheck('#methods input[value="ig"]'); // Grad-CAM is enough here; keeps the test short
  await page.click('#sanity');
  await idle();
  const rnd = (await results()).find((r) => r.method === 'gradcam' && r.variant === 'randomized');
  assert.ok(rnd, 'no randomized Grad-CAM');
  assert.equal(rnd.target, gc.target, 'the randomized model must be explained for the same class');
  const randomized = model.derive(randomizeGroups(model.ir, parameterGroups(model.ir), 0), 'randomized');
  const nr = await explain(randomized, x, 'gradcam', gc.target);
  assert.ok(relError(rnd.map, nr.map.data) < 1e-4, 'randomized Grad-CAM differs from Node');

  // Rows say what each model predicts and how sure; the sample's true label shows; colorbars say what the ends mean.
  const labels = await page.locator('.rowlabel').allTextContents();
  assert.match(labels[0]!, /^Trained model: predicts \S+ \(p = [01]\.\d\d\)$/);
  assert.match(labels[1]!, /^Randomized weights \(sanity check\): predicts \S+ \(p = [01]\.\d\d\)$/);
  const truth = await sample.locator('.truth').textContent();
  assert.ok(truth && truth.length > 0, 'the sample thumbnail shows its true label');
  assert.equal(await page.locator('.gridrow figure figcaption').first().textContent(), `input (true: ${truth})`);
  const bars = await page.locator('figure.colorbar figcaption').allTextContents();
  assert.ok(bars.length >= 1 && bars.every((b) => /saturate \(P99\)/.test(b)), `colorbars: ${bars.join(' | ')}`);

  // Scores against the control maps: the same Quantus metrics as Node's, for Grad-CAM and each control.
  await page.click('#score');
  await idle();
  const table = await page.locator('table.scores').innerText();
  assert.match(table, /faithfulness/i);
  assert.match(table, /random \(control\)/);
  const nodeScores = async (name: string) => {
    const a = await explain(model, x, name, gc.target);
    const defs = METRICS.filter((d) => WORKBENCH_METRICS.includes(d.id));
    return Promise.all(defs.map(async (d) => (await computeMetric(d, { model, randomized: model, images: x, targets: a.targets, maps: a.map, explainOn: async (m, imgs, t) => (await explain(m, imgs, name, [...t])).map, seed: 0 }))[0]!));
  };
  const pageScores = await page.evaluate(() => {
    const rows = [...document.querySelectorAll('table.scores tr')].filter((r) => r.querySelectorAll('td').length);
    return rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent ?? ''));
  });
  for (const [col, name] of [[1, 'gradcam'], [2, 'random'], [3, 'sobel']] as const) {
    const want = await nodeScores(name);
    pageScores.forEach((row, k) => {
      const got = Number.parseFloat(row[col]!);
      if (!Number.isFinite(want[k]!)) return assert.match(row[col]!, /n\/a/);
      assert.ok(Math.abs(got - want[k]!) <= 0.002 * Math.max(1, Math.abs(want[k]!)), `${name}, ${row[0]}: page ${row[col]} vs Node ${want[k]}`);
    });
  }

  const [fig] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
  const figBytes = readFileSync((await fig.path())!);
  assert.deepEqual([...figBytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  // title, 2 rows (TITLE + PANEL + CAPTION + GAP each), then one block per colorbar (BAR + 48)
  assert.equal(figBytes.readUInt32BE(20), 20 + 12 + 2 * (20 + 192 + 30 + 12) + bars.length * (12 + 48), 'the exported figure holds the colorbars');
  writeFileSync(join(ARTIFACTS, 'workbench-figure.png'), figBytes);
  await page.screenshot({ path: join(ARTIFACTS, 'workbench-baseline.png'), fullPage: true });
  await model.dispose();
  await randomized.dispose();
});

test('rows kept for comparison: two images and two models side by side, on shared colour scales, in the exported figure', { skip }, async () => {
  // The first test left the baseline's Grad-CAM of the first sample, trained and randomized.
  const before = await results();
  assert.deepEqual(before.map((r) => `${r.variant}/${r.method}`).sort(), ['original/gradcam', 'original/ig', 'randomized/gradcam']);
  await page.click('#pin');
  assert.equal(await page.locator('.gridrow.pinned').count(), 2);
  const labels = await page.locator('.gridrow.pinned .rowlabel').allTextContents();
  assert.match(labels[0]!, /small_cnn_pneumoniamnist64\.onnx · \S+ \(true: \w+\) — Trained model: predicts/);
  assert.match(labels[1]!, /Randomized weights/);
  // another image, explained: the kept rows stay as they were, above it
  await page.locator('#samples button').nth(1).click();
  await idle();
  await page.click('#run');
  await idle();
  const kept = await page.evaluate(() => window.candor.state.pinned.map((p) => ({ label: p.label, maps: p.maps.map((m) => ({ method: m.method, map: Array.from(m.map) })) })));
  const keptGradcam = kept[0]!.maps.find((m) => m.method === 'gradcam')!.map;
  assert.deepEqual(keptGradcam, before.find((r) => r.variant === 'original' && r.method === 'gradcam')!.map, 'the kept map is the first image’s');
  const now = (await results()).find((r) => r.variant === 'original' && r.method === 'gradcam')!;
  assert.notDeepEqual(now.map, keptGradcam, 'the current row is the second image’s');
  assert.equal(await page.locator('canvas[data-pinned][data-method="gradcam"]').count(), 2);
  assert.match((await page.locator('.gridrow:not(.pinned) .rowlabel').first().textContent()) ?? '', /small_cnn_pneumoniamnist64\.onnx · .* — Trained model/);
  // one colour scale for every row when asked
  await page.selectOption('#norm', 'shared');
  assert.match((await page.locator('figure.colorbar figcaption').first().textContent()) ?? '', /one range for all maps shown/);
  // a second model on the same image beside the first: the zoo's ResNet-50 export
  await page.click('#pin');
  await page.setInputFiles('#model-file', join(PACKAGE_ROOT, 'src', 'autodiff', 'fixtures', 'zoo', 'resnet50.onnx'));
  await idle();
  await page.click('#run');
  await idle();
  assert.equal(await page.locator('.gridrow.pinned').count(), 3);
  assert.match((await page.locator('.gridrow:not(.pinned) .rowlabel').first().textContent()) ?? '', /resnet50\.onnx · /);
  const bars = await page.locator('figure.colorbar figcaption').count();
  const [fig] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
  const figBytes = readFileSync((await fig.path())!);
  const layout = (await page.evaluate(() => window.candor.lastFigure))!;
  assert.equal(layout.rows, 4, 'the figure holds the 3 kept rows and the current one');
  assert.equal(figBytes.readUInt32BE(20), layout.height);
  // long row labels wrap (each row at least one panel high), never cut: the labels drawn are the rows' labels whole
  assert.ok(layout.height >= 20 + 12 + 4 * (20 + 192 + 30 + 12) + bars * (12 + 48));
  assert.deepEqual(layout.labels.slice(0, 3), kept.map((k) => k.label).concat(await page.evaluate(() => window.candor.state.pinned[2]!.label)).slice(0, 3));
  writeFileSync(join(ARTIFACTS, 'workbench-comparison.png'), figBytes);
  await page.screenshot({ path: join(ARTIFACTS, 'workbench-comparison-page.png'), fullPage: true });
  // remove one kept row, then all
  await page.locator('.gridrow.pinned button.unpin').first().click();
  assert.equal(await page.locator('.gridrow.pinned').count(), 2);
  await page.click('#unpin');
  assert.equal(await page.locator('.gridrow.pinned').count(), 0);
  await page.selectOption('#norm', 'map');
  await page.click('#use-baseline'); // the tests below use the baseline
  await idle();
});

test('DICOM files open with windowing controls, and the window changes the model input as in Node', { skip }, async () => {
  await page.setInputFiles('#image-files', join(DICOM, 'CT_small.dcm'));
  await idle();
  assert.equal(await page.locator('#window').isVisible(), true);
  const bytes = new Uint8Array(readFileSync(join(DICOM, 'CT_small.dcm')));
  const node = await decodeFile(0, bytes, 'CT_small.dcm');
  assert.equal(Number(await page.inputValue('#wc')), node.dicom!.center);
  assert.equal(Number(await page.inputValue('#ww')), node.dicom!.width);

  await page.fill('#ww', '400');
  await page.fill('#wc', '40');
  await page.locator('#wc').dispatchEvent('change');
  await idle();
  const model = loadModel(MODEL, { threads: 1 });
  const px = windowFrame(node.dicom!.image, node.dicom!.frame, 40, 400);
  const logits = await model.forward(prepareInput(px, SPEC).x);
  const probs = await page.evaluate(() => window.candor.state.predictions.original!.probabilities);
  assert.ok(relError(probs, softmaxRow(logits.data)) < 1e-4, 'windowed DICOM prediction differs from Node');
  await model.dispose();

  // JPEG 2000 needs the OpenJPEG wasm codec, served locally too.
  await page.setInputFiles('#image-files', join(DICOM, 'JPEG2000.dcm'));
  await idle();
  assert.match((await page.textContent('#prediction')) ?? '', /%/);
  await page.screenshot({ path: join(ARTIFACTS, 'workbench-dicom.png'), fullPage: true });
});

/** What the page shows: class probabilities, the prepared input ([C,H,W] at the model's size) and its maps. */
async function shown(): Promise<{ probs: number[]; display: number[] }> {
  return page.evaluate(() => ({ probs: window.candor.state.predictions.original!.probabilities, display: Array.from(window.candor.state.prepared!.display) }));
}

/** Node's probabilities and input for a [C,H,W] image in [0,1] from the Node data pipeline. */
async function nodeView(model: Model, img: Tensor) {
  const { x, display } = prepareInput(img, SPEC);
  return { x, display: Array.from(display.data), probs: softmaxRow((await model.forward(x)).data) };
}

test('NIfTI volumes open at the middle slice along k with a slice chooser; each slice is the input Node prepares (prediction and Grad-CAM)', { skip }, async () => {
  const path = join(NIFTI, 'anatomical.nii'); // 33×41×25 int16, big-endian, LAS
  await page.setInputFiles('#image-files', path);
  await idle();
  assert.equal(await page.locator('#slice').isVisible(), true);
  assert.equal(await page.locator('#frame').isVisible(), false);
  assert.equal(await page.locator('#window').isVisible(), true);
  assert.equal(await page.inputValue('#slice-number'), '12');
  assert.equal(await page.getAttribute('#slice-range', 'max'), '24');
  const model = loadModel(MODEL, { threads: 1 });
  const reader = new MedicalReader(); // Node's NIfTI slices: axis k, min–max of the volume
  const at12 = await shown();
  const node12 = await nodeView(model, reader.read(path, 'nifti', { slices: [12] })[0]!);
  assert.ok(relError(at12.display, node12.display) < 1e-6, 'the slice differs from the one Node prepares');
  const e12 = relError(at12.probs, node12.probs);
  assert.ok(e12 < 1e-4, `slice 12: probabilities differ from Node by ${e12}`);

  await page.click('#run'); // Grad-CAM (the first test left only it checked)
  await idle();
  const gc12 = (await results()).find((r) => r.method === 'gradcam')!;
  const n12 = await explain(model, node12.x, 'gradcam', 'pred');
  assert.ok(relError(gc12.map, n12.map.data) < 1e-4, 'Grad-CAM of slice 12 differs from Node');
  await page.screenshot({ path: join(ARTIFACTS, 'workbench-nifti.png'), fullPage: true });

  // another slice: new input, prediction and the shown maps recomputed
  await page.fill('#slice-number', '5');
  await page.locator('#slice-number').dispatchEvent('change');
  await idle();
  assert.equal(await page.inputValue('#slice-range'), '5');
  const at5 = await shown();
  assert.ok(relError(at5.display, at12.display) > 0.05, 'changing the slice did not change the input');
  const node5 = await nodeView(model, reader.read(path, 'nifti', { slices: [5] })[0]!);
  assert.ok(relError(at5.display, node5.display) < 1e-6, 'slice 5 differs from the one Node prepares');
  const e5 = relError(at5.probs, node5.probs);
  assert.ok(e5 < 1e-4, `slice 5: probabilities differ from Node by ${e5}`);
  const gc5 = (await results()).find((r) => r.method === 'gradcam');
  assert.ok(gc5, 'Grad-CAM was not recomputed for the new slice');
  assert.ok(relError(gc5.map, (await explain(model, node5.x, 'gradcam', 'pred')).map.data) < 1e-4, 'Grad-CAM of slice 5 differs from Node');
  console.log(`# NIfTI slice 12 / 5: max relative probability error ${e12.toExponential(2)} / ${e5.toExponential(2)}`);
  await page.screenshot({ path: join(ARTIFACTS, 'workbench-nifti-slice5.png'), fullPage: true });

  // 4-D: volume t = 0, said on the page
  await page.setInputFiles('#image-files', join(NIFTI, 'example_nifti2.nii.gz'));
  await idle();
  assert.match((await page.textContent('#image-notes')) ?? '', /4-D NIfTI with 2 volumes: showing volume t = 0/);
  assert.match((await page.textContent('#slice-info')) ?? '', /t = 0/);
  await model.dispose();
});

test('multi-frame DICOM: a frame chooser, frame 0 first; each frame is the input Node prepares', { skip }, async () => {
  const path = join(DICOM, 'rtdose.dcm'); // 15 frames of 10×10
  await page.setInputFiles('#image-files', path);
  await idle();
  assert.equal(await page.locator('#frame').isVisible(), true);
  assert.equal(await page.locator('#slice').isVisible(), false);
  assert.equal(await page.inputValue('#frame-number'), '0');
  assert.equal(await page.getAttribute('#frame-range', 'max'), '14');
  assert.equal(await page.textContent('#image-notes'), '');
  const model = loadModel(MODEL, { threads: 1 });
  const reader = new MedicalReader(); // Node's frames: the file's window, else the range of all frames
  const at0 = await shown();
  const node0 = await nodeView(model, reader.read(path, 'dicom', { frames: [0] })[0]!);
  assert.ok(relError(at0.probs, node0.probs) < 1e-4, 'frame 0: probabilities differ from Node');
  assert.ok(relError(at0.display, node0.display) < 1e-6, 'frame 0 differs from Node');

  await page.fill('#frame-number', '7');
  await page.locator('#frame-number').dispatchEvent('change');
  await idle();
  const at7 = await shown();
  assert.ok(relError(at7.display, at0.display) > 0.01, 'changing the frame did not change the input');
  const node7 = await nodeView(model, reader.read(path, 'dicom', { frames: [7] })[0]!);
  assert.ok(relError(at7.display, node7.display) < 1e-6, 'frame 7 differs from Node');
  const e7 = relError(at7.probs, node7.probs);
  assert.ok(e7 < 1e-4, `frame 7: probabilities differ from Node by ${e7}`);
  console.log(`# DICOM frame 7: max relative probability error ${e7.toExponential(2)}`);
  await model.dispose();

  // single-frame files have no frame chooser
  await page.setInputFiles('#image-files', join(DICOM, 'MR_small.dcm'));
  await idle();
  assert.equal(await page.locator('#frame').isVisible(), false);
});

test('the CLI and the page give the same probabilities (to 1e-6) for a NIfTI slice, along k and along a plane, and a DICOM frame, with default options', { skip }, async () => {
  const { explainCommand } = await import('../cli/explain.js');
  const out = mkdtempSync(join(tmpdir(), 'candor-cli-vs-page-'));
  /** `candor explain` as a user runs it (default options): the probabilities it records in explain.json. */
  const cli = async (input: string, dir: string) => {
    await explainCommand(['--methods', 'saliency', '--input', input, '--out', join(out, dir)]);
    const j = JSON.parse(readFileSync(join(out, dir, 'explain.json'), 'utf8')) as { images: { probabilities: number[] }[] };
    return j.images[0]!.probabilities;
  };
  const maxAbs = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
  const nifti = join(NIFTI, 'anatomical.nii');
  const dicom = join(DICOM, 'rtdose.dcm');
  const errors: string[] = [];
  try {
    await page.setInputFiles('#image-files', nifti);
    await idle();
    const k12 = maxAbs((await shown()).probs, await cli(`${nifti}:12`, 'k12')); // default axis k, middle slice 12
    errors.push(`NIfTI k 12 ${k12.toExponential(2)}`);
    assert.ok(k12 <= 1e-6, `NIfTI slice 12 along k: CLI and page probabilities differ by ${k12}`);
    await page.selectOption('#slice-axis', 'axial');
    await idle();
    const s = await page.evaluate(() => window.candor.state.images.find((i) => i.id === window.candor.state.current)!.nifti!);
    assert.equal(s.axis, 'axial');
    const ax = maxAbs((await shown()).probs, await cli(`${nifti}:axial:${s.slice}`, 'axial'));
    errors.push(`NIfTI axial ${s.slice} ${ax.toExponential(2)}`);
    assert.ok(ax <= 1e-6, `NIfTI axial slice ${s.slice}: CLI and page probabilities differ by ${ax}`);
    await page.setInputFiles('#image-files', dicom);
    await idle();
    await page.fill('#frame-number', '7');
    await page.locator('#frame-number').dispatchEvent('change');
    await idle();
    const f7 = maxAbs((await shown()).probs, await cli(`${dicom}:7`, 'frame7'));
    errors.push(`DICOM frame 7 ${f7.toExponential(2)}`);
    assert.ok(f7 <= 1e-6, `DICOM frame 7: CLI and page probabilities differ by ${f7}`);
    console.log(`# CLI vs page, max |Δp|: ${errors.join(', ')}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("a model's card (opened with it) sets the page's scale, resize, window and axis as it sets the CLI's; the page says what preprocessing changed", { skip }, async () => {
  const { explainCommand } = await import('../cli/explain.js');
  const { copyFileSync, writeFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'candor-card-page-'));
  try {
    const model = join(dir, 'carded.onnx');
    copyFileSync(MODEL, model);
    writeFileSync(join(dir, 'carded.json'), JSON.stringify({ input: { channels: 1, size: 64 }, classes: ['normal', 'pneumonia'], preprocessing: { scale: 'unit', window: [300, 900], axis: 'sagittal', resize: 'pad' } }));
    await page.setInputFiles('#model-file', [model, join(dir, 'carded.json')]);
    await idle();
    assert.equal(await page.inputValue('#scale'), 'unit');
    assert.equal(await page.inputValue('#resize'), 'pad');
    const nifti = join(NIFTI, 'anatomical.nii');
    await page.setInputFiles('#image-files', nifti);
    await idle();
    const s = await page.evaluate(() => window.candor.state.images.find((i) => i.id === window.candor.state.current)!.nifti!);
    assert.deepEqual([s.axis, s.center, s.width], ['sagittal', 300, 900]);
    await explainCommand(['--model', model, '--methods', 'saliency', '--input', `${nifti}:${s.slice}`, '--out', join(dir, 'cli')]);
    const rec = JSON.parse(readFileSync(join(dir, 'cli', 'explain.json'), 'utf8'));
    assert.deepEqual(rec.input.preprocessing.from, { scale: 'card', window: 'card', axis: 'card', resize: 'card' });
    const page1 = (await shown()).probs;
    const d = Math.max(...page1.map((v, i) => Math.abs(v - rec.images[0].probabilities[i])));
    assert.ok(d <= 1e-6, `sagittal slice ${s.slice} with the card's window: CLI and page differ by ${d}`);
    // 33×41 sagittal… slices are not square: padded, and the page says so as the CLI does
    const notes = (await page.textContent('#prep-notes')) ?? '';
    assert.match(notes, /scaled to fit and padded with black/);
    assert.ok(rec.input.notes.some((n: string) => /padded with black/.test(n)));
    console.log(`# card-driven preprocessing, CLI vs page max |Δp|: ${d.toExponential(2)}`);
    // An image already open when the carded model is opened takes the card's window and axis too.
    await page.selectOption('#slice-axis', 'k');
    await idle();
    assert.equal(await page.inputValue('#slice-axis'), 'k');
    // (another file name: the same selection again fires no 'change')
    copyFileSync(model, join(dir, 'carded2.onnx'));
    copyFileSync(join(dir, 'carded.json'), join(dir, 'carded2.json'));
    await page.setInputFiles('#model-file', [join(dir, 'carded2.onnx'), join(dir, 'carded2.json')]);
    await idle();
    const again = await page.evaluate(() => window.candor.state.images.find((i) => i.id === window.candor.state.current)!.nifti!);
    assert.deepEqual([again.axis, again.center, again.width], ['sagittal', 300, 900]);
    assert.equal(await page.inputValue('#slice-axis'), 'sagittal');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await page.click('#use-baseline');
    await idle();
  }
});

test('unreadable files are named in the error, and the others still open', { skip }, async () => {
  await page.setInputFiles('#image-files', [
    { name: 'broken.nii.gz', mimeType: 'application/gzip', buffer: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4]) },
    { name: 'standard.nii.gz', mimeType: 'application/gzip', buffer: readFileSync(join(NIFTI, 'standard.nii.gz')) },
  ]);
  await page.evaluate(() => window.candor.idle());
  assert.equal(await page.getAttribute('#status', 'class'), 'error');
  assert.match((await page.textContent('#status')) ?? '', /broken\.nii\.gz: /);
  const names = await page.evaluate(() => window.candor.state.images.map((i) => i.name));
  assert.ok(names.includes('standard.nii.gz') && !names.includes('broken.nii.gz'));
  assert.equal(await page.inputValue('#slice-number'), '3'); // 4×5×7: the middle of 7
});

test('a Vision Transformer in the page: token-layer Grad-CAM, attention rollout and relevance equal Node', { skip }, async () => {
  const vit = join(PACKAGE_ROOT, 'src', 'autodiff', 'fixtures', 'zoo', 'vit_binary.onnx');
  await page.setInputFiles('#model-file', vit);
  await idle();
  const layers = await page.$$eval('#layer option', (os) => os.map((o) => o.textContent ?? ''));
  assert.ok(layers.some((l) => l.includes('encoder.layers.encoder_layer_1.ln_1')), `token layers listed: ${layers.join(' | ')}`);
  // A colour test image at the model's size (no card: candor's default scale pm1, as every command, and the page says so).
  const rgb = new Uint8Array(3 * 32 * 32).map((_, i) => (i * 37 + (i >> 5) * 11) % 256);
  const png = encodePng(new Tensor(rgb, [3, 32, 32]));
  await page.setInputFiles('#image-files', { name: 'vit.png', mimeType: 'image/png', buffer: Buffer.from(png) });
  await idle();
  for (const m of ['gradcam', 'ig']) await page.uncheck(`#methods input[value="${m}"]`);
  for (const m of ['gradcam', 'rollout', 'attnrelevance']) await page.check(`#methods input[value="${m}"]`);
  await page.click('#run');
  await idle();
  const { x } = prepareInput(decodePng(png).tensor, { channels: 3, height: 32, width: 32, scale: 'pm1', resize: 'stretch' });
  const model = loadModel(vit, { threads: 1 });
  const browser = await results();
  const errors: string[] = [];
  for (const method of ['gradcam', 'rollout', 'attnrelevance']) {
    const b = browser.find((r) => r.method === method && r.variant === 'original');
    assert.ok(b, `${method} is missing from the page's results`);
    const n = await explain(model, x, method, b.target);
    const e = relError(b.map, n.map.data);
    errors.push(`${method} ${e.toExponential(2)}`);
    assert.ok(e < 1e-4, `${method}: browser and Node maps differ by ${e}`);
  }
  console.log(`# ViT, max |browser − node| / max |node|: ${errors.join(', ')}`);
  await page.screenshot({ path: join(ARTIFACTS, 'workbench-vit.png'), fullPage: true });
  await model.dispose();
});

test('opened without cross-origin isolation (no COOP/COEP headers), the page still explains, on one wasm thread, and says why', { skip }, async () => {
  const plain = await wb.ctx.newPage();
  const errs: string[] = [];
  plain.on('pageerror', (e) => errs.push(e.message));
  try {
    await plain.route('**/*', async (route) => {
      const r = await route.fetch();
      const headers = { ...r.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response: r, headers });
    });
    await plain.goto(srv.url);
    await plain.evaluate(() => window.candor.ready);
    assert.equal(await plain.evaluate(() => globalThis.crossOriginIsolated), false);
    await plain.click('#use-baseline');
    await pageIdle(plain);
    assert.match((await plain.locator('#backend').textContent()) ?? '', /\(wasm, 1 thread\)(; no WebGPU: [^—]+)? — one thread: this page is not cross-origin isolated \(open it with candor serve/);
    await plain.locator('#samples button').first().click();
    await pageIdle(plain);
    await plain.click('#run');
    await plain.locator('canvas[data-method="gradcam"][data-variant="original"]').waitFor();
    await pageIdle(plain);
    assert.deepEqual(errs, []);
  } finally {
    await plain.close();
  }
});

test('choosing WebGPU where the browser has no adapter is one clear error, and the engine stays as it was', { skip }, async () => {
  await page.selectOption('#engine', 'webgpu');
  await page.evaluate(() => window.candor.idle());
  assert.equal(await page.locator('#status').getAttribute('class'), 'error');
  assert.match((await page.textContent('#status')) ?? '', /WebGPU was chosen, but the browser found no WebGPU adapter .*; choose auto or wasm/);
  assert.equal(await page.locator('#engine').inputValue(), 'auto');
  assert.match((await page.locator('#backend').textContent()) ?? '', /\(wasm, \d+ threads?\); no WebGPU/);
});

test('the page made no request to another origin and logged no errors', { skip }, () => {
  assert.deepEqual(external, []);
  assert.deepEqual(pageErrors, []);
});
