/**
 * What the trust commands (`candor metrics|calibrate|uncertainty|conformal`) share: the input flags
 * (a model on a dataset split, or a CSV/.npy of probabilities), the calibration split (another data
 * split, another file, or a seeded fraction of the given cases), and writing a Part to --out DIR as
 * results.json, one SVG per chart, and summary.md.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { writeFileAtomicSync } from '../io/files.js';
import { join } from 'node:path';
import { checkOutputDir } from '../io/out-dir.js';
import { UsageError } from '../cli/args.js';
import { describeResolved, PREPROCESS_HELP, PREPROCESS_OPTIONS, resolvedRecord, resolvePreprocessing, type ResolvedPreprocessing } from '../cli/preprocess-args.js';
import { renderSvg } from '../report/chart.js';
import { loadPredictionFile, predictWithModel, randomSplit, selectPredictions, type Predictions } from './inputs.js';
import { jsonSafe, type Part } from './report-format.js';

export const INPUT_OPTIONS = {
  model: { type: 'string', multiple: true },
  data: { type: 'string', default: 'pneumoniamnist' },
  split: { type: 'string', default: 'test' },
  ...PREPROCESS_OPTIONS,
  probs: { type: 'string' },
  labels: { type: 'string' },
  logits: { type: 'boolean', default: false },
  'label-column': { type: 'string' },
  'group-column': { type: 'string' },
  'class-names': { type: 'string' },
  limit: { type: 'string' },
  threads: { type: 'string' },
  seed: { type: 'string', default: '0' },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CAL_OPTIONS = {
  'cal-split': { type: 'string' },
  'cal-probs': { type: 'string' },
  'cal-labels': { type: 'string' },
  'cal-fraction': { type: 'string' },
  'cal-data': { type: 'string' },
} as const;

export const INPUT_HELP = `Input (one of):
  --model m.onnx [--data pneumoniamnist|file.npz|folder|labels.csv] [--split test|val|train|all] [--limit N]
        [--threads N] [--scale …] [--window C,W] [--axis k] [--resize stretch|pad|crop]
        run the model on a dataset split (image size and channels from the model's input; preprocessing
        as below); --split all evaluates every image of --data as an external test set (no split drawn;
        a .npz holding only test_images/test_labels is one); an unreadable file in a folder or CSV is
        skipped and listed (--strict stops at the first)
  --probs preds.csv   header row; a 'label' column (class index; --label-column NAME), optional 'id' and
        group column (--group-column NAME); every other column is a class probability, in order
        (one column = binary p(positive)); --logits if they are logits
  --probs probs.npy --labels labels.npy   [N, K] (or [N]) probabilities and [N] integer labels
  --class-names a,b   class names for tables (default: CSV headers, the dataset's names, or 'class i')
${PREPROCESS_HELP}
Output:
  --out DIR           results.json, one .svg per chart, summary.md; an existing non-empty DIR needs --force`;

export const CAL_HELP = `Calibration split (held out; default: --cal-split val with --model, required otherwise):
  --cal-split val     another split of --data (not with --split all: an external set has no splits)
  --cal-data D        another data set, all of it, run through the model (e.g. the internal validation set)
  --cal-probs FILE [--cal-labels FILE]   another predictions file, same format as --probs
  --cal-fraction 0.5  a seeded random fraction of the input cases (the rest are evaluated; --seed)`;

type Values = Record<string, string | boolean | string[] | undefined>;

export function numberArg(v: unknown, flag: string, dflt: number, check: (x: number) => boolean, range: string): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !check(x)) throw new UsageError(`${flag} must be ${range}, got '${v}'`);
  return x;
}

const intArg = (v: unknown, flag: string): number | undefined => (v === undefined ? undefined : numberArg(v, flag, 0, (x) => Number.isInteger(x) && x > 0, 'a positive integer'));

export function outDir(v: Values, usage: string): string {
  const out = v.out as string | undefined;
  if (!out) throw new UsageError(`missing --out DIR\n\n${usage}`);
  try {
    checkOutputDir(out);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (existsSync(out) && readdirSync(out).length > 0 && !v.force) throw new UsageError(`${out} exists and is not empty; use --force to overwrite its files`);
  return out;
}

/** Where a model's images come from and how they were preprocessed: recorded in results.json. */
export interface InputRecord {
  preprocessing?: Record<string, unknown>;
  preprocessingNotes?: string[];
}

