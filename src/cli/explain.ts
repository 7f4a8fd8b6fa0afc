/**
 * `candor explain`: attribution maps for a batch of images, with overlays and a side-by-side grid.
 *
 * Inputs (explain-input.ts): a preprocessed `.npy` batch, raw image arrays, MedMNIST `.npz`, PNG/JPEG
 * files, DICOM, NIfTI — resized to the model's input size and scaled as for training. With no
 * --model, the bundled baseline; with no --input, the first 8 test images of the bundled PneumoniaMNIST.
 *
 * Method options: `--opt method.key=value` (repeatable; `key=value` alone applies to every listed
 * method that accepts the key) plus shortcuts for the common ones. Values: true/false, numbers,
 * comma-separated numbers (arrays), a `.npy` path (loaded as a tensor: IG baseline, GradientSHAP
 * baselines, feature-ablation mask), else strings. Unknown methods or keys are errors listing the
 * valid ones.
 *
 * Writes into --out: `<method>.npy` (raw maps [N,H,W], float32), with --keep-channels also
 * `<method>_attributions.npy` ([N,C,H,W], methods that have per-channel attributions),
 * `<method>_<i>.png` (overlays, i counting from 0 within the batch), `grid.svg` (the figure with real text)
 * and `grid.png` (the same rasterised by resvg); with `--pdf`, `grid.pdf` (the same as a PDF, text as text).
 */
import { checkOutputDir } from '../io/out-dir.js';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { candorVersion } from '../train/card.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, readCardJson } from '../runtime/node.js';
import { readNpyFile, writeFileAtomic, writeNpyFile } from '../io/files.js';
import { Tensor } from '../tensor/tensor.js';
import { defaultClassNames } from '../data/dataset.js';
import { getMethod, parseMethods, explain, optionNames } from '../explain/registry.js';
import type { Target } from '../explain/types.js';
import { getColormap } from '../viz/colormap.js';
import { overlayPng } from '../viz/overlay.js';
import { DEFAULT_CLIP, rangeOf, rawRange, type DisplayNormalize, type DisplayRange } from '../viz/display-scale.js';
import type { GridRow } from '../viz/grid.js';
import { gridSvg } from '../viz/grid-svg.js';
import { svgToPdf } from '../viz/pdf.js';
import { svgToPng } from '../viz/rasterize.js';
import { parse, parseIntArg, required, UsageError } from './args.js';
import { resolvePreprocessing, describeResolved, resolvedRecord, PREPROCESS_OPTIONS } from './preprocess-args.js';
import { DEFAULT_COUNT, loadBatch, modelSpec, sourceLabel, type Batch } from './explain-input.js';
import { EXPLAIN_USAGE } from './explain-usage.js';
import { QueueExecutor } from '../queue/coordinator.js';
import { ContentStore, DEFAULT_STORE } from '../queue/store.js';

export { EXPLAIN_USAGE };
import { loadVolumeBatch, type VolumeBatch } from './volume-input.js';
import { volumeFigure, volumeGridRow, writeVolumeNifti } from './explain-volume-out.js';
import { VOXEL_ORDERS, type VoxelOrder } from '../data/volume.js';

export const BASELINE_MODEL = fileURLToPath(new URL('../../models/baseline/small_cnn_pneumoniamnist64.onnx', import.meta.url));

/** Shortcut flags → method.option. */
const SHORTCUTS: Record<string, [string, string][]> = {
  'ig-steps': [['ig', 'steps']],
  'ig-method': [['ig', 'method']],
  baseline: [['ig', 'baseline']],
  'smoothgrad-samples': [['smoothgrad', 'samples']],
  noise: [['smoothgrad', 'noiseLevel']],
  'shap-samples': [['gradientshap', 'samples'], ['expectedgradients', 'samples']],
  'occlusion-window': [['occlusion', 'window']],
  'occlusion-stride': [['occlusion', 'strides']],
  'scorecam-variant': [['scorecam', 'variant']],
  'rise-masks': [['rise', 'masks']],
  'ablation-mask': [['featureablation', 'mask']],
};

