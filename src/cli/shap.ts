/**
 * `candor shap`: SHAP values for a tabular model (XGBoost JSON, LightGBM text, ONNX) or for trees
 * candor trains on the CSV itself; writes the values as .npy, the plots as SVG and results.json.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { writeFileAtomicSync } from '../io/files.js';
import { checkOutputDir } from '../io/out-dir.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpyFileSync } from '../io/files.js';
import { renderSvg } from '../report/chart.js';
import { Rng } from '../tensor/rng.js';
import { readCsvTable, selectColumns, type Table } from '../tabular/csv.js';
import { hasCovers, marginLabel, predict, predictMargin, type TreeEnsemble } from '../tabular/ensemble.js';
import { loadTabularModel } from '../tabular/load.js';
import { auroc, isBinary, splitRows, takeRows, trainTrees } from '../tabular/train.js';
import { treeShap, type ShapValues } from '../tabular/treeshap.js';
import { interventionalTreeShap } from '../tabular/interventional.js';
import { kernelShap, type PredictFn } from '../tabular/kernelshap.js';
import { treeShapInteractions } from '../tabular/interactions.js';
import { shapSection } from '../tabular/section.js';
import { renderReport } from '../report/html.js';
import { parse, parseIntArg, UsageError } from './args.js';

/** Every output is written whole or not at all (a temporary file renamed into place). */
const writeText = (path: string, text: string) => writeFileAtomicSync(path, new TextEncoder().encode(text));

export const SHAP_USAGE = `usage: candor shap --out DIR [--model m.json|m.txt|m.onnx | --train gbt|rf] [--data table.csv] [--target COLUMN]
       [--row 0] [--method auto|tree|interventional|kernel] [--space margin|probability] [--background 100]
       [--nsamples auto] [--max-rows 50] [--interactions] [--class pred|K] [--seed 0] [--force]

Explains every row of the table (KernelSHAP: the first --max-rows) and one row in detail (--row, 0-based).
Models: XGBoost JSON (save_model("m.json")), LightGBM text (save_model("m.txt")), ONNX-ML tree ensembles;
any other ONNX model through KernelSHAP. Without --model, candor trains boosted trees (--train gbt, the
default) or a random forest (--train rf) on 75% of the rows and reports AUROC on the other 25%.
Default data: the bundled Wisconsin breast-cancer table (target 'malignant').
--method auto: path-dependent TreeSHAP when the trees carry covers, else interventional.
A multi-class model (XGBoost multi:softprob, LightGBM multiclass) is explained for every class, in margin
space: shap_values.npy is [rows, classes, features] (XGBoost's pred_contribs without the bias column),
expected_value.txt one line per class; the plots show --class K (default: the class predicted for --row).
Missing cells (empty, NA, NaN, null, none, ?) go each tree's default way, and the output says how many.
Writes index.html (the plots and their reading, self-contained), shap_values.npy, expected_value.txt, results.json, bar/beeswarm/waterfall/force/dependence .svg.`;

export const BUNDLED_TABLE = fileURLToPath(new URL('../../data/breast_cancer_wisconsin.csv', import.meta.url));

const OUTPUTS = ['index.html', 'shap_values.npy', 'expected_value.txt', 'results.json', 'bar.svg', 'beeswarm.svg', 'waterfall.svg', 'force.svg', 'dependence.svg', 'shap_interactions.npy'];