/** The model-run options shared by the evaluated and the calibration predictions, and their record. */
export function modelRunOptions(v: Values, models: string[]): { pre: ResolvedPreprocessing | undefined; seed: number; threads?: number; limit?: number; record: InputRecord } {
  const seed = numberArg(v.seed, '--seed', 0, Number.isInteger, 'an integer');
  const threads = intArg(v.threads, '--threads');
  const limit = intArg(v.limit, '--limit');
  const given = ['scale', 'window', 'axis', 'resize'].filter((f) => v[f] !== undefined);
  if (!models.length && given.length) throw new UsageError(`${given.map((g) => `--${g}`).join(', ')} ${given.length > 1 ? 'apply' : 'applies'} to images a --model reads; with --probs there are none`);
  const pre = models.length ? resolvePreprocessing(v, models[0]) : undefined;
  if (pre) console.error(`candor: ${describeResolved(pre)}`);
  return { pre, seed, threads, limit, record: pre ? { preprocessing: resolvedRecord(pre) } : {} };
}

/** Evaluation predictions, and (when `cal` or the flags ask) a held-out calibration split. */
export async function loadInputs(v: Values, usage: string, opts: { cal: 'required' | 'optional' | 'none' }): Promise<{ data: Predictions; cal?: Predictions; record: InputRecord }> {
  const models = (v.model as string[] | undefined) ?? [];
  const classNames = v['class-names'] ? (v['class-names'] as string).split(',').map((s) => s.trim()) : undefined;
  const { pre, seed, threads, limit, record } = modelRunOptions(v, models);
  const splitName = (s: unknown, flag: string) => {
    if (s !== 'train' && s !== 'val' && s !== 'test' && s !== 'all') throw new UsageError(`${flag} must be train, val, test or all, got '${s}'`);
    return s;
  };
  const run = async (data: string, split: 'train' | 'val' | 'test' | 'all') => {
    const p = await predictWithModel(models[0]!, { data, split, limit, seed, threads, pre: pre!.pre, strict: v.strict === true });
    for (const note of p.notes ?? []) console.error(`candor: ${data}: ${note}`);
    record.preprocessingNotes = [...(record.preprocessingNotes ?? []), ...(p.notes ?? []).map((n) => `${data}: ${n}`)];
    return p;
  };
  const fileOpts = { labelColumn: v['label-column'] as string | undefined, groupColumn: v['group-column'] as string | undefined, logits: v.logits as boolean, classNames };
  let data: Predictions;
  if (models.length && v.probs) throw new UsageError(`give --model or --probs, not both\n\n${usage}`);
  if (models.length) {
    if (models.length > 1) throw new UsageError('this command takes one --model');
    data = await run(v.data as string, splitName(v.split, '--split'));
    if (classNames) data.classNames = classNames;
  } else if (v.probs) data = loadPredictionFile(v.probs as string, { ...fileOpts, labels: v.labels as string | undefined });
  else throw new UsageError(`give --model m.onnx or --probs FILE\n\n${usage}`);
  if (opts.cal === 'none') return { data, record };
  const given = ['cal-split', 'cal-probs', 'cal-fraction', 'cal-data'].filter((f) => v[f] !== undefined);
  if (given.length > 1) throw new UsageError(`give one of --cal-split, --cal-probs, --cal-fraction, --cal-data (got ${given.map((g) => `--${g}`).join(', ')})`);
  let cal: Predictions | undefined;
  if (v['cal-data'] !== undefined) {
    if (!models.length) throw new UsageError('--cal-data needs --model (with files, use --cal-probs)');
    cal = await run(v['cal-data'] as string, 'all');
    if (cal.k !== data.k) throw new UsageError(`--cal-data gives ${cal.k} classes, the input has ${data.k}`);
  } else if (v['cal-probs']) {
    cal = loadPredictionFile(v['cal-probs'] as string, { ...fileOpts, labels: v['cal-labels'] as string | undefined });
    if (cal.k !== data.k) throw new UsageError(`--cal-probs has ${cal.k} classes, the input has ${data.k}`);
  } else if (v['cal-fraction'] !== undefined) {
    const frac = numberArg(v['cal-fraction'], '--cal-fraction', 0.5, (x) => x > 0 && x < 1, 'a number in (0, 1)');
    const { cal: c, rest } = randomSplit(data.labels.length, frac, seed);
    if (c.length < 2 || rest.length < 2) throw new UsageError(`--cal-fraction ${frac} of ${data.labels.length} cases leaves too few cases on one side`);
    cal = selectPredictions(data, c, `${data.source} (calibration fraction ${frac}, seed ${seed})`);
    data = selectPredictions(data, rest, `${data.source} (evaluation: the other ${rest.length})`);
  } else if (models.length && (v['cal-split'] !== undefined || opts.cal === 'required')) {
    if (v.split === 'all') throw new UsageError(`--split all evaluates all of ${v.data} as an external test set, so it has no other split to calibrate on: give --cal-data D (e.g. the internal validation data), --cal-fraction F or --cal-probs FILE`);
    const s = splitName(v['cal-split'] ?? 'val', '--cal-split');
    if (s === 'all') throw new UsageError('--cal-split all would calibrate on the evaluated cases; use --cal-data D for another data set');
    if (s === v.split) throw new UsageError(`--cal-split ${s} is the evaluation split; pick another (e.g. val)`);
    cal = await run(v.data as string, s);
  } else if (v['cal-split'] !== undefined) throw new UsageError('--cal-split needs --model (with files, use --cal-probs or --cal-fraction)');
  if (!cal && opts.cal === 'required') throw new UsageError(`this command needs a held-out calibration split\n\n${usage}`);
  return { data, cal, record };
}