/** A CLI value as the option's type: boolean, number, number list, tensor (.npy) or string. */
async function optionValue(v: string, where: string): Promise<unknown> {
  if (v === 'true' || v === 'false') return v === 'true';
  if (v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (/^-?[\d.eE+-]+(,-?[\d.eE+-]+)+$/.test(v) && v.split(',').every((p) => Number.isFinite(Number(p)))) return v.split(',').map(Number);
  if (/\.npy$/i.test(v)) {
    if (!existsSync(v)) throw new UsageError(`${where}: ${v}: no such file`);
    const t = await readNpyFile(v);
    return t.dtype === 'float32' ? t : new Tensor(Float32Array.from(t.data as ArrayLike<number>, Number), t.shape);
  }
  return v;
}

/** --opt and shortcut flags → options per method, validated against the registry. */
async function methodOptions(methods: string[], opts: string[], shortcuts: Record<string, string | undefined>): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map(methods.map((m) => [m, {} as Record<string, unknown>]));
  const set = async (method: string | undefined, key: string, raw: string, where: string) => {
    const targets = method ? [method] : methods.filter((m) => optionNames(getMethod(m)).includes(key));
    if (method && !methods.includes(method)) {
      throw new UsageError(`${where}: method '${method}' is not among --methods (${methods.join(', ')})`);
    }
    if (!targets.length) throw new UsageError(`${where}: no method among ${methods.join(', ')} takes '${key}'`);
    for (const m of targets) {
      const valid = optionNames(getMethod(m)).filter((k) => k !== 'onProgress' && k !== 'layer');
      if (!valid.includes(key)) throw new UsageError(`${where}: ${m} has no option '${key}' (valid: ${valid.join(', ')})`);
      out.get(m)![key] = await optionValue(raw, where);
    }
  };
  for (const o of opts) {
    const m = /^(?:([a-z0-9]+)\.)?([A-Za-z][A-Za-z0-9]*)=(.*)$/i.exec(o);
    if (!m) throw new UsageError(`--opt '${o}': expected method.key=value or key=value (e.g. ig.steps=32)`);
    let method = m[1]?.toLowerCase();
    if (method !== undefined) {
      try {
        method = getMethod(method).name;
      } catch (e) {
        throw new UsageError(`--opt '${o}': ${(e as Error).message}`);
      }
    }
    await set(method, m[2]!, m[3]!, `--opt '${o}'`);
  }
  for (const [flag, v] of Object.entries(shortcuts)) {
    if (v === undefined) continue;
    const hits = SHORTCUTS[flag]!.filter(([m]) => methods.includes(m));
    if (!hits.length) throw new UsageError(`--${flag} applies to ${SHORTCUTS[flag]!.map(([m]) => m).join(', ')}, which is not among --methods (${methods.join(', ')})`);
    for (const [m, k] of hits) await set(m, k, v, `--${flag}`);
  }
  return out;
}

/** A method's per-image diagnostics (IG's convergence delta, LRP's relevance sums, …): numbers and text, not tensors. */
function diagnostics(extra: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(extra ?? {})) {
    if (typeof v === 'number' || typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'number'))) out[key] = v;
  }
  return out;
}

/** One explanation target of the command: a Target for the explainers and a suffix for the files it writes. */
interface TargetJob {
  target: Target;
  /** '' for a single job; '_<label>' per label with --target all. */
  suffix: string;
  /** The label or class it names, for titles (undefined: 'pred'). */
  label?: string;
}

/**
 * --target: 'pred', a class or label index, a class or label name, or 'all' (every label of a multi-label
 * model, each explained on its own logit; the default for multi-label models).
 */
export function parseTargets(v: string | undefined, k: number, names: readonly string[], multiLabel: boolean): TargetJob[] {
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const what = multiLabel ? 'label' : 'class';
  if (v === 'all' || (v === undefined && multiLabel)) {
    if (!multiLabel) throw new UsageError(`--target all explains every label of a multi-label model; this model has one class per image (softmax over ${k}); give 'pred', a class index 0..${k - 1} or a class name (${names.join(', ')})`);
    return names.map((name, t) => ({ target: t, suffix: `_${slug(name) || t}`, label: name }));
  }
  if (v === undefined || v === 'pred') return [{ target: 'pred', suffix: '' }];
  const t = /^\d+$/.test(v) ? Number(v) : names.findIndex((n) => n.toLowerCase() === v.toLowerCase());
  if (t < 0 || t >= k) {
    throw new UsageError(`--target must be 'pred'${multiLabel ? ", 'all'" : ''}, a ${what} index 0..${k - 1} or a ${what} name (${names.join(', ')}); got '${v}'`);
  }
  return [{ target: t, suffix: '', label: names[t] }];
}

