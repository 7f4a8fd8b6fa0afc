/**
 * `candor audit`: stress-test a model's explanations end to end and write the report
 * (candor-report/index.html, results.json, maps/*.npy). With no arguments: the bundled baseline on
 * the bundled PneumoniaMNIST at 64×64, training the random-label and shortcut models it needs
 * (cached, so a second run reuses them).
 */
import { resolve } from 'node:path';
import { parseMethods } from '../explain/registry.js';
import { runAudit } from '../audit/run.js';
import { isTestOnly } from '../train/prepare.js';
import { AUDIT_TEST_IDS } from '../audit/tests.js';
import { formatDuration } from '../train/progress.js';
import { parse, parseFrames, parseIntArg, parseScale, parseWindow, UsageError, parseVoxelOrder } from './args.js';
import { PREPROCESS_HELP, PREPROCESS_OPTIONS, resolvePreprocessing } from './preprocess-args.js';

export const DEFAULT_AUDIT_METHODS = 'saliency,smoothgrad,ig,occlusion,gradcam,gradcampp,scorecam';

export const AUDIT_USAGE = `usage: candor audit [--model m.onnx] [--data pneumoniamnist|file.npz|image-folder|labels.csv]
       [--train-data D] [--layer L] [--methods ${DEFAULT_AUDIT_METHODS}]
       [--n 100] [--n-randomization 24] [--n-stability 24] [--shortcut corner:8] [--region box:x,y,w,h|mask.npy|masks]
       [--masks masks|MASK_DIR|boxes.csv|mask.npy] [--figures]
       [--split test|all] [--scale pm1|unit|imagenet|byte] [--window C,W] [--axis k] [--resize stretch|pad|crop] [--frames first|all] [--strict] [--voxel-order ijk|kji|ras]
       [--epochs-random-labels 60] [--epochs-shortcut 2] [--train-limit N] [--tests ${AUDIT_TEST_IDS.join(',')}]
       [--labels F1,F2] [--seed 0] [--threads N] [--out candor-report] [--force] [--cache .candor-cache | --no-cache]
       [--queue redis://HOST:PORT] [--store .candor-store|s3://BUCKET/PREFIX]

Runs the explanation stress tests on a sample of test images and writes OUT/index.html (open it in
a browser; it needs no network), OUT/results.json (every number) and OUT/maps/*.npy (raw maps); --figures also writes every figure as
OUT/figures/<id>.svg and OUT/figures/<id>.pdf (vector, text as text: for papers).
With no --model, the bundled baseline and PneumoniaMNIST. Models the tests need (random labels,
shortcut) are trained on the training split of --train-data (default: --data) and cached in the
cache folder (--train-limit N: about N images per split, for quick runs; the random-label model takes
500 unless told, and trains until it memorises them: training accuracy 0.95, at most
--epochs-random-labels epochs); finished maps are cached too, so a re-run reuses them. An existing report is only
replaced with --force. --split all audits every image of --data as an external test set (no split
drawn; a .npz with only test_images is one): the sanity-check models then train on --train-data, which is
required, and recalibration is fitted on its validation split. Preprocessing (below) comes from the
model card unless a flag says otherwise; the sanity-check models are trained with the same. --region names a lesion, organ or confounder (pixels of the model input; a mask
.npy is [H,W] for every image or [N_test,H,W] per test image; 'masks': the data's own <split>_masks, as
candor synth-volumes writes) for the localization test. --masks gives ground-truth lesions for the localisation
benchmark (mIoU after Otsu's and a tuned threshold, hit rate, AUPRC, against chance and the control maps):
'masks' (the data's own, as for --region; NIfTI segmentations listed in masks.csv for a CSV of volumes), a
folder of mask images named as the data's images (taken through the same resize), a CSV of boxes
(file,x,y,w,h in the image file's pixels; for a .npz, row,x,y,w,h in model-input pixels), or a mask .npy.
A 3-D model (input [N,C,D,H,W]) is audited on volumes (a MedMNIST-3D-style .npz: --data from candor
synth-volumes, or OrganMNIST3D and its kin): the shortcut marker is a cube (corner:S) or a slab (stripe:W),
a box region is box:x,y,z,w,h,d, figures show each map's three orthogonal planes through its maximum and
its maximum-intensity projection, occlusion uses cubes of size/8 without overlap, and ROAD is not run
(no 3-D imputation). A folder or CSV of NIfTI files is read as volumes, one per file, voxel axes in
--voxel-order (the card's, else ijk as stored; kji as SimpleITK; ras reoriented).
A multi-label model (one sigmoid per finding; data with a label matrix [N, K], ChestMNIST's layout) is
audited one finding at a time, as the binary classifier σ(z_k) of that finding, with its own random-label
and shortcut models: --labels names the findings (default: every finding with at least 10 positive and
10 negative test images), each report in OUT/<finding>/ with an index at OUT/index.html.
--queue redis://HOST:PORT runs the attribution maps and the sanity-check models as units of a BullMQ queue
taken by \`candor worker\`s (on this machine or others), through the content store --store (a folder every
worker mounts, default .candor-store, or s3://BUCKET/PREFIX); the report is the same as without --queue.

${PREPROCESS_HELP}`;

