/**
 * Trust beyond heatmaps (issue 6's statistics on the audited model): discrimination with intervals,
 * calibration before and after recalibration fitted on the validation split, uncertainty from
 * test-time augmentation (small rotations and shifts), and conformal prediction sets calibrated on
 * the validation split.
 */
import { augment } from '../../data/augment.js';
import { softmax } from '../../train/metrics.js';
import { Rng } from '../../tensor/rng.js';
import { trustSection } from '../../trust/section.js';
import type { Section } from '../../report/types.js';
import { keyOf } from '../cache.js';
import type { AuditContext } from '../context.js';

const TTA_PASSES = 8;

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
    const x = augment(data.test.images, rng.fork(t), { flip: 0, rotate: 5, cropPadding: Math.max(1, Math.round(subject.size / 32)) }).images;
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
    `Statistics of the audited model on all ${data.test.images.shape[0]} test images; recalibration, thresholds and conformal sets are fitted on the ${data.val.images.shape[0]} validation images${ctx.opts.split === 'all' ? ` of ${ctx.opts.trainData} (the external test set is only evaluated)` : ''}. Uncertainty comes from ${TTA_PASSES} test-time augmentations (the image itself and ${TTA_PASSES - 1} copies rotated by up to 5° and shifted by a few pixels).`,
  );
  return section;
}
