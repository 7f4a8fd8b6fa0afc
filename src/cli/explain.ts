/**
 * `candor explain`: attribution maps for a batch of images, with overlays and a side-by-side grid.
 *
 * Inputs: a preprocessed `.npy` batch [N,C,H,W] (used as is), or a MedMNIST `.npz` (or a bundled
 * dataset name) with an optional split and range, which is resized (antialiased) to the model's
 * input size and scaled to [−1, 1] exactly as `prepareData` does for training. With no --model, the
 * bundled baseline; with no --input, the first 8 test images of the bundled PneumoniaMNIST.
 *
 * Writes into --out: `<method>.npy` (raw maps [N,H,W], float32), `<method>_<i>.png` (overlays, i
 * counting from 0 within the batch) and `grid.png`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { softmax } from '../train/metrics.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../runtime/node.js';
import type { Model } from '../runtime/model.js';
import { readNpyFile, writeFileAtomic, writeNpyFile } from '../io/files.js';
import { Tensor } from '../tensor/tensor.js';
import { loadMedMnist, SPLITS, type Split } from '../data/medmnist.js';
import { selectRows, datasetSize, defaultClassNames } from '../data/dataset.js';
import { repeatChannels, toMinusOneOne } from '../data/transforms.js';
import { resize } from '../data/resize.js';
import { resolveDataPath, BUNDLED_DATASETS } from '../train/prepare.js';
import { cardPath } from '../train/card.js';
import { getMethod, parseMethods, explain } from '../explain/registry.js';
import type { Target } from '../explain/types.js';
import { getColormap } from '../viz/colormap.js';
import { displayImage, overlayPng } from '../viz/overlay.js';
import { gridPng, type GridRow } from '../viz/grid.js';
import { parse, parseIntArg, required, UsageError } from './args.js';

export const BASELINE_MODEL = fileURLToPath(new URL('../../models/baseline/small_cnn_pneumoniamnist64.onnx', import.meta.url));
const DEFAULT_COUNT = 8;

export const EXPLAIN_USAGE = `usage: candor explain --methods M1,M2,... --out DIR [--model m.onnx] [--input SPEC]
       [--layer L] [--target pred|K] [--colormap jet] [--diverging-colormap rdbu_r] [--alpha 0.5]
       [--batch-size N] [--threads N] [--force]

  --methods   comma-separated: saliency, gradient, inputxgradient, smoothgrad, ig, gradcam, gradcampp,
              xgradcam, layercam, hirescam, eigencam
  --model     ONNX classifier (default: the bundled baseline ${'models/baseline/small_cnn_pneumoniamnist64.onnx'})
  --input     x.npy            a preprocessed float batch [N,C,H,W], used as is
              data.npz[:split[:range]] or pneumoniamnist[:split[:range]]
                               MedMNIST images (split train|val|test, default test; range K or A-B,
                               end exclusive, default 0-${DEFAULT_COUNT}), resized to the model's input and
                               scaled to [-1, 1] as for training
              (default: pneumoniamnist:test:0-${DEFAULT_COUNT})
  --layer     CAM layer: module path (features.8) or tensor name (default: last 4-D activation)
  --target    'pred' (default) or a class index
  --colormap  for unsigned maps: jet (default), turbo, viridis, inferno, gray; signed maps use
              --diverging-colormap (rdbu_r default, or bwr)
  --alpha     opacity of the map over the image (default 0.5)

Writes DIR/<method>.npy (raw maps [N,H,W], float32), DIR/<method>_<i>.png and DIR/grid.png.`;

interface Batch {
  /** Model input [N,C,H,W]. */
  x: Tensor;
  /** Images for display, [N,C,H,W] in [0,1]. */
  display: Tensor;
  /** True class per image, when known. */
  labels?: Int32Array;
  classNames?: readonly string[];
  description: string;
}

interface ModelSpec {
  channels: number;
  height: number;
  width: number;
  classNames?: readonly string[];
}

/** Input size and class names: from the model's declared input, else from its card. */
function modelSpec(model: Model, path: string): ModelSpec {
  let card: { input?: { channels?: number; size?: number }; classes?: string[] } = {};
  const cp = cardPath(path);
  if (existsSync(cp)) {
    try {
      card = JSON.parse(readFileSync(cp, 'utf8'));
    } catch {
      card = {};
    }
  }
  const s = model.inputShape;
  const num = (i: number, fallback?: number): number => {
    const d = s[i];
    if (typeof d === 'number' && d > 0) return d;
    if (fallback !== undefined) return fallback;
    throw new UsageError(`${path}: the model's input dimension ${i} is not fixed ([${s.join(', ')}]) and there is no model card giving it`);
  };
  if (s.length !== 4) throw new UsageError(`${path}: expected an image classifier with a 4-D input [N,C,H,W], got [${s.join(', ')}]`);
  const classNames = Array.isArray(card.classes) && card.classes.length === model.numClasses ? card.classes : undefined;
  return { channels: num(1, card.input?.channels), height: num(2, card.input?.size), width: num(3, card.input?.size), classNames };
}

