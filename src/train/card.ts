/**
 * Saving a trained model: plain ONNX (loadable by onnxruntime and PyTorch's ONNX tooling) and a
 * JSON card beside it (`model.onnx` → `model.json`): data, split sizes, options, per-epoch history,
 * the kept epoch, test metrics, seed and candor version. Both are written atomically (temporary
 * file + rename), so an interrupted run leaves no half-written file.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../io/files.js';
import { serializeModel } from '../onnx/proto.js';
import type { Model } from '../onnx/ir.js';
import type { EpochRecord } from './fit.js';
import type { EpochMetrics } from './evaluate.js';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export interface ModelCard {
  candorVersion: string;
  createdAt: string;
  architecture: string;
  /** One class per image (softmax), or independent labels (one sigmoid each); read by loadModel. */
  task?: 'single' | 'multilabel';
  input: {
    channels: number;
    size: number;
    /** Volumes: [D, H, W]. */
    spatial?: number[];
    /** Volumes read from NIfTI files: the voxel axis order the model was trained with (data/volume.ts). */
    voxelOrder?: 'ijk' | 'kji' | 'ras';
    normalization: string;
  };
  /** How images became the model's input (data/preprocessing.ts); every command uses it unless told otherwise. */
  preprocessing?: { scale: string; window: [number, number] | null; axis: string; resize: string };
  classes: readonly string[];
  data: { path: string; description: string; splits: Record<string, number> };
  training: Record<string, unknown>;
  seed: number;
  history: EpochRecord[];
  bestEpoch: number;
  interrupted: boolean;
  test: EpochMetrics;
  /** Extra evaluations (e.g. the shortcut model on marked test images). */
  extra?: Record<string, EpochMetrics>;
}

export function candorVersion(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

export function cardPath(modelPath: string): string {
  return modelPath.replace(/\.onnx$/i, '') + '.json';
}

/** Writes model.onnx and model.json atomically, creating the folder if needed. */
export async function saveModel(path: string, model: Model, card: ModelCard): Promise<void> {
  await saveModelBytes(path, modelFileBytes(model, card), card);
}

/** The bytes of a model file candor writes: the graph with candor as its producer. */
export function modelFileBytes(model: Model, card: ModelCard): Uint8Array {
  return serializeModel({ ...model, producerName: 'candor', producerVersion: card.candorVersion });
}

/** Write a model file's bytes (modelFileBytes) and its card beside it. */
export async function saveModelBytes(path: string, bytes: Uint8Array, card: ModelCard): Promise<void> {
  await mkdir(dirname(resolve(path)), { recursive: true });
  await writeFileAtomic(path, bytes);
  await writeFileAtomic(cardPath(path), new TextEncoder().encode(JSON.stringify(card, null, 2) + '\n'));
}
