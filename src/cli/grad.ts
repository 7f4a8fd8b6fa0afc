/**
 * `candor grad`: logits, input gradient and (with --layer) a layer's activation and gradient,
 * written as .npy files. A low-level command for checking the engine against other tools.
 */
import { checkOutputDir } from '../io/out-dir.js';
import { mkdirSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../runtime/node.js';
import { readNpyFile, writeNpyFile } from '../io/files.js';
import { Tensor } from '../tensor/tensor.js';
import { parse, parseIntArg, required, UsageError } from './args.js';

export const GRAD_USAGE = `usage: candor grad --model m.onnx --input x.npy --target <class|pred> [--layer L] --out DIR [--batch-size N] [--threads N] [--force]

Writes DIR/logits.npy [N,K], DIR/grad_input.npy (shape of the input) and, with --layer,
DIR/activation.npy and DIR/grad_layer.npy. The gradient is of the target logit (one-hot seed).
--layer takes a tensor name, a module path (layer4, features.8) or 'auto'.`;

export async function gradCommand(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      model: { type: 'string' },
      input: { type: 'string' },
      target: { type: 'string' },
      layer: { type: 'string' },
      out: { type: 'string' },
      'batch-size': { type: 'string' },
      threads: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    GRAD_USAGE,
  );
  if (values.help) {
    console.log(GRAD_USAGE);
    return;
  }
  const modelPath = required(values.model, '--model', GRAD_USAGE);
  const inputPath = required(values.input, '--input', GRAD_USAGE);
  const targetArg = required(values.target, '--target', GRAD_USAGE);
  const out = required(values.out, '--out', GRAD_USAGE);
  try {
    checkOutputDir(out);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (existsSync(out) && readdirSync(out).length > 0 && !values.force) {
    throw new UsageError(`${out} exists and is not empty; use --force to write into it`);
  }
  const model = loadModel(modelPath, {
    batchSize: parseIntArg(values['batch-size'], '--batch-size', 64),
    threads: values.threads ? parseIntArg(values.threads, '--threads', 0) : undefined,
  });
  const raw = await readNpyFile(inputPath);
  if (raw.dtype !== 'float32' && raw.dtype !== 'float64') {
    throw new UsageError(`${inputPath}: input must be float32 or float64 (preprocessed as the model expects), got ${raw.dtype}`);
  }
  const x = raw.dtype === 'float32' ? (raw as Tensor) : new Tensor(Float32Array.from(raw.data as Float64Array), raw.shape);
  const n = x.shape[0]!;
  let targets: number[];
  if (targetArg === 'pred') {
    const logits = await model.forward(x);
    targets = argmaxRows(logits);
  } else {
    const t = Number(targetArg);
    if (!Number.isInteger(t)) throw new UsageError(`--target must be a class index or 'pred', got '${targetArg}'`);
    targets = Array(n).fill(t);
  }
  const layer = values.layer;
  const r = await model.vjp(x, { seed: model.oneHot(targets), layers: layer ? [layer] : [] });
  mkdirSync(out, { recursive: true });
  await writeNpyFile(join(out, 'logits.npy'), r.logits);
  await writeNpyFile(join(out, 'grad_input.npy'), r.inputGrad!);
  if (layer) {
    await writeNpyFile(join(out, 'activation.npy'), r.activations.get(layer)!);
    await writeNpyFile(join(out, 'grad_layer.npy'), r.layerGrads.get(layer)!);
  }
  const resolved = layer ? ` (layer ${layer} = tensor '${model.resolveLayer(layer)}', shape [${r.activations.get(layer)!.shape}])` : '';
  const what = targetArg === 'pred' ? 'the predicted class' : `class ${targets[0]}`;
  console.log(`${out}: gradients of the logit of ${what} for ${n} image(s)${resolved}`);
  await model.dispose();
}

export function argmaxRows(t: Tensor): number[] {
  const [n, k] = t.shape as [number, number];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (t.data[i * k + j]! > t.data[i * k + best]!) best = j;
    out.push(best);
  }
  return out;
}