function toFloat32(t: Tensor<any>, where: string): Tensor {
  if (t.dtype === 'float32') return t as Tensor;
  if (t.dtype === 'float64') return new Tensor(Float32Array.from(t.data as Float64Array), t.shape);
  throw new UsageError(`${where}: input must be float32 or float64 (preprocessed as the model expects), got ${t.dtype}`);
}

const expectShape = (m: ModelSpec) => `[N, ${m.channels}, ${m.height}, ${m.width}]`;

async function npyBatch(path: string, spec: ModelSpec): Promise<Batch> {
  const x = toFloat32(await readNpyFile(path), path);
  const s = x.shape;
  const ok = s.length === 4 && s[0]! > 0 && s[1] === spec.channels && s[2] === spec.height && s[3] === spec.width;
  if (!ok) {
    throw new UsageError(`${path}: shape [${s.join(', ')}] does not fit the model, which takes ${expectShape(spec)} (a float batch, already preprocessed)`);
  }
  // Display: each image min–max scaled (its preprocessing is unknown).
  const [n, c, h, w] = s as [number, number, number, number];
  const row = c * h * w;
  const disp = new Float32Array(x.size);
  for (let i = 0; i < n; i++) disp.set(displayImage(new Tensor(x.data.slice(i * row, (i + 1) * row), [c, h, w])).data, i * row);
  return { x, display: new Tensor(disp, s), description: `${path} [${s.join(', ')}]` };
}

function parseRange(r: string | undefined, n: number, where: string): number[] {
  let a = 0;
  let b = Math.min(DEFAULT_COUNT, n);
  if (r !== undefined && r !== '') {
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    if (!m) throw new UsageError(`${where}: range '${r}' is not K or A-B (e.g. 0-8)`);
    a = Number(m[1]);
    b = m[2] === undefined ? a + 1 : Number(m[2]);
  }
  if (!(a < b && b <= n)) throw new UsageError(`${where}: range ${a}-${b} is empty or outside the split's ${n} images (valid: 0..${n - 1}, as K or A-B with B ≤ ${n})`);
  return Array.from({ length: b - a }, (_, i) => a + i);
}