export async function shapCommand(argv: string[]): Promise<void> {
  const { values: v } = parse(
    argv,
    {
      out: { type: 'string' },
      model: { type: 'string' },
      train: { type: 'string' },
      data: { type: 'string' },
      target: { type: 'string' },
      row: { type: 'string', default: '0' },
      method: { type: 'string', default: 'auto' },
      space: { type: 'string', default: 'margin' },
      background: { type: 'string', default: '100' },
      nsamples: { type: 'string', default: 'auto' },
      'max-rows': { type: 'string', default: '50' },
      interactions: { type: 'boolean', default: false },
      class: { type: 'string' },
      seed: { type: 'string', default: '0' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    SHAP_USAGE,
  );
  if (v.help) {
    console.log(SHAP_USAGE);
    return;
  }
  if (!v.out) throw new UsageError(`missing --out\n\n${SHAP_USAGE}`);
  const out = v.out;
  try {
    checkOutputDir(out);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!v.force) {
    const clash = OUTPUTS.filter((f) => existsSync(join(out, f)));
    if (clash.length) throw new UsageError(`${out} already holds ${clash.join(', ')}; use --force to replace them`);
  }
  if (v.model && v.train) throw new UsageError('give --model or --train, not both');
  const kindArg = v.train ?? 'gbt';
  if (kindArg !== 'gbt' && kindArg !== 'rf') throw new UsageError(`--train must be gbt or rf, got '${kindArg}'`);
  const method = v.method!;
  if (!['auto', 'tree', 'interventional', 'kernel'].includes(method)) throw new UsageError(`--method must be auto, tree, interventional or kernel, got '${method}'`);
  const space = v.space!;
  if (space !== 'margin' && space !== 'probability') throw new UsageError(`--space must be margin or probability, got '${space}'`);
  const row = Number(v.row);
  if (!Number.isInteger(row) || row < 0) throw new UsageError(`--row must be a row index ≥ 0, got '${v.row}'`);
  const nBackground = parseIntArg(v.background, '--background', 100);
  const maxRows = parseIntArg(v['max-rows'], '--max-rows', 50);
  const seed = Number(v.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${v.seed}'`);
  const nsamples = v.nsamples === 'auto' ? 'auto' : parseIntArg(v.nsamples, '--nsamples', 0);

  const dataPath = v.data ?? BUNDLED_TABLE;
  const target = v.target ?? (v.data ? undefined : 'malignant');
  const table = readCsvTable(dataPath, { target });
  if (row >= table.n) throw new UsageError(`--row ${row} is outside the table (${table.n} rows)`);
  // The missing-value policy, said: trees send a missing cell their default way (XGBoost/LightGBM/sklearn).
  const missingNote = table.missing ? `${table.missing} missing feature cell(s) (empty, NA, NaN, null, none, ?) in ${dataPath}: each tree sends them its default way, as the model's library does; KernelSHAP passes them to the model as NaN` : undefined;
  if (missingNote) console.error(`candor shap: ${missingNote}`);

  // the model and its input columns
  let ensemble: TreeEnsemble | null = null;
  let kernelPredict: PredictFn | null = null;
  let description: string;
  let X: Float64Array;
  let d: number;
  let featureNames: string[];
  let metrics: Record<string, number> | undefined;
  if (v.model) {
    const m = await loadTabularModel(v.model);
    if (m.kind === 'trees') {
      ensemble = m.ensemble;
      ({ X, names: featureNames } = columnsFor(table, ensemble.featureNames, ensemble.nFeatures, v.model));
      ensemble = { ...ensemble, featureNames };
      description = ensemble.description;
    } else {
      kernelPredict = m.predict;
      ({ X, names: featureNames } = columnsFor(table, [], m.nFeatures ?? table.d, v.model));
      description = m.description;
    }
    d = featureNames.length;
  } else {
    if (!table.y) throw new UsageError(`training needs the target column: add --target COLUMN (columns: ${table.featureNames.join(', ')})`);
    const { train, test } = splitRows(table.y, 0.25, seed);
    d = table.d;
    X = table.X;
    featureNames = table.featureNames;
    console.error(`candor shap: training ${kindArg === 'gbt' ? 'gradient-boosted trees' : 'a random forest'} on ${train.length} rows of ${dataPath}…`);
    ensemble = trainTrees(takeRows(X, d, train), Float64Array.from(train, (i) => table.y![i]!), train.length, d, { kind: kindArg, seed, featureNames });
    description = ensemble.description;
    const yTest = test.map((i) => table.y![i]!);
    const pTest = predict(ensemble, takeRows(X, d, test), test.length);
    metrics = isBinary(table.y)
      ? { 'held-out AUROC': auroc(pTest, yTest), 'held-out accuracy': yTest.filter((y, i) => (pTest[i]! >= 0.5 ? 1 : 0) === y).length / yTest.length, 'held-out rows': test.length }
      : { 'held-out RMSE': Math.sqrt(yTest.reduce((a, y, i) => a + (y - pTest[i]!) ** 2, 0) / yTest.length), 'held-out rows': test.length };
  }

  // background rows: a seeded sample of the table
  const rng = new Rng(seed);
  const bgIdx = Array.from({ length: table.n }, (_, i) => i);
  for (let i = bgIdx.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [bgIdx[i], bgIdx[j]] = [bgIdx[j]!, bgIdx[i]!];
  }
  const nb = Math.min(nBackground, table.n);
  const background = takeRows(X, d, bgIdx.slice(0, nb).sort((a, b) => a - b));

  // a forest of class frequencies already outputs probabilities: its margin space is the probability space
  let spaceUsed = space;
  if (space === 'probability' && ensemble && ensemble.link === 'identity' && ensemble.outputLabel === 'probability') spaceUsed = 'margin';
  let chosen = method;
  if (chosen === 'auto') chosen = !ensemble ? 'kernel' : spaceUsed === 'probability' ? 'interventional' : hasCovers(ensemble) ? 'tree' : 'interventional';
  if (!ensemble && chosen !== 'kernel') throw new UsageError(`${v.model} is not a tree ensemble; only --method kernel applies`);
  if (chosen === 'tree' && spaceUsed === 'probability') throw new UsageError('path-dependent TreeSHAP is defined in margin space only; use --method interventional or kernel with --space probability');
  let nRows = chosen === 'kernel' ? Math.min(table.n, maxRows) : table.n;
  if (chosen === 'kernel' && row >= nRows) throw new UsageError(`KernelSHAP explains the first ${nRows} rows; raise --max-rows above ${row}`);
  const usedBackground: number | undefined = chosen === 'tree' ? undefined : chosen === 'kernel' ? Math.min(nb, 50) : nb;
  const explainOne = async (ens: TreeEnsemble | null): Promise<ShapValues> => {
    if (chosen === 'tree') return treeShap(ens!, X, table.n);
    if (chosen === 'interventional') return interventionalTreeShap(ens!, X, table.n, background, nb, { space: spaceUsed as 'margin' | 'probability' });
    const f: PredictFn = ens ? (A, n) => (spaceUsed === 'probability' ? predict(ens, A, n) : predictMargin(ens, A, n)) : kernelPredict!;
    const kb = usedBackground!;
    console.error(`candor shap: KernelSHAP on ${nRows} rows against ${kb} background rows…`);
    return kernelShap(f, X.subarray(0, nRows * d), nRows, d, background.subarray(0, kb * d), kb, { nsamples, seed, space: spaceUsed as 'margin' | 'probability' });
  };
  // A multi-class model has one margin per class: every class is explained (XGBoost's pred_contribs layout
  // [rows, classes, features]); the plots show one class, --class K or the predicted class of --row.
  const K = ensemble?.numClasses ?? 1;
  const perClass: ShapValues[] = [];
  let shown = 0;
  if (K > 1) {
    if (spaceUsed === 'probability') throw new UsageError(`${v.model} has ${K} classes: SHAP values are given per class in margin space (the softmax couples the classes); drop --space probability`);
    const ensembles: TreeEnsemble[] = [];
    for (let k = 0; k < K; k++) {
      const m = await loadTabularModel(v.model!, { classIndex: k });
      if (m.kind !== 'trees') throw new Error(`${v.model}: class ${k} did not load as trees`);
      ensembles.push({ ...m.ensemble, featureNames });
    }
    for (const ens of ensembles) perClass.push(await explainOne(ens));
    if (v.class !== undefined && v.class !== 'pred') {
      shown = Number(v.class);
      if (!(Number.isInteger(shown) && shown >= 0 && shown < K)) throw new UsageError(`--class must be a class index in [0, ${K}) or 'pred', got '${v.class}'`);
    } else {
      const margins = ensembles.map((e) => predictMargin(e, X.subarray(row * d, (row + 1) * d), 1)[0]!);
      shown = margins.indexOf(Math.max(...margins));
    }
    ensemble = ensembles[shown]!;
    description = `${ensemble.description.replace(/ \(class \d+ of \d+\)/, '')}, ${K} classes (plots: class ${shown}${v.class === undefined || v.class === 'pred' ? `, predicted for row ${row}` : ''})`;
  } else {
    if (v.class !== undefined && v.class !== 'pred' && v.class !== '0') throw new UsageError(`--class ${v.class}: ${v.model ?? 'the model'} has one output`);
    perClass.push(await explainOne(ensemble));
  }
  const result = perClass[shown]!;
  const outputLabel = ensemble ? (result.space === 'probability' ? 'probability' : marginLabel(ensemble)) : 'model output';
  const section = shapSection({
    ...result,
    featureNames,
    X: X.subarray(0, nRows * d),
    // the target's name only describes the output of a model trained on it here
    outputLabel: `${outputLabel}${!v.model && table.targetName ? ` of ${table.targetName}` : ''}`,
    modelDescription: description,
    row,
    rowLabel: `row ${row}`,
    metrics,
    backgroundRows: usedBackground,
    dataDescription: dataPath === BUNDLED_TABLE ? 'the bundled Wisconsin breast-cancer table' : dataPath,
  });

  mkdirSync(out, { recursive: true });
  if (K > 1) {
    const all = new Float64Array(nRows * K * d);
    for (let r = 0; r < nRows; r++) for (let k = 0; k < K; k++) all.set(perClass[k]!.values.subarray(r * d, (r + 1) * d), (r * K + k) * d);
    writeNpyFileSync(join(out, 'shap_values.npy'), { dtype: 'float64', shape: [nRows, K, d], data: all });
    writeText(join(out, 'expected_value.txt'), perClass.map((c) => c.expected).join('\n') + '\n');
  } else {
    writeNpyFileSync(join(out, 'shap_values.npy'), { dtype: 'float64', shape: [nRows, d], data: result.values });
    writeText(join(out, 'expected_value.txt'), `${result.expected}\n`);
  }
  const files = ['shap_values.npy', 'expected_value.txt'];
  if (v.interactions) {
    if (!ensemble || !hasCovers(ensemble)) throw new UsageError('--interactions needs a tree ensemble with covers (path-dependent TreeSHAP)');
    const inter = treeShapInteractions(ensemble, X, table.n);
    writeNpyFileSync(join(out, 'shap_interactions.npy'), { dtype: 'float64', shape: [table.n, d, d], data: inter.values });
    files.push('shap_interactions.npy');
  }
  const svgName: Record<string, string> = { 'shap-bar': 'bar.svg', 'shap-beeswarm': 'beeswarm.svg', 'shap-waterfall': 'waterfall.svg', 'shap-force': 'force.svg', 'shap-dependence': 'dependence.svg' };
  for (const fig of section.figures) {
    const svg = fig.svg ?? (await renderSvg(fig.spec!));
    writeText(join(out, svgName[fig.id] ?? `${fig.id}.svg`), svg);
    files.push(svgName[fig.id] ?? `${fig.id}.svg`);
  }
  const html = await renderReport(
    { title: `candor shap — ${description}`, facts: [['Model', description], ['Data', dataPath === BUNDLED_TABLE ? 'the bundled Wisconsin breast-cancer table' : dataPath], ['Rows explained', String(nRows)]] },
    section.checks ?? [],
    [section],
  );
  writeText(join(out, 'index.html'), html);
  files.push('index.html', 'results.json');
  const results = {
    ...section.results,
    ...(K > 1 ? { classes: K, plottedClass: shown, expectedPerClass: perClass.map((c) => c.expected), shapValuesLayout: '[rows, classes, features]' } : {}),
    data: dataPath,
    target: table.targetName ?? null,
    missingCells: table.missing ?? 0,
    seed,
    files,
    summary: missingNote ? [...section.summary, missingNote] : section.summary,
  };
  writeText(join(out, 'results.json'), JSON.stringify(results, (_, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2));
  for (const p of section.summary) console.log(p);
  console.log(`wrote ${files.length} files to ${out}`);
}

/** The table's columns for a model: by name when the model names its features, else all columns in order. */
function columnsFor(table: Table, modelNames: string[], nFeatures: number, model: string): { X: Float64Array; names: string[] } {
  const generic = modelNames.length === 0 || modelNames.every((n, i) => n === `f${i}` || n === `x${i}` || n === `Column_${i}`);
  if (!generic) return { X: selectColumns(table, modelNames), names: modelNames };
  if (table.d !== nFeatures) throw new UsageError(`${model} expects ${nFeatures} features, but ${table.source} has ${table.d} feature columns${table.targetName ? ` (besides the target '${table.targetName}')` : ''}; drop columns or name the target with --target`);
  return { X: table.X, names: table.featureNames };
}