/** Write results.json, one SVG per figure, and summary.md (summary paragraphs, checklist, tables). */
export async function writePart(dir: string, part: Part, meta: Record<string, unknown>): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, text: string) => {
    writeFileAtomicSync(join(dir, name), new TextEncoder().encode(text));
    written.push(name);
  };
  put('results.json', JSON.stringify(jsonSafe({ ...meta, ...part.results, checks: part.checks }), null, 1) + '\n');
  for (const f of part.figures) if (f.spec) put(`${f.id}.svg`, await renderSvg(f.spec));
  const md: string[] = [...part.summary, ''];
  if (part.checks.length) {
    md.push('| check | verdict | value | threshold |', '|---|---|---|---|');
    for (const c of part.checks) md.push(`| ${c.question} | ${c.verdict} | ${c.value ?? ''} | ${c.threshold ?? ''} |`);
    md.push('');
  }
  for (const t of part.tables) {
    md.push(`**${t.caption}**`, '', `| ${t.columns.join(' | ')} |`, `|${t.columns.map(() => '---').join('|')}|`);
    for (const r of t.rows) md.push(`| ${r.map((c) => (c === null ? 'n/a' : String(c))).join(' | ')} |`);
    md.push('');
  }
  put('summary.md', md.join('\n'));
  return written;
}

/** One line per check for the terminal. */
export function printChecks(part: Part, dir: string, written: string[]): void {
  for (const c of part.checks) console.log(`${c.verdict.toUpperCase().padEnd(7)} ${c.question}${c.value ? `  ${c.value}` : ''}`);
  console.log(`wrote ${written.length} files to ${dir}: ${written.join(', ')}`);
}