function npzBatch(spec: string, model: ModelSpec): Batch {
  const m = /^(.*?)(?::(train|val|test|[^:]*))?(?::([^:]*))?$/i.exec(spec)!;
  const [, file, splitArg, rangeArg] = m;
  const split = (splitArg === undefined || splitArg === '' ? 'test' : splitArg.toLowerCase()) as Split;
  if (!SPLITS.includes(split)) throw new UsageError(`${spec}: unknown split '${splitArg}' (valid: ${SPLITS.join(', ')})`);
  let path: string;
  try {
    path = resolveDataPath(file!);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const ds = loadMedMnist(path, split);
  const idx = parseRange(rangeArg, datasetSize(ds), `${spec}`);
  const sel = selectRows(ds, idx);
  const c = sel.images.shape[1]!;
  if (c !== model.channels && c !== 1) {
    throw new UsageError(`${spec}: images have ${c} channels; the model takes ${model.channels} (only 1-channel images are repeated)`);
  }
  const sized = resize(sel.images, [model.height, model.width], { antialias: true });
  const display = c === model.channels ? sized : repeatChannels(sized, model.channels);
  const x = toMinusOneOne(display);
  return {
    x,
    display,
    labels: sel.task === 'single' ? sel.labels : undefined,
    classNames: sel.classNames,
    description: `${path.split(/[\\/]/).pop()} ${split} images ${idx[0]}-${idx[idx.length - 1]! + 1} at ${model.height}×${model.width}, scaled to [-1, 1]`,
  };
}

async function loadBatch(input: string | undefined, spec: ModelSpec): Promise<Batch> {
  if (input === undefined) return npzBatch(`pneumoniamnist:test:0-${DEFAULT_COUNT}`, spec);
  if (/\.npy$/i.test(input)) {
    if (!existsSync(input)) throw new UsageError(`${input}: no such file`);
    return npyBatch(input, spec);
  }
  const file = input.split(':')[0]!;
  if (/\.npz$/i.test(file) || file.toLowerCase() in BUNDLED_DATASETS) {
    if (/\.npz$/i.test(file) && !existsSync(file)) throw new UsageError(`${file}: no such file`);
    return npzBatch(input, spec);
  }
  throw new UsageError(
    `--input '${input}': expected x.npy (a preprocessed batch ${expectShape(spec)}), data.npz[:split[:range]] or a bundled dataset (${Object.keys(BUNDLED_DATASETS).join(', ')})`,
  );
}

function parseTarget(v: string | undefined, k: number): Target {
  if (v === undefined || v === 'pred') return 'pred';
  const t = Number(v);
  if (!Number.isInteger(t) || t < 0 || t >= k) throw new UsageError(`--target must be 'pred' or a class index 0..${k - 1}, got '${v}'`);
  return t;
}

function parseAlpha(v: string | undefined): number {
  if (v === undefined) return 0.5;
  const a = Number(v);
  if (!(a >= 0 && a <= 1) || v.trim() === '') throw new UsageError(`--alpha must be a number in [0, 1], got '${v}'`);
  return a;
}

function softmaxRow(logits: Tensor, i: number): number[] {
  const k = logits.shape[1]!;
  return Array.from(softmax(logits.data.subarray(i * k, (i + 1) * k), k));
}

export async function explainCommand(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      model: { type: 'string' },
      input: { type: 'string' },
      methods: { type: 'string' },
      layer: { type: 'string' },
      target: { type: 'string' },
      colormap: { type: 'string' },
      'diverging-colormap': { type: 'string' },
      alpha: { type: 'string' },
      out: { type: 'string' },
      'batch-size': { type: 'string' },
      threads: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    EXPLAIN_USAGE,
  );
  if (values.help) {
    console.log(EXPLAIN_USAGE);
    return;
  }
  let methods: string[];
  try {
    methods = parseMethods(required(values.methods, '--methods', EXPLAIN_USAGE));
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError((e as Error).message);
  }
  const out = required(values.out, '--out', EXPLAIN_USAGE);
  const viz = { colormap: values.colormap ?? 'jet', divergingColormap: values['diverging-colormap'] ?? 'rdbu_r', alpha: parseAlpha(values.alpha) };
  for (const c of [viz.colormap, viz.divergingColormap]) {
    try {
      getColormap(c);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0) && !values.force) {
    throw new UsageError(`${out} exists and is not empty; use --force to write into it`);
  }
  const modelPath = values.model ?? BASELINE_MODEL;
  if (!existsSync(modelPath)) throw new UsageError(`${modelPath}: no such model file`);
  const model = loadModel(modelPath, {
    batchSize: parseIntArg(values['batch-size'], '--batch-size', 64),
    threads: values.threads ? parseIntArg(values.threads, '--threads', 0) : undefined,
  });
  try {
    const spec = modelSpec(model, modelPath);
    const target = parseTarget(values.target, model.numClasses);
    const batch = await loadBatch(values.input, spec);
    const n = batch.x.shape[0]!;
    const [, c, h, w] = batch.x.shape as [number, number, number, number];
    const classNames = spec.classNames ?? (batch.classNames?.length === model.numClasses ? batch.classNames : defaultClassNames(model.numClasses));
    if (values.layer && !methods.some((m) => getMethod(m).usesLayer)) console.warn(`candor explain: --layer ignored (no CAM method among ${methods.join(', ')})`);

    mkdirSync(out, { recursive: true });
    const maps = new Map<string, { map: Tensor; signed: boolean; targets: number[] }>();
    let logits: Tensor | undefined;
    for (const m of methods) {
      const t0 = performance.now();
      const a = await explain(model, batch.x, m, target, { layer: values.layer });
      logits ??= a.logits;
      maps.set(m, { map: a.map, signed: a.signed, targets: a.targets });
      await writeNpyFile(join(out, `${m}.npy`), a.map);
      for (let i = 0; i < n; i++) {
        const img = new Tensor(batch.display.data.slice(i * c * h * w, (i + 1) * c * h * w), [c, h, w]);
        const map = new Tensor(a.map.data.slice(i * h * w, (i + 1) * h * w), [h, w]);
        await writeFileAtomic(join(out, `${m}_${i}.png`), overlayPng(img, map, { ...viz, signed: a.signed }));
      }
      console.log(`${m}: ${n} map(s) [${a.map.shape.join(', ')}]${a.signed ? ' (signed)' : ''} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    }

    const rows: GridRow[] = [];
    for (let i = 0; i < n; i++) {
      const p = softmaxRow(logits!, i);
      let pred = 0;
      for (let j = 1; j < p.length; j++) if (p[j]! > p[pred]!) pred = j;
      const title: string[] = [];
      if (batch.labels) title.push(`TRUE ${classNames[batch.labels[i]!] ?? batch.labels[i]}`);
      title.push(`PRED ${classNames[pred]} ${p[pred]!.toFixed(2)}`);
      rows.push({
        image: new Tensor(batch.display.data.slice(i * c * h * w, (i + 1) * c * h * w), [c, h, w]),
        title,
        panels: methods.map((m) => {
          const r = maps.get(m)!;
          const tl = r.targets[i]!;
          return {
            map: new Tensor(r.map.data.slice(i * h * w, (i + 1) * h * w), [h, w]),
            signed: r.signed,
            title: target === 'pred' ? [m] : [m, `CLASS ${classNames[tl] ?? tl}`],
          };
        }),
      });
    }
    await writeFileAtomic(join(out, 'grid.png'), gridPng(rows, viz));
    console.log(`${out}: ${methods.length} method(s) × ${n} image(s) of ${batch.description}; model ${modelPath}`);
  } finally {
    await model.dispose();
  }
}
