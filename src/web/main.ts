/**
 * The workbench page: wires the controls to the worker (all computation happens there) and draws the
 * results. `window.candor` exposes the state (raw maps, timings) for scripted checks and tests.
 */
import { COLORMAP_NAMES } from '../viz/colormap.js';
import { writeNpz } from '../io/npz.js';
import { Tensor } from '../tensor/tensor.js';
import { WorkerClient } from './client.js';
import { $, download, el, options } from './dom.js';
import { caption, currentNames, renderGrid, rowLabel } from './grid.js';
import { canvasPng, figureCanvas } from './figure.js';
import { RESIZES, SCALES } from './preprocess.js';
import { SLICE_AXES, type ResizePolicy } from '../data/preprocessing.js';
import type { InputScale } from '../data/transforms.js';
import type { SliceAxis } from '../io/nifti.js';
import type { ImageSummary, MapResult, ModelCard, Variant, WindowSummary } from './protocol.js';
import { renderVolume } from './volume-view.js';
import { newState, resultKey, resultRows, type WorkbenchState } from './state.js';
import type { NormMode } from './render.js';

const state: WorkbenchState = newState();
/** Each DICOM/NIfTI image's window as first opened (the file's, else its full range). */
const fileWindows = new Map<number, { center: number; width: number }>();
const client = new WorkerClient(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
let busy = 0;
/** Bumped whenever the current image's input changes (image, window, slice, frame): stale explanations stop. */
let inputVersion = 0;

declare global {
  interface Window {
    candor: { state: WorkbenchState; ready: Promise<void>; idle: () => Promise<void>; lastFigure?: { rows: number; width: number; height: number; labels: string[] } };
  }
}

// ------------------------------------------------------------------------------------ status

function setBusy(delta: number): void {
  busy += delta;
  document.body.dataset.state = busy > 0 ? 'busy' : 'ready';
  $<HTMLButtonElement>('run').disabled = busy > 0 || !state.model || state.current === undefined;
  $<HTMLButtonElement>('sanity').disabled = busy > 0 || !state.model || state.current === undefined || !state.model.parameterGroups;
  $<HTMLButtonElement>('score').disabled = busy > 0 || !state.model || state.current === undefined;
  const done = state.results.size > 0;
  $<HTMLButtonElement>('pin').disabled = busy > 0 || !done || state.prepared?.depth !== undefined;
  $<HTMLButtonElement>('unpin').disabled = !state.pinned.length;
  $<HTMLButtonElement>('export-png').disabled = !done && !state.pinned.length;
  $<HTMLButtonElement>('export-npz').disabled = !done;
  if (busy === 0) idleWaiters.splice(0).forEach((f) => f());
}
const idleWaiters: (() => void)[] = [];

function status(text: string, cls = ''): void {
  const s = $('status');
  s.className = cls;
  s.textContent = text;
}

/** Run an action with the busy flag set; errors are shown, not thrown. */
async function task(what: string, f: () => Promise<void>): Promise<void> {
  setBusy(+1);
  try {
    await f();
  } catch (e) {
    status(`${what}: ${(e as Error).message}`, 'error');
  } finally {
    setBusy(-1);
  }
}

const redraw = (): void => {
  if (state.prepared?.depth !== undefined) renderVolume($('grid'), state, { redraw, exportNifti: (r) => void task('Exporting NIfTI', () => exportNifti(r)) });
  else renderGrid($('grid'), state, unpin);
  // The PNG figure is drawn from 2-D panels; a volume's maps export as .npy and NIfTI instead.
  if (state.prepared?.depth !== undefined) $<HTMLButtonElement>('export-png').disabled = true;
};

// ------------------------------------------------------------------------------------ model

/** Why the engine runs on one thread, when it does (said beside the engine line). */
let engineNote = '';

async function openModel(bytes: ArrayBuffer, name: string, card?: ModelCard): Promise<void> {
  status(`Loading ${name}…`);
  await showModel(await client.request({ type: 'loadModel', bytes, name, card }, { transfer: [bytes] }));
}

/** The engine in use ('auto', 'wasm' or 'webgpu'), as last accepted by the worker. */
let engineChoice = 'auto';

/** The engine choice: the worker reopens the open model on it (kept rows stay as they were computed). */
async function changeEngine(): Promise<void> {
  const select = $<HTMLSelectElement>('engine');
  const choice = select.value as 'auto' | 'wasm' | 'webgpu';
  status(`Switching the engine to ${choice}…`);
  let r;
  try {
    r = await client.request({ type: 'setBackend', backend: choice });
  } catch (e) {
    select.value = engineChoice; // the engine did not change: the control says so
    throw e;
  }
  engineChoice = choice;
  $('backend').textContent = `Engine: ${r.backend}${engineNote}.`;
  if (r.model) await showModel(r.model);
  else status(`Engine: ${r.backend}`);
}

async function showModel(m: Awaited<ReturnType<typeof client.request<'loadModel'>>>): Promise<void> {
  for (const img of m.reopened ?? []) replaceSummary(img);
  state.model = m;
  $('backend').textContent = `Engine: ${m.engine}${engineNote}.`;
  state.results.clear();
  $('scores').replaceChildren();
  state.predictions = {};
  state.randomizedGroups = undefined;
  const info = [`${m.name}: input ${m.channels}×${m.depth !== undefined ? `${m.depth}×` : ''}${m.height}×${m.width}${m.depth !== undefined ? ' (volumes: open a NIfTI file, or the files of a DICOM series together)' : ''}, ${m.numClasses} classes (${m.classNames.join(', ')}), ${m.layers.length} layers`];
  $('model-info').replaceChildren(info[0]!, ...m.warnings.map((w) => el('div', { class: 'warn' }, w)));
  options($<HTMLSelectElement>('scale'), Object.entries(SCALES).map(([value, label]) => ({ value, label })), m.scale);
  options($<HTMLSelectElement>('resize'), Object.entries(RESIZES).map(([value, label]) => ({ value, label })), m.resize);
  options($<HTMLSelectElement>('target'), [{ value: 'pred', label: 'predicted class' }, ...m.classNames.map((c, i) => ({ value: String(i), label: `${i}: ${c}` }))], 'pred');
  // Layers by module path (features.9), as PyTorch names them, the tensor name only where no module is known.
  const autoLayer = m.layers.find((l) => l.tensor === m.defaultLayer);
  options($<HTMLSelectElement>('layer'), [{ value: 'auto', label: `auto (${autoLayer?.module ?? m.defaultLayer ?? 'none'})` }, ...m.layers.map((l) => ({ value: l.tensor, label: `${l.module ?? l.tensor} [${l.shape.join('×')}]` }))], 'auto');
  status(`Model ready: ${m.name}`);
  if (state.current !== undefined) await showImage(state.current);
}

async function useBaseline(): Promise<void> {
  const list = (await (await fetch('models/index.json')).json()) as { name: string; onnx: string; card?: string }[];
  const m = list[0];
  if (!m) throw new Error('the server offers no bundled model');
  const [bytes, card] = await Promise.all([
    fetch(m.onnx).then((r) => r.arrayBuffer()),
    m.card ? fetch(m.card).then((r) => (r.ok ? (r.json() as Promise<ModelCard>) : undefined)) : undefined,
  ]);
  await openModel(bytes, m.name, card);
}

// ------------------------------------------------------------------------------------ images

function thumbButton(img: ImageSummary, content: Node | string): HTMLButtonElement {
  const b = el('button', { type: 'button', title: img.name, 'data-image': img.id }, content);
  b.addEventListener('click', () => void task('Showing the image', () => showImage(img.id)));
  return b;
}

async function addImage(bytes: ArrayBuffer, name: string, thumb?: string, label?: string): Promise<number> {
  const img = await client.request({ type: 'loadImage', bytes, name }, { transfer: [bytes] });
  state.images.push(img);
  if (label !== undefined) state.trueLabels.set(img.id, label);
  const w = windowOf(img);
  if (w) fileWindows.set(img.id, { center: w.center, width: w.width });
  const content = thumb ? el('span', { class: 'sample' }, el('img', { src: thumb, alt: name }), ...(label !== undefined ? [el('span', { class: 'truth' }, label)] : [])) : el('span', { class: 'name' }, name);
  $(thumb ? 'samples' : 'images').append(thumbButton(img, content));
  return img.id;
}

/** Opens every file it can; the ones it cannot are named in one error at the end. */
/** The card beside a model (m.onnx → m.json) among the files opened with it: its preprocessing and class names. */
async function cardFor(model: File, files: File[]): Promise<ModelCard | undefined> {
  const stem = model.name.replace(/\.onnx$/i, '');
  const json = files.find((f) => f.name === `${stem}.json`);
  if (!json) return undefined;
  try {
    return JSON.parse(await json.text()) as ModelCard;
  } catch (e) {
    throw new Error(`${json.name}: not a readable model card (${(e as Error).message})`);
  }
}

/** DICOM files opened together while a 3-D model is loaded: one series, read as a volume. */
function seriesFiles(files: File[]): File[] {
  if (state.model?.depth === undefined) return [];
  const dicom = files.filter((f) => !/\.(onnx|json|nii|nii\.gz|gz|hdr|img|png|jpe?g)$/i.test(f.name));
  return dicom.length >= 2 ? dicom : [];
}

async function openFiles(input: Iterable<File>): Promise<void> {
  let last: number | undefined;
  const failed: string[] = [];
  // A model first, so that the files opened with it are read for it (a series for a 3-D model).
  const files = [...input].sort((a, b) => Number(/\.onnx$/i.test(b.name)) - Number(/\.onnx$/i.test(a.name)));
  const model = files.find((f) => /\.onnx$/i.test(f.name));
  if (model) {
    await openModel(await model.arrayBuffer(), model.name, await cardFor(model, files));
    files.splice(files.indexOf(model), 1);
  }
  const ser = seriesFiles(files);
  if (ser.length) {
    const dir = (ser[0]!.webkitRelativePath || '').split('/').slice(0, -1).join('/');
    const name = dir || `DICOM series (${ser.length} files)`;
    const buffers = await Promise.all(ser.map(async (f) => ({ bytes: await f.arrayBuffer(), name: f.name })));
    try {
      const img = await client.request({ type: 'loadSeries', files: buffers, name }, { transfer: buffers.map((b) => b.bytes) });
      state.images.push(img);
      $('images').append(thumbButton(img, el('span', { class: 'name' }, name)));
      last = img.id;
    } catch (e) {
      failed.push((e as Error).message);
    }
    for (const f of ser) files.splice(files.indexOf(f), 1);
  }
  for (const f of files) {
    try {
      if (/\.json$/i.test(f.name) && model?.name === f.name.replace(/\.json$/i, '.onnx')) continue; // the model's card, read with it
      if (/\.onnx$/i.test(f.name)) throw new Error('one model at a time'); // a second model in one opening
      last = await addImage(await f.arrayBuffer(), f.name);
    } catch (e) {
      const msg = (e as Error).message;
      failed.push(msg.includes(f.name) ? msg : `${f.name}: ${msg}`);
    }
  }
  if (last !== undefined) await showImage(last);
  if (failed.length) throw new Error(`could not open ${failed.length === 1 ? 'a file' : `${failed.length} files`}: ${failed.join('; ')}`);
}

const windowOf = (img: ImageSummary | undefined): WindowSummary | undefined => img?.dicom ?? img?.nifti ?? img?.series;

function showWindow(img: ImageSummary): void {
  const d = windowOf(img);
  const fs = $<HTMLFieldSetElement>('window');
  fs.hidden = !d;
  if (!d) return;
  $('window-legend').textContent = img.series ? `DICOM series window (${img.series.files} slices, ${img.series.dims.join('×')} voxels, ${img.series.axes})` : img.nifti ? `NIfTI window${img.nifti.windowFrom === 'cal' ? ' (opened at cal_min–cal_max)' : ''}` : 'DICOM window';
  const span = Math.max(d.max - d.min, 1e-6);
  const set = (id: string, v: number, min?: number, max?: number) => {
    const i = $<HTMLInputElement>(id);
    if (min !== undefined) i.min = String(min);
    if (max !== undefined) i.max = String(max);
    if (min !== undefined) i.step = String(span / 200);
    i.value = String(v);
  };
  set('wc', d.center);
  set('ww', d.width);
  set('wc-range', d.center, d.min, d.max);
  set('ww-range', d.width, span / 200, span * 2);
}

/** The slice chooser (NIfTI with more than one slice) and the frame chooser (multi-frame DICOM). */
function showPosition(img: ImageSummary): void {
  const n = img.nifti;
  const d = img.dicom;
  const setUp = (which: 'slice' | 'frame', value: number | undefined, count: number, info: string, show = count > 1) => {
    const shown = value !== undefined && show;
    $<HTMLFieldSetElement>(which).hidden = !shown;
    if (!shown) return;
    for (const id of [`${which}-number`, `${which}-range`]) {
      const i = $<HTMLInputElement>(id);
      i.min = '0';
      i.max = String(count - 1);
      i.value = String(value);
    }
    $(`${which}-info`).textContent = info;
  };
  const voxelAxis = n ? ({ i: 0, j: 1, k: 2 } as Record<string, number>)[n.axis] : undefined;
  // A 3-D model takes the whole volume: no slice to choose (its planes have their own sliders).
  const volumeModel = state.model?.depth !== undefined;
  setUp('slice', volumeModel ? undefined : n?.slice, n?.slices ?? 0, n ? `of 0–${n.slices - 1} along ${n.axis}${voxelAxis !== undefined ? ` (${n.axes[voxelAxis] ?? '?'})` : ''}, volume ${n.dims.slice(0, 3).join('×')} voxels${n.volumes > 1 ? `, t = ${n.t}` : ''}` : '', !!n && n.dims[2]! > 1);
  if (n) $<HTMLSelectElement>('slice-axis').value = n.axis;
  setUp('frame', d?.frame, d?.frames ?? 0, d ? `of 0–${d.frames - 1}` : '');
  const notes = n?.notes ?? [];
  $('image-notes').replaceChildren(...notes.map((t) => el('div', { class: 'warn' }, t)));
}

function replaceSummary(img: ImageSummary): void {
  const k = state.images.findIndex((i) => i.id === img.id);
  if (k >= 0) state.images[k] = img;
}

async function showImage(id: number): Promise<void> {
  state.current = id;
  document.querySelectorAll('.thumbs button').forEach((b) => b.classList.toggle('selected', (b as HTMLElement).dataset.image === String(id)));
  const img = state.images.find((i) => i.id === id)!;
  showWindow(img);
  showPosition(img);
  inputVersion++;
  state.results.clear();
  $('scores').replaceChildren();
  state.predictions = {};
  state.shownAfterMs = {};
  state.cursor = undefined;
  state.volumeMap = undefined;
  $('progress').replaceChildren();
  if (!state.model) {
    status(`${img.name} opened; choose a model to see the prediction`);
    return;
  }
  state.prepared = await client.request({ type: 'prepare', image: id });
  // What preprocessing did beyond a plain resize (a changed aspect ratio, colour to grey), as the CLI says it.
  $('prep-notes').replaceChildren(...state.prepared.notes.map((t) => el('div', { class: 'warn' }, t)));
  redraw();
  await predict('original');
}

async function predict(variant: Variant): Promise<void> {
  if (state.current === undefined || !state.model) return;
  const p = await client.request({ type: 'predict', image: state.current, variant });
  state.predictions[variant] = p;
  const names = state.model.classNames;
  const bars = (['original', 'randomized'] as const).flatMap((v) => {
    const q = state.predictions[v];
    if (!q) return [];
    const head = v === 'randomized' ? [el('div', { class: 'info' }, 'randomized weights:')] : [];
    return [...head, ...q.probabilities.map((pr, i) =>
      el('div', { class: `bar${i === q.predicted ? ' top' : ''}`, 'data-class': i },
        el('span', {}, names[i] ?? String(i)),
        el('div', { class: 'track' }, Object.assign(el('div', { class: 'fill' }), {})),
        el('span', {}, `${(pr * 100).toFixed(1)}%`)))];
  });
  $('prediction').replaceChildren(...bars);
  // widths via CSSOM (the CSP forbids inline style attributes)
  let k = 0;
  for (const v of ['original', 'randomized'] as const) for (const pr of state.predictions[v]?.probabilities ?? []) {
    ($('prediction').querySelectorAll<HTMLElement>('.fill')[k++]!).style.width = `${(pr * 100).toFixed(1)}%`;
  }
  status(`${names[p.predicted]} (${(p.probabilities[p.predicted]! * 100).toFixed(1)}%)${variant === 'randomized' ? ' with randomized weights' : ''}`);
}

// ------------------------------------------------------------------------------------ explain

/** Quick methods first, so the first overlay shows while slower ones run. */
function cost(name: string): number {
  const m = state.methods.find((x) => x.name === name);
  if (/^(scorecam|ablationcam|occlusion|featureablation|rise)$/.test(name) || m?.family === 'perturbation') return 3;
  if (/^(ig|smoothgrad|gradientshap|expectedgradients)$/.test(name)) return 2;
  return m?.family === 'cam' ? 0 : 1;
}

function selectedMethods(): string[] {
  const names = [...document.querySelectorAll<HTMLInputElement>('#methods input:checked')].map((i) => i.value);
  return names.map((n, i) => [n, i] as const).sort((a, b) => cost(a[0]) - cost(b[0]) || a[1] - b[1]).map(([n]) => n);
}

async function explainAll(variant: Variant, clickedAt: number): Promise<void> {
  const image = state.current!;
  const version = inputVersion;
  const t = $<HTMLSelectElement>('target').value;
  const layer = $<HTMLSelectElement>('layer').value;
  const methods = selectedMethods();
  if (!methods.length) throw new Error('choose at least one method');
  const bar = el('progress', { max: 1, value: 0 });
  const label = el('span');
  $('progress').replaceChildren(label, bar);
  for (const method of methods) {
    // The randomized model explains the class the trained model was explained for (Adebayo et al.).
    const original = variant === 'randomized' ? state.results.get(resultKey('original', method)) : undefined;
    const target = original ? original.target : t === 'pred' ? 'pred' : Number(t);
    label.textContent = `${method}${variant === 'randomized' ? ' (randomized)' : ''}…`;
    bar.value = 0;
    const r = await client.request(
      { type: 'explain', image, method, target, layer: layer === 'auto' ? undefined : layer, variant },
      { progress: (done, total) => ((bar.max = total), (bar.value = done)) },
    );
    if (state.current !== image || inputVersion !== version) return;
    state.results.set(resultKey(variant, method), r);
    redraw();
    state.shownAfterMs[resultKey(variant, method)] = performance.now() - clickedAt;
  }
  $('progress').replaceChildren(`${methods.length} method${methods.length > 1 ? 's' : ''} done`);
}

async function sanityCheck(clickedAt: number): Promise<void> {
  if (!state.randomizedGroups) {
    status('Re-initialising every learnable layer…');
    state.randomizedGroups = (await client.request({ type: 'randomize', seed: 0 })).groups;
  }
  const missing = selectedMethods().some((m) => !state.results.has(resultKey('original', m)));
  if (missing) await explainAll('original', clickedAt);
  await predict('randomized');
  await explainAll('randomized', clickedAt);
  status(`Randomized ${state.randomizedGroups.length} layer groups (${state.randomizedGroups.join(', ')}); maps that survive this are not explaining the model.`);
}

/** Quantus metrics of the chosen methods' maps of this image beside the control maps, grouped by family. */
async function scoreAgainstControls(): Promise<void> {
  const image = state.current!;
  const t = $<HTMLSelectElement>('target').value;
  const layer = $<HTMLSelectElement>('layer').value;
  const methods = selectedMethods();
  if (!methods.length) throw new Error('choose at least one method');
  const bar = el('progress', { max: 1, value: 0 });
  $('progress').replaceChildren('Scoring the maps and the control maps… ', bar);
  const s = await client.request(
    { type: 'score', image, methods, target: t === 'pred' ? 'pred' : Number(t), layer: layer === 'auto' ? undefined : layer },
    { progress: (done, total) => ((bar.max = total), (bar.value = done)) },
  );
  if (state.current !== image) return;
  $('progress').replaceChildren(`${methods.length} method${methods.length > 1 ? 's' : ''} scored`);
  const fmt = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3)) : 'n/a');
  const head = el('tr', {}, el('th', {}, 'metric'), ...methods.map((m) => el('th', {}, m)), ...s.controls.map((c) => el('th', { class: 'control' }, `${c} (control)`)));
  const rows: HTMLTableRowElement[] = [];
  let family = '';
  s.metrics.forEach((m, k) => {
    if (m.family !== family) {
      family = m.family;
      rows.push(el('tr', {}, el('th', { colspan: String(1 + methods.length + s.controls.length), class: 'family' }, family)));
    }
    const better = (v: number, w: number) => (m.higherIsBetter ? v > w : v < w);
    const cells = methods.map((name) => {
      const v = s.values[name]![k]!;
      const beats = Number.isFinite(v) && s.controls.every((c) => !Number.isFinite(s.values[c]![k]!) || better(v, s.values[c]![k]!));
      return el('td', { title: beats ? 'better than every control map on this image' : '' }, `${fmt(v)}${beats ? ' ✓' : ''}`);
    });
    rows.push(el('tr', {}, el('td', { title: m.about }, `${m.name} ${m.higherIsBetter ? '↑' : '↓'}`), ...cells, ...s.controls.map((c) => el('td', { class: 'control' }, fmt(s.values[c]![k]!)))));
  });
  $('scores').replaceChildren(
    el('table', { class: 'scores' }, head, ...rows),
    el('p', { class: 'info' }, 'One image: values without intervals (✓: better than every control map here). Quantus’ definitions; candor audit scores many images with 95% intervals. A metric a control map wins does not reward knowing the model.'),
  );
}

