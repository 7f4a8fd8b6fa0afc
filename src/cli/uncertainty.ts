/**
 * `candor uncertainty`: uncertainty from T stochastic predictions — MC dropout (a model whose dropout
 * stays stochastic at inference), a deep ensemble (several ONNX files), or test-time augmentation —
 * or from one prediction; predictive entropy, mutual information (BALD), variance, max-softmax and
 * energy scores; selective prediction (risk–coverage curve, AURC) and a refer-for-review list.
 */
import { existsSync, readFileSync } from 'node:fs';
import { UsageError, parse } from './args.js';
import { INPUT_HELP, INPUT_OPTIONS, loadInputs, modelRunOptions, type InputRecord, numberArg, outDir, printChecks, writePart } from '../trust/cli-common.js';
import { datasetFor, loadSamplesNpy, runPasses, type Predictions } from '../trust/inputs.js';
import { UNCERTAINTY_SCORES, type UncertaintyScore, uncertaintyPart, type Stochastic } from '../trust/report-uncertainty.js';
import { softmax } from '../train/metrics.js';
import { parseNpy } from '../io/npy.js';

export const UNCERTAINTY_USAGE = `usage: candor uncertainty --out DIR [--score max-softmax] [--coverage 0.9] [--force] and one of
       --model m.onnx [--mode single|mc|tta] [--passes 20] [--data D] [--split test]
       --model a.onnx --model b.onnx … --mode ensemble [--data D] [--split test]
       --samples samples.npy --labels labels.npy    [T, N, K] probabilities (--logits if logits)
       --probs FILE [--labels FILE]                 one prediction per case

Modes: single (one pass: max-softmax, entropy, energy), mc (T passes of a model whose dropout stays
stochastic at inference, e.g. 'candor train' models built with stochastic dropout; a deterministic
model gives T identical passes and is reported), ensemble (one pass of each model), tta (the
original plus T − 1 seeded small rotations and shifts). Reports predictive entropy, expected
entropy, mutual information (BALD), variance of the predicted class, how well each separates
errors from correct calls (as exploration), the risk–coverage curve with AURC, and the cases to refer
for human review at --coverage. The verdict, the curve and the referral list use one score chosen
before the data are seen: --score max-softmax (1 − the top probability; default), entropy,
mutual-information or variance (several passes), energy (one pass with logits).

${INPUT_HELP}`;