export async function auditCommand(argv: string[]): Promise<void> {
  const { values: v } = parse(
    argv,
    {
      model: { type: 'string' },
      data: { type: 'string', default: 'pneumoniamnist' },
      'train-data': { type: 'string' },
      layer: { type: 'string' },
      methods: { type: 'string', default: DEFAULT_AUDIT_METHODS },
      n: { type: 'string', default: '100' },
      'n-randomization': { type: 'string', default: '24' },
      'n-stability': { type: 'string', default: '24' },
      shortcut: { type: 'string', default: 'corner:8' },
      region: { type: 'string' },
      masks: { type: 'string' },
      figures: { type: 'boolean', default: false },
      labels: { type: 'string' },
      ...PREPROCESS_OPTIONS,
      split: { type: 'string' },
      frames: { type: 'string' },
      strict: { type: 'boolean', default: false },
      'voxel-order': { type: 'string' },
      'epochs-random-labels': { type: 'string', default: '60' },
      'epochs-shortcut': { type: 'string', default: '2' },
      'train-limit': { type: 'string' },
      tests: { type: 'string', default: AUDIT_TEST_IDS.join(',') },
      seed: { type: 'string', default: '0' },
      threads: { type: 'string' },
      out: { type: 'string', default: 'candor-report' },
      force: { type: 'boolean', default: false },
      cache: { type: 'string', default: '.candor-cache' },
      'no-cache': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      queue: { type: 'string' },
      store: { type: 'string', default: '.candor-store' },
      help: { type: 'boolean', short: 'h' },
    },
    AUDIT_USAGE,
  );
  if (v.help) {
    console.log(AUDIT_USAGE);
    return;
  }
  let methods: string[];
  try {
    methods = parseMethods(v.methods!);
  } catch (e) {
    throw new UsageError(`--methods: ${(e as Error).message}`);
  }
  const tests = v.tests!.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = tests.filter((t) => !AUDIT_TEST_IDS.includes(t));
  if (unknown.length || !tests.length) throw new UsageError(`--tests: unknown test '${unknown.join(', ')}' (valid: ${AUDIT_TEST_IDS.join(', ')})`);
  const flags = resolvePreprocessing(v); // validates the flags; the model card fills what they leave out (audit/context.ts)
  const split = (v.split ?? (isTestOnly(v.data!) ? 'all' : 'test')) as 'test' | 'all';
  if (split !== 'test' && split !== 'all') throw new UsageError(`--split must be test (the test split of --data) or all (all of --data, an external test set; needs --train-data), got '${v.split}'`);
  if (split === 'all' && !v['train-data']) throw new UsageError(`${v.split ? '--split all audits' : 'it holds only a test split, so the audit takes'} all of ${v.data} as an external test set; nothing of it may train the random-label and shortcut models: give --train-data D (the data the model was developed on)`);
  const seed = Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got '${v.seed}'`);
  const result = await runAudit({
    model: v.model,
    data: v.data!,
    trainData: v['train-data'],
    layer: v.layer,
    methods,
    n: parseIntArg(v.n, '--n', 100),
    nRandomization: parseIntArg(v['n-randomization'], '--n-randomization', 24),
    nStability: parseIntArg(v['n-stability'], '--n-stability', 24),
    shortcut: v.shortcut!,
    region: v.region,
    masks: v.masks,
    figures: v.figures,
    labels: v.labels,
    voxelOrder: v['voxel-order'] === undefined ? undefined : parseVoxelOrder(v['voxel-order'], true),
    window: v.window === undefined ? undefined : parseWindow(v.window),
    frames: parseFrames(v.frames),
    scale: v.scale === undefined ? undefined : parseScale(v.scale),
    axis: v.axis === undefined ? undefined : flags.pre.axis,
    resize: v.resize === undefined ? undefined : flags.pre.resize,
    split,
    strict: v.strict,
    epochs: { randomLabels: parseIntArg(v['epochs-random-labels'], '--epochs-random-labels', 60), shortcut: parseIntArg(v['epochs-shortcut'], '--epochs-shortcut', 2) },
    trainLimit: v['train-limit'] ? parseIntArg(v['train-limit'], '--train-limit', 0) : undefined,
    tests,
    seed,
    threads: v.threads ? parseIntArg(v.threads, '--threads', 0) : undefined,
    cacheDir: v['no-cache'] ? undefined : resolve(v.cache!),
    quiet: v.quiet,
    queue: v.queue,
    store: v.store,
    out: v.out!,
    force: v.force!,
  });
  const counts = new Map<string, number>();
  for (const c of result.checklist) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  console.log(`${result.out}/index.html: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')} (${formatDuration(result.seconds)}; cache ${result.cache.hits} reused, ${result.cache.misses} computed)`);
}