// ------------------------------------------------------------------------------------ comparison

let pinCount = 0;

/** Keep the current rows (each model variant's maps of this image) above the grid, to compare with another image or model. */
function pin(): void {
  const p = state.prepared;
  if (!p || p.depth !== undefined) return;
  const names = currentNames(state);
  for (const { variant, maps } of resultRows(state)) {
    state.pinned.push({ id: ++pinCount, label: names.prefix + rowLabel(state, variant), prepared: p, inputCaption: names.inputCaption, maps: [...maps], captions: maps.map((r) => caption(state, r, { timing: false })) });
  }
  status(`Kept ${resultRows(state).length} row${resultRows(state).length > 1 ? 's' : ''} for comparison: open another image or model and explain it; 'per method' and 'shared' normalisation span every row.`);
  redraw();
  setBusy(0);
}

function unpin(id?: number): void {
  state.pinned = id === undefined ? [] : state.pinned.filter((r) => r.id !== id);
  redraw();
  setBusy(0);
}

// ------------------------------------------------------------------------------------ export

function stem(): string {
  const img = state.images.find((i) => i.id === state.current);
  return `candor_${(img?.name ?? 'image').replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_')}`;
}

async function exportPng(): Promise<void> {
  const img = state.images.find((i) => i.id === state.current);
  const truth = img ? state.trueLabels.get(img.id) : undefined;
  const title = state.pinned.length ? `candor workbench — ${state.pinned.length + resultRows(state).length} rows compared` : `${state.model?.name ?? ''} — ${img?.name ?? ''}${truth !== undefined ? ` (true: ${truth})` : ''}`;
  const c = figureCanvas(state, title, state.pinned.length ? currentNames(state) : undefined);
  if (c) download(await canvasPng(c), `${stem()}.png`);
}

