/**
 * What the sanity-check tests assume of their models, measured once and shared by every section that
 * leans on it (issue 14: a check whose precondition fails is "not meaningful", never pass or fail).
 *
 * - The random-label model (data randomization, Adebayo et al. 2018) must have memorised its permuted
 *   training labels (final training accuracy ≥ MEMORISED) and be at chance on test images: balanced
 *   accuracy within 0.10 of chance *and*, for two classes, AUROC within 0.10 of 0.5 (an AUROC of 0.26 is
 *   anti-correlated, not chance).
 * - The shortcut model must use its marker: balanced accuracy ≥ 0.95 on marked test images and at least
 *   0.10 lower on clean ones (the whole test split).
 */
import { keyOf } from './cache.js';
import type { AuditContext } from './context.js';
import { getSanityModel, MEMORISED } from './sanity-models.js';
import { performanceOf, type ModelPerformance } from './sections/performance.js';
import { markedTest } from './marked.js';

export const CHANCE_MARGIN = 0.1;
export const SHORTCUT_MARKED = 0.95;
export const SHORTCUT_DROP = 0.1;

export interface Precondition {
  holds: boolean;
  /** What was measured, in one line. */
  value: string;
  /** Why it fails and what to change (empty when it holds). */
  reason: string;
}

/** The random-label model's state: memorised and at chance (balanced accuracy and AUROC). */
export async function randomLabelsPrecondition(ctx: AuditContext): Promise<Precondition & { perf: ModelPerformance; trainAccuracy: number | undefined }> {
  return ctx.once('precondition:random-labels', async () => {
    const R = await getSanityModel(ctx, 'random-labels');
    const test = ctx.data.test;
    const testId = keyOf('test', ctx.sample.id, test.images.shape);
    const perf = await performanceOf(ctx, 'random-label model, test images', R.id, R.model, test.images, testId, test.labels as Int32Array);
    const last = R.card.history[R.card.history.length - 1];
    const trainAccuracy = last?.train.accuracy;
    const chance = 1 / ctx.subject.model.numClasses;
    const memorised = trainAccuracy !== undefined && trainAccuracy >= MEMORISED;
    const baOk = Math.abs(perf.balancedAccuracy - chance) <= CHANCE_MARGIN;
    const aucOk = perf.auroc === null || Math.abs(perf.auroc - 0.5) <= CHANCE_MARGIN;
    const value = `training accuracy ${trainAccuracy?.toFixed(3) ?? 'n/a'}; test balanced accuracy ${perf.balancedAccuracy.toFixed(3)}${perf.auroc !== null ? `, AUROC ${perf.auroc.toFixed(3)}` : ''}`;
    const reasons: string[] = [];
    if (!memorised) reasons.push(`it has not memorised its permuted training labels (training accuracy ${trainAccuracy?.toFixed(3) ?? 'n/a'} < ${MEMORISED}): train it longer (--epochs-random-labels, default 60) or on fewer images (--train-limit)`);
    if (!baOk) reasons.push(`its test balanced accuracy ${perf.balancedAccuracy.toFixed(3)} is not within ${CHANCE_MARGIN} of chance (${chance.toFixed(2)}): the labels may not be fully permuted, or the test leaks into training`);
    if (!aucOk) reasons.push(`its test AUROC ${perf.auroc!.toFixed(3)} is not within ${CHANCE_MARGIN} of 0.5: it ranks test images systematically (${perf.auroc! < 0.5 ? 'inversely' : 'in order'}), which a model that learned nothing does not`);
    return { holds: reasons.length === 0, value, reason: reasons.join('; '), perf, trainAccuracy };
  });
}

/** Whether the shortcut model relies on its marker, on the audit's sample. */
export async function shortcutPrecondition(ctx: AuditContext): Promise<Precondition & { marked: ModelPerformance; clean: ModelPerformance }> {
  return ctx.once('precondition:shortcut', async () => {
    // On the whole test split (as the performance section reports it), not the audit's small sample, so
    // that a few images do not decide whether the experiment means anything.
    const S = await getSanityModel(ctx, 'shortcut');
    const test = ctx.data.test;
    const testId = keyOf('test', ctx.sample.id, test.images.shape);
    const m = await markedTest(ctx);
    const marked = await performanceOf(ctx, 'shortcut model, marked test images', S.id, S.model, m.images, m.id, m.labels);
    const clean = await performanceOf(ctx, 'shortcut model, clean test images', S.id, S.model, test.images, testId, test.labels as Int32Array);
    const drop = marked.balancedAccuracy - clean.balancedAccuracy;
    const value = `balanced accuracy marked ${marked.balancedAccuracy.toFixed(3)} vs clean ${clean.balancedAccuracy.toFixed(3)}`;
    const reasons: string[] = [];
    if (marked.balancedAccuracy < SHORTCUT_MARKED) reasons.push(`on marked images it reaches balanced accuracy ${marked.balancedAccuracy.toFixed(3)} < ${SHORTCUT_MARKED}`);
    if (drop < SHORTCUT_DROP) reasons.push(`removing the marker costs it ${drop.toFixed(3)} < ${SHORTCUT_DROP} of balanced accuracy`);
    const reason = reasons.length ? `the shortcut model did not learn the marker (${reasons.join('; ')}): train it longer (--epochs-shortcut) or plant a bigger marker (--shortcut corner:12)` : '';
    return { holds: reasons.length === 0, value, reason, marked, clean };
  });
}