export async function uncertaintyCommand(argv: string[]): Promise<void> {
  const { values: v } = parse(argv, { ...INPUT_OPTIONS, mode: { type: 'string', default: 'single' }, passes: { type: 'string', default: '20' }, samples: { type: 'string' }, coverage: { type: 'string', default: '0.9' }, score: { type: 'string', default: 'max-softmax' }, 'batch-size': { type: 'string' } }, UNCERTAINTY_USAGE);
  if (v.help) {
    console.log(UNCERTAINTY_USAGE);
    return;
  }
  const dir = outDir(v, UNCERTAINTY_USAGE);
  const coverage = numberArg(v.coverage, '--coverage', 0.9, (x) => x >= 0 && x <= 1, 'in [0, 1]');
  const score = v.score as UncertaintyScore;
  if (!UNCERTAINTY_SCORES.includes(score)) throw new UsageError(`--score must be one of ${UNCERTAINTY_SCORES.join(', ')}, got '${v.score}'`);
  const passes = numberArg(v.passes, '--passes', 20, (x) => Number.isInteger(x) && x >= 1 && x <= 10000, 'an integer in [1, 10000]');
  const mode = v.mode!;
  if (!['single', 'mc', 'ensemble', 'tta'].includes(mode)) throw new UsageError(`--mode must be single, mc, ensemble or tta, got '${mode}'`);
  const models = v.model ?? [];
  let data: Predictions;
  let stochastic: Stochastic | undefined;
  let record: InputRecord = {};
  const notes: string[] = [];
  if (v.samples) {
    if (models.length || v.probs) throw new UsageError('--samples replaces --model and --probs');
    if (!v.labels) throw new UsageError('--samples needs --labels labels.npy');
    const s = loadSamplesNpy(v.samples, v.logits);
    if (!existsSync(v.labels)) throw new Error(`${v.labels}: no such labels file`);
    const lt = parseNpy(new Uint8Array(readFileSync(v.labels)), v.labels);
    if (lt.shape.length !== 1 || lt.shape[0] !== s.n) throw new Error(`${v.labels}: expected ${s.n} labels, got [${lt.shape.join(', ')}]`);
    const labels = Int32Array.from(lt.data as ArrayLike<number>, Number);
    labels.forEach((y, i) => {
      if (!(y >= 0 && y < s.k)) throw new Error(`${v.labels}: label ${y} at row ${i} is not in [0, ${s.k})`);
    });
    const probs = new Float64Array(s.n * s.k);
    for (let t = 0; t < s.passes; t++) for (let j = 0; j < probs.length; j++) probs[j]! += s.samples[t * probs.length + j]! / s.passes;
    const names = v['class-names'] ? v['class-names'].split(',') : Array.from({ length: s.k }, (_, i) => `class ${i}`);
    data = { probs, labels, k: s.k, classNames: names, source: v.samples };
    stochastic = { samples: s.samples, passes: s.passes, kind: 'samples' };
  } else if (models.length && mode !== 'single') {
    if (mode === 'ensemble' && models.length < 2) throw new UsageError('--mode ensemble needs at least two --model files');
    if (mode !== 'ensemble' && models.length > 1) throw new UsageError(`--mode ${mode} takes one --model`);
    const split = v.split as 'train' | 'val' | 'test' | 'all';
    if (!['train', 'val', 'test', 'all'].includes(split)) throw new UsageError(`--split must be train, val, test or all, got '${split}'`);
    const run = modelRunOptions(v, models);
    record = run.record;
    const { dataset, notes: pnotes } = datasetFor(models[0]!, { data: v.data!, split, limit: run.limit, seed: run.seed, pre: run.pre!.pre });
    for (const note of pnotes) console.error(`candor uncertainty: ${note}`);
    record.preprocessingNotes = pnotes;
    const T = mode === 'ensemble' ? models.length : passes;
    console.error(`candor uncertainty: ${T} ${mode === 'ensemble' ? 'ensemble members' : mode === 'mc' ? 'MC-dropout passes' : 'test-time augmentations'} on ${dataset.images.shape[0]} images of ${dataset.source}…`);
    const logits = await runPasses(models, dataset.images, { mode: mode as 'mc' | 'ensemble' | 'tta', passes: T, seed: Number(v.seed), threads: v.threads ? Number(v.threads) : undefined, batchSize: v['batch-size'] ? Number(v['batch-size']) : undefined });
    const n = dataset.images.shape[0]!;
    const k = logits[0]!.length / n;
    if (logits.some((l) => l.length !== n * k)) throw new UsageError('the ensemble members disagree on the number of classes');
    if (mode === 'mc' && logits.every((l) => l.every((x, i) => x === logits[0]![i]))) notes.push(`All ${T} passes are identical: ${models[0]} has no stochastic layer at inference, so MC dropout measures nothing (mutual information and variance are 0).`);
    const samples = new Float64Array(T * n * k);
    logits.forEach((l, t) => samples.set(softmax(l, k), t * n * k));
    const probs = new Float64Array(n * k);
    for (let t = 0; t < T; t++) for (let j = 0; j < probs.length; j++) probs[j]! += samples[t * probs.length + j]! / T;
    data = { probs, labels: Int32Array.from(dataset.labels as Int32Array), k, classNames: v['class-names'] ? v['class-names'].split(',') : [...dataset.classNames], source: `${models.join(', ')} on ${dataset.source}`, ids: dataset.origins ? [...dataset.origins] : undefined };
    stochastic = { samples, passes: T, kind: mode === 'mc' ? 'mc-dropout' : (mode as 'ensemble' | 'tta') };
  } else {
    const loaded = await loadInputs(v, UNCERTAINTY_USAGE, { cal: 'none' });
    data = loaded.data;
    record = loaded.record;
  }
  let part;
  try {
    part = uncertaintyPart(data, data.k, { score, stochastic, coverage, ids: data.ids, classNames: data.classNames, sectionId: 'uncertainty' });
  } catch (e) {
    if (/uncertainty score/.test((e as Error).message)) throw new UsageError(`--score: ${(e as Error).message}`);
    throw e;
  }
  part.summary.push(...notes);
  const written = await writePart(dir, part, { command: 'uncertainty', mode: v.samples ? 'samples' : mode, source: data.source, n: data.labels.length, classes: data.classNames, notes, ...record });
  printChecks(part, dir, written);
  for (const note of notes) console.error(`candor uncertainty: ${note}`);
}