function exportNpz(): void {
  const entries: Record<string, Tensor> = {};
  for (const r of state.results.values()) entries[`${r.variant}_${r.method}`] = new Tensor(Float32Array.from(r.map), [1, ...(r.depth !== undefined ? [r.depth] : []), r.height, r.width]);
  download(writeNpz(entries), `${stem()}_maps.npz`);
}

/** A volume's map on the source grid, with the source's affine, as .nii.gz. */
async function exportNifti(r: MapResult): Promise<void> {
  if (state.current === undefined) return;
  const { bytes } = await client.request({ type: 'exportNifti', image: state.current, map: Float32Array.from(r.map), description: `candor ${r.method} map` });
  download(bytes, `${stem()}_${r.variant}_${r.method}.nii.gz`);
}

// ------------------------------------------------------------------------------------ setup

function readDisplay(): void {
  state.display = {
    alpha: Number($<HTMLInputElement>('alpha').value),
    colormap: $<HTMLSelectElement>('colormap').value,
    diverging: $<HTMLSelectElement>('diverging').value,
    norm: $<HTMLSelectElement>('norm').value as NormMode,
  };
  redraw();
}

async function setWindow(center: number, width: number): Promise<void> {
  if (state.current === undefined) return;
  replaceSummary(await client.request({ type: 'setWindow', image: state.current, center, width }));
  await showImage(state.current);
}

