/**
 * Tabular explanations: tree-ensemble loaders, TreeSHAP (path-dependent, interventional, interactions), KernelSHAP, plots, the report section.
 *
 * @packageDocumentation
 */
export { type TreeEnsemble, type Tree, predict, predictMargin, coversFromData, withCovers, hasCovers, marginLabel } from './ensemble.js';
export { parseXgboostJson } from './xgboost.js';
export { parseLightgbmText } from './lightgbm.js';
export { parseOnnxTrees } from './onnx-trees.js';
export { loadTabularModel, type LoadedModel } from './load.js';
export { treeShap, expectedMargin, type ShapValues, type TreeShapOptions } from './treeshap.js';
export { interventionalTreeShap, type InterventionalOptions } from './interventional.js';
export { treeShapInteractions, type InteractionValues } from './interactions.js';
export { kernelShap, type PredictFn, type KernelShapOptions } from './kernelshap.js';
export { checkLocalAccuracy, localAccuracyError } from './accuracy.js';
export { trainTrees, splitRows, auroc, type TrainTreesOptions } from './train.js';
export { readCsvTable, parseCsvTable, selectColumns, type Table } from './csv.js';
export { barSpec, beeswarmSpec, dependenceSpec, waterfallSpec, forceSvg, type ShapMatrix } from './plots.js';
export { shapSection, type ShapSectionInput } from './section.js';
