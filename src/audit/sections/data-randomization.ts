/**
 * Data randomization test (Adebayo et al. 2018): the audited architecture trained on permuted
 * labels learns nothing generalisable, so maps that look the same for it as for the real model do not
 * reflect what the real model learned from its labels.
 */
import { SIMILARITY_MEASURES } from '../../evaluate/similarity.js';
import { formatCI } from '../../evaluate/stats.js';
import { getMethod } from '../../explain/registry.js';
import type { CheckItem, Section } from '../../report/types.js';
import type { AuditContext } from '../context.js';
import { barChart, mapsGrid } from '../figures.js';
import { predictedClasses } from '../predictions.js';
import { getSanityModel, MEMORISED } from '../sanity-models.js';
import { randomLabelsPrecondition } from '../preconditions.js';
import { asSimilarAsAControl, compareWithOriginal, controlRows, controlSimilarity, MEASURE_LABEL, originalMaps, randomizationVerdict, similarityLevel, similarityValue, STRONG, UNMEASURED, WEAK } from './model-randomization.js';


export async function dataRandomizationSection(ctx: AuditContext): Promise<Section> {
  const { subject } = ctx;
  const R = await getSanityModel(ctx, 'random-labels');
  const sample = ctx.head(ctx.opts.nRandomization);
  const targets = await predictedClasses(ctx, subject.id, subject.model, sample);
  const original = await originalMaps(ctx, sample, targets);
  ctx.log('  maps of the random-label model');
  const { summary, maps } = await compareWithOriginal(ctx, sample, targets, original, { id: R.id, model: R.model });
  const controls = await controlSimilarity(ctx, sample, targets, { id: R.id, model: R.model });
  const methods = ctx.opts.methods;
  const last = R.card.history[R.card.history.length - 1];
  const trainAcc = last?.train.accuracy;
  const epochsRun = R.card.history.length;
  const memorised = trainAcc !== undefined && trainAcc >= MEMORISED;
  const per = methods.map((m) => ({ m, s: summary[m]!.spearmanAbs }));
  const pre = await randomLabelsPrecondition(ctx);
  const checks: CheckItem[] = [
    {
      id: 'data-randomization',
      question: 'Do the maps differ for a model trained on randomized labels?',
      verdict: pre.holds ? randomizationVerdict(per.map((p) => p.s)) : 'not meaningful',
      value: per.map((p) => similarityValue(p.m, p.s)).join('; ') + `; ${controlRows(controls).value}`,
      threshold: `mean Spearman |map| vs the random-label model ≤ ${WEAK} pass, ≤ ${STRONG} warn`,
      why: pre.holds
        ? 'Adebayo et al. (2018): a method that gives the same map for a model that learned nothing from its labels is not explaining the learned relation between image and label.'
        : `The comparison assumes a random-label model that memorised its permuted labels and is at chance on test images (${pre.value}); here ${pre.reason}.`,
      section: 'data-randomization',
    },
  ];
  const show = Math.min(3, sample.indices.length);
  const svg = mapsGrid(
    sample.images,
    Array.from({ length: show }, (_, i) => ({
      index: i,
      title: [`TRUE ${subject.classes[sample.labels[i]!]!}`, `TARGET ${subject.classes[targets[i]!]!}`],
      cells: methods.flatMap((m) => [
        { maps: original.get(m)!, signed: getMethod(m).signed, title: [m, 'TRAINED'], group: m },
        { maps: maps.get(m)!, signed: getMethod(m).signed, title: [m, 'RANDOM LABELS'], group: m },
      ]),
    })),
    64,
    sample.affines,
  );
  return {
    id: 'data-randomization',
    title: 'Data randomization (labels permuted)',
    summary: [
      `A model of the same architecture was trained on ${R.card.data.splits.train} training images with their labels randomly permuted, for ${epochsRun} epochs (its test balanced accuracy is in the performance section: it should be at chance). ${memorised ? `It memorised the random labels, as in Adebayo et al.: final training accuracy ${trainAcc!.toFixed(3)} (stopping at ${MEMORISED}).` : `Its final training accuracy is ${trainAcc?.toFixed(3) ?? 'n/a'}, below ${MEMORISED}: it has not memorised the random labels as Adebayo et al.'s networks had, and is closer to a model that learned only the class balance (it still differs from the trained model in every weight); --epochs-random-labels trains longer.`} Each method explained ${sample.indices.length} test images with both models, for the class the audited model predicts.`,
      ...(pre.holds
        ? per.map((p) => `${p.m}: rank correlation with the trained model's map ${formatCI(p.s)} — ${{ weak: 'different, as it should be.', partial: 'partly the same map without meaningful labels; read with care.', strong: 'largely the same map from a model that learned nothing: it reflects the image, not the learned labels.', unmeasured: UNMEASURED }[similarityLevel(p.s)]}${asSimilarAsAControl(p.s, controls) ? ` Its interval reaches that of the ${asSimilarAsAControl(p.s, controls)} control map, which ignores the model.` : ''}`)
        : [`Not meaningful on this run: ${pre.reason}. The rank correlations with the trained model's maps are listed for the record, not read as a finding: ${per.map((p) => `${p.m} ${formatCI(p.s)}`).join('; ')}.`]),
      `Control maps, which never read the model (random, Sobel edges of the image, constant), compared the same way: ${Object.entries(controls).map(([c, v]) => similarityValue(c, v.spearmanAbs)).join('; ')} — what a map that ignores the weights gets (the constant map has no rank correlation).`,
    ],
    figures: [
      {
        id: 'data-randomization-similarity',
        title: 'Similarity of maps: trained model vs random-label model',
        caption: 'Mean over images with 95% intervals. Low values mean the method is sensitive to what the model learned from its labels.',
        spec: barChart({ title: '', values: methods.flatMap((m) => (['spearmanAbs', 'ssim', 'hog'] as const).map((k) => ({ group: m, bar: MEASURE_LABEL[k], value: summary[m]![k].mean, lo: summary[m]![k].lo, hi: summary[m]![k].hi }))), yTitle: 'similarity', groupTitle: 'method', barTitle: 'measure' }),
      },
      { id: 'data-randomization-grid', title: 'Maps of the trained and the random-label model', caption: 'For each method: the trained model’s map, then the random-label model’s map of the same image and class, the two on one colour scale (their values together, P99-clipped), so a weaker map looks weaker.', svg },
    ],
    tables: [
      {
        caption: 'Similarity to the trained model’s map, mean [95% interval]',
        columns: ['method', ...SIMILARITY_MEASURES.map((k) => MEASURE_LABEL[k]), 'images counted'],
        rows: [...methods.map((m) => [m, ...SIMILARITY_MEASURES.map((k) => formatCI(summary[m]![k])), summary[m]!.spearmanAbs.n]), ...controlRows(controls).rows],
      },
    ],
    results: { model: { path: R.path ?? null, epochs: epochsRun, maxEpochs: R.card.training.epochs, trainImages: R.card.data.splits.train, trainAccuracy: trainAcc ?? null, memorised, test: R.card.test }, images: Array.from(sample.indices), similarity: summary, controls, thresholds: { weak: WEAK, strong: STRONG } },
    checks,
  };
}