/**
 * Another NIfTI slice or DICOM frame: new input, so the prediction is recomputed, and the maps too when
 * some were shown (the same methods, for the original model).
 */
async function setPosition(pos: { slice?: number; frame?: number; axis?: SliceAxis }): Promise<void> {
  if (state.current === undefined) return;
  const explained = [...state.results.values()].some((r) => r.variant === 'original');
  replaceSummary(await client.request({ type: 'setPosition', image: state.current, ...pos }));
  await showImage(state.current);
  if (explained && state.model) await explainAll('original', performance.now());
}

async function loadSamples(): Promise<void> {
  const list = (await (await fetch('samples/index.json')).json()) as { name: string; url: string; label?: string }[];
  for (const s of list) await addImage(await (await fetch(s.url)).arrayBuffer(), s.name, s.url, s.label);
}

async function init(): Promise<void> {
  // Threaded wasm needs SharedArrayBuffer, which a browser grants only to a cross-origin-isolated page
  // (`candor serve` sends COOP/COEP); opened otherwise (a file, another server) the page runs on one thread and says so.
  const isolated = globalThis.crossOriginIsolated === true;
  const threads = isolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  // ?engine=wasm|webgpu|auto chooses the execution provider from the start (default auto: WebGPU when the browser has it)
  const asked = new URLSearchParams(location.search).get('engine');
  const backend = asked === 'wasm' || asked === 'webgpu' ? asked : 'auto';
  $<HTMLSelectElement>('engine').value = backend;
  engineChoice = backend;
  const info = await client.request({ type: 'init', wasmBase: new URL('ort/', location.href).href, threads, backend });
  state.methods = info.methods;
  engineNote = isolated ? '' : ' — one thread: this page is not cross-origin isolated (open it with candor serve for one thread per core)';
  $('backend').textContent = `Engine: ${info.backend}${engineNote}.`;
  const defaults = new Set(['gradcam', 'ig']);
  $('methods').replaceChildren(...info.methods.map((m) => el('label', { title: m.about }, el('input', { type: 'checkbox', value: m.name, checked: defaults.has(m.name) }), ` ${m.name}`)));
  const cmaps = COLORMAP_NAMES.map((c) => ({ value: c, label: c }));
  options($<HTMLSelectElement>('colormap'), cmaps.filter((c) => c.value !== 'bwr' && c.value !== 'rdbu_r'), 'jet');
  options($<HTMLSelectElement>('diverging'), cmaps.filter((c) => c.value === 'bwr' || c.value === 'rdbu_r'), 'rdbu_r');
  for (const id of ['alpha', 'colormap', 'diverging', 'norm']) $(id).addEventListener('input', readDisplay);

  $('use-baseline').addEventListener('click', () => void task('Loading the baseline', useBaseline));
  $('engine').addEventListener('change', () => void task('Changing the engine', changeEngine));
  $<HTMLInputElement>('model-file').addEventListener('change', (e) => {
    const files = [...((e.target as HTMLInputElement).files ?? [])];
    if (files.length) void task('Opening the model', () => openFiles(files));
  });
  for (const which of ['scale', 'resize'] as const) {
    $<HTMLSelectElement>(which).addEventListener('change', (e) => void task(`Changing the ${which === 'scale' ? 'pixel scale' : 'resize policy'}`, async () => {
      const value = (e.target as HTMLSelectElement).value;
      const r = await client.request({ type: 'setPreprocessing', ...(which === 'scale' ? { scale: value as InputScale } : { resize: value as ResizePolicy }) });
      if (state.model) state.model = { ...state.model, scale: r.scale, resize: r.resize };
      state.results.clear();
      state.predictions = {};
      if (state.current !== undefined) await showImage(state.current);
    }));
  }
  options($<HTMLSelectElement>('slice-axis'), SLICE_AXES.map((a) => ({ value: a, label: a === 'k' || a === 'j' || a === 'i' ? `${a} (voxel axis as stored)` : `${a} (RAS+)` })), 'k');
  $<HTMLInputElement>('image-files').addEventListener('change', (e) => void task('Opening images', () => openFiles((e.target as HTMLInputElement).files ?? [])));
  $<HTMLInputElement>('series-folder').addEventListener('change', (e) => void task('Opening the DICOM series', () => openFiles((e.target as HTMLInputElement).files ?? [])));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void task('Opening dropped files', () => openFiles(e.dataTransfer?.files ?? []));
  });
  // A number input that keeps the focus while another image is shown fires 'change' when it loses it:
  // values equal to the current ones are no change.
  const win = (c: string, w: string) => () => {
    const center = Number($<HTMLInputElement>(c).value);
    const width = Number($<HTMLInputElement>(w).value);
    const d = windowOf(state.images.find((i) => i.id === state.current));
    if (!d || $<HTMLFieldSetElement>('window').hidden || (d.center === center && d.width === width)) return;
    void task('Windowing', () => setWindow(center, width));
  };
  $('wc').addEventListener('change', win('wc', 'ww'));
  $('ww').addEventListener('change', win('wc', 'ww'));
  $('wc-range').addEventListener('change', win('wc-range', 'ww-range'));
  $('ww-range').addEventListener('change', win('wc-range', 'ww-range'));
  $('window-reset').addEventListener('click', () => {
    const w = state.current === undefined ? undefined : fileWindows.get(state.current);
    if (w) void task('Windowing', () => setWindow(w.center, w.width));
  });
  $('window-full').addEventListener('click', () => {
    const d = windowOf(state.images.find((i) => i.id === state.current));
    if (d) void task('Windowing', () => setWindow((d.min + d.max) / 2, Math.max(d.max - d.min, 1e-6)));
  });
  $<HTMLSelectElement>('slice-axis').addEventListener('change', (e) => {
    const axis = (e.target as HTMLSelectElement).value as SliceAxis;
    if (state.images.find((i) => i.id === state.current)?.nifti?.axis === axis) return;
    void task('Choosing the slice axis', () => setPosition({ axis }));
  });
  for (const which of ['slice', 'frame'] as const) {
    const go = (id: string) => () => {
      const v = Number($<HTMLInputElement>(id).value);
      const img = state.images.find((i) => i.id === state.current);
      const now = which === 'slice' ? img?.nifti?.slice : img?.dicom?.frame;
      if ($<HTMLFieldSetElement>(which).hidden || now === undefined || v === now) return; // not shown for this image, or no change
      void task(which === 'slice' ? 'Choosing the slice' : 'Choosing the frame', () => setPosition({ [which]: v }));
    };
    $(`${which}-number`).addEventListener('change', go(`${which}-number`));
    $(`${which}-range`).addEventListener('change', go(`${which}-range`));
  }
  $('run').addEventListener('click', () => {
    const t0 = performance.now();
    void task('Explaining', () => explainAll('original', t0));
  });
  $('sanity').addEventListener('click', () => {
    const t0 = performance.now();
    void task('Randomization check', () => sanityCheck(t0));
  });
  $('score').addEventListener('click', () => void task('Scoring against controls', scoreAgainstControls));
  $('pin').addEventListener('click', () => pin());
  $('unpin').addEventListener('click', () => unpin());
  $('export-png').addEventListener('click', () => void task('Exporting the figure', exportPng));
  $('export-npz').addEventListener('click', () => exportNpz());
  await loadSamples();
  status('Choose the bundled baseline or open an ONNX model, then an image.');
}

const ready = task('Starting', init);
window.candor = { state, ready, idle: () => (busy === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r))) };
