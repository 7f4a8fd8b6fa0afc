/**
 * BatchNorm statistics recomputed for the final weights ("precise BN"; PyTorch's
 * `torch.optim.swa_utils.update_bn`): the training images are passed once through the training graph in
 * train mode, without any update, and each BatchNorm's running mean and variance become the plain
 * average over batches of the batch mean and the unbiased batch variance (update_bn's momentum=None).
 *
 * Why: running statistics are an exponential average (momentum 0.1) of batch statistics taken while the
 * weights were still moving. With the small batches volumes allow (16 at 32³) and fast early learning, the
 * last few batches' statistics differ from what the final weights produce, and the model in eval mode can
 * put every image in one class while it ranks them well (validation AUROC 1.0 at accuracy 0.5 for an
 * r3d_18 at 32³). Used for 3-D models (train-model.ts).
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model as IRModel } from '../onnx/ir.js';
import { GraphSession, type OrtSessionApi } from '../runtime/session.js';
import type { ImageDataset } from '../data/dataset.js';
import { buildTrainingGraph, updateRunningStats } from './graph.js';
import { withWeights } from './fit.js';

export async function recomputeBatchNormStats(model: IRModel, train: ImageDataset, ort: OrtSessionApi, opts: { batchSize: number; threads?: number; source?: string }): Promise<IRModel> {
  const imageShape = train.images.shape.slice(1) as number[];
  const tg = buildTrainingGraph(model, { task: train.task, imageShape, source: opts.source });
  if (!tg.batchNorms.length) return model;
  const session = await GraphSession.create(tg.model, ort, { threads: opts.threads, source: `${opts.source ?? 'model'} (BatchNorm statistics)` });
  // cumulative average (update_bn with momentum=None): the t-th batch enters with momentum 1/t
  const stats = new Map(tg.batchNorms.map((b) => [b.node, { mean: new Float32Array(model.graph.initializers.get(b.runningMean)!.data.length), var: new Float32Array(model.graph.initializers.get(b.runningVar)!.data.length) }]));
  const n = train.images.shape[0]!;
  const k = train.classNames.length;
  const feeds: Record<string, Tensor> = { [tg.seed]: new Tensor(new Float32Array([1]), []) };
  for (const p of tg.params) {
    const t = model.graph.initializers.get(p)!;
    feeds[p] = new Tensor(t.data as Float32Array, t.dims);
  }
  let batches = 0;
  try {
    for (let i = 0; i < n; i += opts.batchSize) {
      const j = Math.min(n, i + opts.batchSize);
      if (j - i < 2) break; // a batch of one has no variance (PyTorch refuses it in train mode)
      const x = train.images.slice0(i, j);
      const target = train.task === 'single' ? new Tensor(new Float32Array((j - i) * k).fill(1 / k), [j - i, k]) : new Tensor(new Float32Array((j - i) * k), [j - i, k]);
      const r = await session.run({ ...feeds, [tg.input]: x, [tg.target]: target, ...(tg.weight ? { [tg.weight]: new Tensor(new Float32Array((j - i) * k).fill(1 / ((j - i) * k)), [j - i, k]) } : {}) }, tg.batchNorms.flatMap((b) => [b.batchMean, b.batchVar]));
      batches++;
      for (const b of tg.batchNorms) updateRunningStats({ ...b, momentum: 1 / batches }, stats.get(b.node)!, r[b.batchMean]!.data as Float32Array, r[b.batchVar]!.data as Float32Array, j - i);
    }
  } finally {
    await session.release();
  }
  if (!batches) return model;
  const params = new Map(tg.params.map((p) => [p, model.graph.initializers.get(p)!.data as Float32Array]));
  return withWeights(model, tg, params, stats);
}