function parseOpacity(v: string | undefined, flag = '--opacity'): number {
  if (v === undefined) return 0.5;
  const a = Number(v);
  if (!(a >= 0 && a <= 1) || v.trim() === '') throw new UsageError(`${flag} must be a number in [0, 1], got '${v}'`);
  return a;
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
      opacity: { type: 'string' },
      normalize: { type: 'string' },
      clip: { type: 'string' },
      'panel-size': { type: 'string' },
      out: { type: 'string' },
      opt: { type: 'string', multiple: true },
      ...PREPROCESS_OPTIONS,
      'keep-channels': { type: 'boolean' },
      pdf: { type: 'boolean' },
      ...Object.fromEntries(Object.keys(SHORTCUTS).map((k) => [k, { type: 'string' as const }])),
      'batch-size': { type: 'string' },
      threads: { type: 'string' },
      force: { type: 'boolean' },
      'voxel-order': { type: 'string' },
      queue: { type: 'string' },
      store: { type: 'string', default: DEFAULT_STORE },
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
  // one name, one meaning across commands: --alpha is conformal's miscoverage level
  if (values.alpha !== undefined) throw new UsageError(`--alpha is not an option of explain: the overlay's opacity is --opacity (e.g. --opacity ${values.alpha}); --alpha is the miscoverage level of candor conformal`);
  const normalize = (values.normalize ?? 'each') as DisplayNormalize;
  if (!['each', 'shared', 'none'].includes(normalize)) throw new UsageError(`--normalize must be each (every map on its own range), shared (one range per method over all images) or none (raw values), got '${values.normalize}'`);
  const clip = values.clip === undefined ? DEFAULT_CLIP : Number(values.clip);
  if (!(clip > 0 && clip <= 100) || values.clip?.trim() === '') throw new UsageError(`--clip must be a percentage in (0, 100] (the share of attribution mass below saturation: 99 default, 98 as Captum, 100 = the maximum), got '${values.clip}'`);
  const panel = parseIntArg(values['panel-size'], '--panel-size', 256);
  if (panel < 16 || panel > 4096) throw new UsageError(`--panel-size must be between 16 and 4096 pixels, got ${panel}`);
  const viz = { colormap: values.colormap ?? 'jet', divergingColormap: values['diverging-colormap'] ?? 'rdbu_r', alpha: parseOpacity(values.opacity), clip, normalize, minPanel: panel };
  const rangeFor = (map: Tensor, signed: boolean): DisplayRange | undefined => (normalize === 'shared' ? rangeOf([map.data], signed, clip) : normalize === 'none' ? rawRange(signed) : undefined);
  const vals = values as Record<string, unknown>;
  const perMethod = await methodOptions(methods, (values.opt as string[] | undefined) ?? [], Object.fromEntries(Object.keys(SHORTCUTS).map((k) => [k, vals[k] as string | undefined])));
  const layer = values.layer === undefined ? undefined : values.layer.includes(',') ? values.layer.split(',').map((l) => l.trim()) : values.layer;
  for (const c of [viz.colormap, viz.divergingColormap]) {
    try {
      getColormap(c);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  try {
    checkOutputDir(out);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0) && !values.force) {
    throw new UsageError(`${out} exists and is not empty; use --force to write into it`);
  }
  const modelPath = values.model ?? BASELINE_MODEL;
  if (!existsSync(modelPath)) throw new UsageError(`${modelPath}: no such model file`);
  const resolved = resolvePreprocessing(values, modelPath);
  const model = loadModel(modelPath, {
    batchSize: parseIntArg(values['batch-size'], '--batch-size', 64),
    threads: values.threads ? parseIntArg(values.threads, '--threads', 0) : undefined,
  });
  let executor: QueueExecutor | undefined;
  try {
    const spec = modelSpec(model, modelPath);
    // the flag, else the order the model was trained with (its card), else the file's own (ijk)
    const carded = (readCardJson(modelPath) as { input?: { voxelOrder?: VoxelOrder } } | undefined)?.input?.voxelOrder;
    const voxelOrder = (values['voxel-order'] ?? carded ?? 'ijk') as VoxelOrder;
    if (!VOXEL_ORDERS.includes(voxelOrder)) throw new UsageError(`--voxel-order must be one of ${VOXEL_ORDERS.join(', ')}, got '${values['voxel-order']}'`);
    if (values['voxel-order'] !== undefined && spec.depth === undefined) throw new UsageError('--voxel-order applies to 3-D models (input [N,C,D,H,W]); this model takes 2-D images');
    const vbatch: VolumeBatch | undefined = spec.depth !== undefined ? await loadVolumeBatch(values.input, spec, { ...resolved.pre, voxelOrder }) : undefined;
    const batch: Batch = vbatch ?? (await loadBatch(values.input, spec, resolved.pre));
    console.error(`candor explain: ${describeResolved(resolved, vbatch ? voxelOrder : undefined)}`);
    for (const note of batch.notes ?? []) console.error(`candor explain: ${note}`);
    const n = batch.x.shape[0]!;
    const c = batch.x.shape[1]!;
    const spatial = batch.x.shape.slice(2);
    const [h, w] = spatial.slice(-2) as [number, number];
    const vox = spatial.reduce((a, b) => a * b, 1);
    const classNames = spec.classNames ?? (batch.classNames?.length === model.numClasses ? batch.classNames : defaultClassNames(model.numClasses));
    const jobs = parseTargets(values.target, model.numClasses, classNames, model.multiLabel);
    if (values.layer && !methods.some((m) => getMethod(m).usesLayer)) console.warn(`candor explain: --layer ignored (no CAM method among ${methods.join(', ')})`);

    mkdirSync(out, { recursive: true });
    const maps = new Map<string, { map: Tensor; signed: boolean; targets: number[]; range?: DisplayRange }>();
    const record: Record<string, unknown>[] = [];
    let logits: Tensor | undefined;
    // With --queue every method × target is a unit of the queue, all submitted now; the outputs are written in order below.
    if (values.queue) executor = await QueueExecutor.connect({ url: values.queue, store: await ContentStore.open(values.store!), version: candorVersion(), log: (l) => console.error(`candor explain:${l}`) });
    const queued = executor ? new Map(methods.flatMap((m) => jobs.map((job) => [m + job.suffix, executor!.explain(model, batch.x, m, job.target, { layer, ...perMethod.get(m) }, !!values['keep-channels'])] as const))) : undefined;
    for (const p of queued?.values() ?? []) p.catch(() => {}); // awaited in order below
    for (const m of methods) {
      for (const job of jobs) {
        const t0 = performance.now();
        let a;
        try {
          a = queued ? await queued.get(m + job.suffix)! : await explain(model, batch.x, m, job.target, { layer, ...perMethod.get(m) });
        } catch (e) {
          const msg = (e as Error).message;
          // option values of the wrong kind are usage errors, reported as such
          if (/unknown (option|variant|baseline|method|mask|score|cam|ablation)|must be|valid:/.test(msg)) throw new UsageError(msg);
          throw e;
        }
        logits ??= a.logits;
        const key = m + job.suffix;
        const range = rangeFor(a.map, a.signed);
        maps.set(key, { map: a.map, signed: a.signed, targets: a.targets, range });
        await writeNpyFile(join(out, `${key}.npy`), a.map);
        if (values['keep-channels']) {
          if (a.attributions) await writeNpyFile(join(out, `${key}_attributions.npy`), a.attributions);
          else console.warn(`candor explain: ${m} has no per-channel attributions (only the map); --keep-channels wrote none`);
        }
        const niftiFiles = vbatch ? await writeVolumeNifti(out, key, vbatch, a.map, m) : [];
        for (let i = 0; i < n; i++) {
          if (vbatch) {
            const fig = volumeFigure(vbatch, i, a.map.data.slice(i * vox, (i + 1) * vox) as Float32Array, a.signed, [sourceLabel(batch.sources[i]!), m], { ...viz, range });
            await writeFileAtomic(join(out, `${key}_${i}.png`), fig);
            continue;
          }
          const img = new Tensor(batch.display.data.slice(i * c * h * w, (i + 1) * c * h * w), [c, h, w]);
          const map = new Tensor(a.map.data.slice(i * h * w, (i + 1) * h * w), [h, w]);
          await writeFileAtomic(join(out, `${key}_${i}.png`), overlayPng(img, map, { ...viz, signed: a.signed, range, minSize: panel }));
        }
        record.push({
          method: m,
          file: `${key}.npy`,
          target: job.target,
          targets: a.targets,
          options: { ...getMethod(m).defaults, ...(getMethod(m).usesLayer ? { layer: layer ?? 'auto' } : {}), ...perMethod.get(m) },
          signed: a.signed,
          ...(niftiFiles.length ? { nifti: niftiFiles } : {}),
          diagnostics: diagnostics(a.extra),
          seconds: +((performance.now() - t0) / 1000).toFixed(3),
        });
        const of = job.label === undefined ? '' : ` of ${model.multiLabel ? 'label' : 'class'} '${job.label}'`;
        console.log(`${m}${of}: ${n} map(s) [${a.map.shape.join(', ')}]${a.signed ? ' (signed)' : ''} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      }
    }

    const probs = model.probabilities(logits!);
    const k = model.numClasses;
    const rows: GridRow[] = [];
    for (let i = 0; i < n; i++) {
      const p = Array.from(probs.data.subarray(i * k, (i + 1) * k));
      const title: string[] = [sourceLabel(batch.sources[i]!)];
      if (batch.labels) title.push(`TRUE ${classNames[batch.labels[i]!] ?? batch.labels[i]}`);
      if (model.multiLabel) {
        const present = p.map((v, j) => [v, j] as const).filter(([v]) => v > 0.5).sort((a, b) => b[0] - a[0]);
        title.push(present.length ? `PRESENT ${present.slice(0, 3).map(([v, j]) => `${classNames[j]} ${v.toFixed(2)}`).join(', ')}` : 'NO LABEL ABOVE 0.5');
      } else {
        let pred = 0;
        for (let j = 1; j < p.length; j++) if (p[j]! > p[pred]!) pred = j;
        title.push(`PRED ${classNames[pred]} ${p[pred]!.toFixed(2)}`);
      }
      if (vbatch) {
        const panels = methods.flatMap((m) =>
          jobs.map((job) => {
            const r = maps.get(m + job.suffix)!;
            const tl = r.targets[i]!;
            return { map: r.map.data.slice(i * vox, (i + 1) * vox) as Float32Array, signed: r.signed, range: r.range, title: job.target === 'pred' && !model.multiLabel ? [m] : [m, `CLASS ${classNames[tl] ?? tl}`] };
          }),
        );
        rows.push(volumeGridRow(vbatch, i, title, panels));
        continue;
      }
      rows.push({
        image: new Tensor(batch.display.data.slice(i * c * h * w, (i + 1) * c * h * w), [c, h, w]),
        title,
        panels: methods.flatMap((m) =>
          jobs.map((job) => {
            const r = maps.get(m + job.suffix)!;
            const tl = r.targets[i]!;
            const label = model.multiLabel ? `LABEL ${classNames[tl] ?? tl} ${p[tl]!.toFixed(2)}` : `CLASS ${classNames[tl] ?? tl}`;
            return { map: new Tensor(r.map.data.slice(i * h * w, (i + 1) * h * w), [h, w]), signed: r.signed, range: r.range, title: job.target === 'pred' && !model.multiLabel ? [m] : [m, label] };
          }),
        ),
      });
    }
    // the figure as SVG with real text (for papers and slides), and rasterised with the bundled font
    const svg = gridSvg(rows, viz);
    await writeFileAtomic(join(out, 'grid.svg'), new TextEncoder().encode(svg));
    await writeFileAtomic(join(out, 'grid.png'), svgToPng(svg));
    if (values.pdf) await writeFileAtomic(join(out, 'grid.pdf'), await svgToPdf(svg, { title: `candor explain: ${methods.join(', ')}` }));
    // The record behind every number: what was explained, from where, by which model, with which options.
    const bytes = readFileSync(modelPath);
    const explainJson = {
      candorVersion: candorVersion(),
      createdAt: new Date().toISOString(),
      command: ['explain', ...argv],
      model: {
        path: modelPath,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        input: { name: model.inputName, shape: model.inputShape, channels: c, ...(spec.depth !== undefined ? { depth: spec.depth } : {}), height: h, width: w },
        classes: classNames,
        multiLabel: model.multiLabel,
        adaptations: model.adaptations(),
      },
      input: {
        spec: values.input ?? `pneumoniamnist:test:0-${DEFAULT_COUNT}`,
        description: batch.description,
        scale: resolved.pre.scale,
        preprocessing: resolvedRecord(resolved),
        ...(vbatch ? { voxelOrder, spacing: vbatch.spacing, affines: vbatch.volumes.map((s) => s?.affine ?? null) } : {}),
        notes: batch.notes ?? [],
      },
      images: batch.sources.map((source, i) => ({
        source,
        label: batch.labels ? classNames[batch.labels[i]!] ?? batch.labels[i] : null,
        logits: Array.from(logits!.data.subarray(i * k, (i + 1) * k)),
        probabilities: Array.from(probs.data.subarray(i * k, (i + 1) * k)),
      })),
      maps: record,
      display: { normalize, clip, panelSize: panel, upscaling: 'nearest (integer factor: each map pixel a block, nothing interpolated)', definition: 'src/viz/display-scale.ts: signed 0.5 + clip(m/t, −1, 1)/2, unsigned clip((m − min)/t, 0, 1); t = the value below which clip % of the attribution mass lies (Captum visualize_image_attr outlier threshold); shared: one t per method over all images; none: t = 1, min = 0' },
    };
    await writeFileAtomic(join(out, 'explain.json'), new TextEncoder().encode(JSON.stringify(explainJson, null, 1) + '\n'));
    for (const note of model.adaptations()) console.log(note);
    console.log(`${out}: ${methods.length} method(s) × ${n} image(s) of ${batch.description}; model ${modelPath}`);
  } finally {
    await executor?.close();
    await model.dispose();
  }
}
