/**
 * Opens a model file for the tabular explainers: XGBoost JSON (`.json`), LightGBM text (`.txt`),
 * ONNX-ML tree ensembles (`.onnx`); any other ONNX model becomes a predict function for KernelSHAP
 * (onnxruntime; the last float output, column 1 when it has two columns — the positive class).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { TreeEnsemble } from './ensemble.js';
import { parseXgboostJson } from './xgboost.js';
import { parseLightgbmText } from './lightgbm.js';
import { parseOnnxTrees } from './onnx-trees.js';
import type { PredictFn } from './kernelshap.js';

export type LoadedModel = { kind: 'trees'; ensemble: TreeEnsemble } | { kind: 'onnx'; predict: PredictFn; nFeatures: number | null; description: string };

export async function loadTabularModel(path: string, opts: { classIndex?: number } = {}): Promise<LoadedModel> {
  const ext = extname(path).toLowerCase();
  const bytes = readFileSync(path);
  if (ext === '.json') return { kind: 'trees', ensemble: parseXgboostJson(bytes, { source: path, classIndex: opts.classIndex }) };
  if (ext === '.txt') return { kind: 'trees', ensemble: parseLightgbmText(bytes.toString('utf8'), { source: path, classIndex: opts.classIndex }) };
  if (ext === '.onnx') {
    try {
      return { kind: 'trees', ensemble: parseOnnxTrees(bytes, { source: path, classIndex: opts.classIndex }) };
    } catch (e) {
      if (!/no TreeEnsembleClassifier or TreeEnsembleRegressor node|computed by other nodes/.test((e as Error).message)) throw e;
      return onnxPredict(bytes, path);
    }
  }
  throw new Error(`${path}: unknown model format '${ext}' (expected .json for XGBoost, .txt for LightGBM, .onnx)`);
}

async function onnxPredict(bytes: Uint8Array, path: string): Promise<LoadedModel> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
  const input = session.inputNames[0]!;
  let nFeatures: number | null = null;
  const meta = (session as unknown as { inputMetadata?: { shape?: (number | string)[] }[] }).inputMetadata?.[0];
  if (meta?.shape && typeof meta.shape[1] === 'number') nFeatures = meta.shape[1];
  const predict: PredictFn = async (X, n, d) => {
    const out = await session.run({ [input]: new ort.Tensor('float32', Float32Array.from(X), [n, d]) });
    const t = [...session.outputNames].reverse().map((k) => out[k]!).find((v) => v && (v.type === 'float32' || v.type === 'float64'));
    if (!t) throw new Error(`${path}: no float output to explain (outputs: ${session.outputNames.join(', ')})`);
    const k = t.dims.length === 2 ? t.dims[1]! : 1;
    const col = k >= 2 ? 1 : 0;
    const data = t.data as Float32Array;
    return Float64Array.from({ length: n }, (_, r) => data[r * k + col]!);
  };
  return { kind: 'onnx', predict, nFeatures, description: `ONNX model ${path} (explained output: last float output, ${'column 1 if it has two columns'})` };
}
