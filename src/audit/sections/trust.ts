/**
 * Trust beyond heatmaps (issue 6's statistics on the audited model): discrimination with intervals,
 * calibration before and after recalibration fitted on the validation split, uncertainty from
 * test-time augmentation (small rotations and shifts), and conformal prediction sets calibrated on
 * the validation split.
 */
import { augment } from '../../data/augment.js';
import { softmax } from '../../train/metrics.js';
import { Rng } from '../../tensor/rng.js';
import { Tensor } from '../../tensor/tensor.js';
import { trustSection } from '../../trust/section.js';
import type { Section } from '../../report/types.js';
import { keyOf } from '../cache.js';
import type { AuditContext } from '../context.js';

const TTA_PASSES = 8;

/**
 * One test-time augmentation of a batch: rotated by up to 5° and shifted by up to `pad` pixels. A volume
 * [N,C,D,H,W] is augmented as the image stack [N,C·D,H,W], so every slice of one volume gets the same
 * in-plane rotation and shift (augment draws per image, not per channel): a rigid motion of the volume.
 */
function ttaCopy(images: Tensor, rng: Rng, pad: number): Tensor {
  const opts = { flip: 0, rotate: 5, cropPadding: pad };
  if (images.shape.length === 4) return augment(images, rng, opts).images;
  const [n, c, d, h, w] = images.shape as [number, number, number, number, number];
  const x = augment(new Tensor(images.data, [n, c * d, h, w]), rng, opts).images;
  return new Tensor(x.data, images.shape);
}

export async function auditTrustSection(ctx: AuditContext): Promise<Section> {
  const { subject, data } = ctx;
  const k = subject.model.numClasses;
  const testId = keyOf('test', ctx.sample.id, data.test.images.shape);
  const valId = keyOf('val', ctx.sample.id, data.val.images.shape);
  const test = await ctx.logits(subject.id, subject.model, data.test.images, testId);
  const val = await ctx.logits(subject.id, subject.model, data.val.images, valId);
  const rng = new Rng(ctx.opts.seed).fork('tta');
  const passes: Float64Array[] = [softmax(test.data, k)];
  for (let t = 1; t < TTA_PASSES; t++) {
    const x = ttaCopy(data.test.images, rng.fork(t), Math.max(1, Math.round(subject.size / 32)));
    const lg = await ctx.logits(subject.id, subject.model, x, keyOf(testId, 'tta', t, ctx.opts.seed));
    passes.push(softmax(lg.data, k));
  }
  const samples = new Float64Array(passes.reduce((a, p) => a + p.length, 0));
  passes.forEach((p, t) => samples.set(p, t * p.length));
  const section = await trustSection({
    probs: softmax(test.data, k),
    logits: Float64Array.from(test.data),
    labels: data.test.labels as Int32Array,
    k,
    classNames: subject.classes,
    calibration: { probs: softmax(val.data, k), logits: Float64Array.from(val.data), labels: data.val.labels as Int32Array },
    stochastic: { samples, passes: TTA_PASSES, kind: 'tta' },
    ids: data.test.origins ? [...data.test.origins] : undefined,
    id: 'trust',
    title: 'Trust beyond heatmaps: performance, calibration, uncertainty, conformal sets',
  });
  section.summary.unshift(
    `Statistics of the audited model on all ${data.test.images.shape[0]} test images; recalibration, thresholds and conformal sets are fitted on the ${data.val.images.shape[0]} validation images${ctx.opts.split === 'all' ? ` of ${ctx.opts.trainData} (the external test set is only evaluated)` : ''}. Uncertainty comes from ${TTA_PASSES} test-time augmentations (the ${ctx.volumes ? 'volume' : 'image'} itself and ${TTA_PASSES - 1} copies rotated by up to 5° and shifted by a few pixels${ctx.volumes ? ' in the plane of the last two axes, every slice of a volume alike: a rotation about the first axis' : ''}).`,
  );
  return section;
}
