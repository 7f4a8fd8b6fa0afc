/**
 * Agreement between methods (the Carpentries lesson's Grad-CAM++ vs Score-CAM comparison, for every
 * pair): per image, the Spearman rank correlation of |map| between two methods, averaged over the
 * sample; images where the methods disagree most are flagged and shown, since a reader shown one
 * method there would be told a different story by another.
 */
import { pearson, rankdata } from '../../evaluate/correlation.js';
import { meanCI, formatCI } from '../../evaluate/stats.js';
import { getMethod } from '../../explain/registry.js';
import type { CheckItem, Section } from '../../report/types.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { AuditContext } from '../context.js';
import { MIN_COUNTED } from './model-randomization.js';
import { mapsGrid } from '../figures.js';
import { mainMaps } from './main-maps.js';

/** Images whose mean pairwise agreement is below this are flagged. */
const DISAGREE = 0.2;

function absSlice(t: Tensor, i: number, hw: number): Float64Array {
  return Float64Array.from(t.data.subarray(i * hw, (i + 1) * hw), Math.abs);
}

export async function agreementSection(ctx: AuditContext): Promise<Section> {
  const { subject, sample } = ctx;
  const { targets, maps } = await mainMaps(ctx);
  const methods = ctx.opts.methods;
  const n = sample.indices.length;
  const hw = ctx.voxels;
  // Spearman = Pearson of ranks: rank each |map| once, not once per pair it takes part in.
  const ranks = methods.map((m) => Array.from({ length: n }, (_, i) => rankdata(absSlice(maps.get(m)!, i, hw))));
  const pairs: { a: string; b: string; perImage: number[] }[] = [];
  for (let x = 0; x < methods.length; x++) {
    for (let y = x + 1; y < methods.length; y++) {
      pairs.push({ a: methods[x]!, b: methods[y]!, perImage: Array.from({ length: n }, (_, i) => pearson(ranks[x]![i]!, ranks[y]![i]!)) });
    }
  }
  const matrix = pairs.map((p) => ({ ...p, ci: meanCI(p.perImage) }));
  const perImage = Array.from({ length: n }, (_, i) => {
    const v = pairs.map((p) => p.perImage[i]!).filter(Number.isFinite);
    return v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN;
  });
  const flagged = perImage.map((v, i) => ({ v, i })).filter((x) => x.v < DISAGREE).sort((a, b) => a.v - b.v);
  const counted = perImage.filter(Number.isFinite).length;
  const overall = meanCI(perImage);
  const cells = methods.flatMap((a) => methods.map((b) => {
    if (a === b) return { a, b, rho: 1 };
    const p = matrix.find((q) => (q.a === a && q.b === b) || (q.a === b && q.b === a))!;
    return { a, b, rho: Math.round(p.ci.mean * 100) / 100 };
  }));
  const gpp = matrix.find((p) => [p.a, p.b].sort().join() === ['gradcampp', 'scorecam'].sort().join());
  const checks: CheckItem[] = [
    {
      id: 'agreement',
      question: 'Do the methods tell the same story about the same image?',
      // Images where no pair of maps has a defined correlation (constant maps) are not counted.
      verdict: counted < MIN_COUNTED ? 'not meaningful' : flagged.length / counted > 0.25 ? 'warn' : 'pass',
      value: `mean pairwise Spearman ${formatCI(overall)}; ${flagged.length} of ${counted} images below ${DISAGREE}${counted < n ? ` (${n - counted} with constant maps not counted)` : ''}`,
      threshold: `≤ 25% of images with mean pairwise agreement < ${DISAGREE}`,
      why: 'Methods rest on different definitions and need not agree, but where they contradict each other a single heatmap should not be shown to a clinician as "the" explanation; look at the flagged images.',
      section: 'agreement',
    },
  ];
  const show = flagged.slice(0, 3);
  const figures: Section['figures'] = [
    {
      id: 'agreement-matrix',
      title: 'Agreement between methods',
      caption: 'Mean Spearman rank correlation of |map| between two methods on the same image, over the sample.',
      spec: {
        data: { values: cells },
        width: 40 * methods.length,
        height: 40 * methods.length,
        encoding: { x: { field: 'a', type: 'nominal', sort: methods, title: null, axis: { labelAngle: -40 } }, y: { field: 'b', type: 'nominal', sort: methods, title: null } },
        layer: [
          { mark: 'rect', encoding: { color: { field: 'rho', type: 'quantitative', scale: { scheme: 'redblue', domain: [-1, 1] }, title: 'Spearman' } } },
          { mark: { type: 'text', fontSize: 11 }, encoding: { text: { field: 'rho', type: 'quantitative', format: '.2f' } } },
        ],
      },
    },
  ];
  if (show.length) {
    figures.push({
      id: 'agreement-flagged',
      title: 'Images where the methods disagree most',
      caption: `Mean pairwise agreement of each row: ${show.map((s) => `${s.v.toFixed(2)} (${originOf(ctx, sample.indices[s.i]!)})`).join(', ')}.`,
      svg: mapsGrid(sample.images, show.map(({ i }) => ({ index: i, title: [`TRUE ${subject.classes[sample.labels[i]!]!}`, `TARGET ${subject.classes[targets[i]!]!}`], cells: methods.map((m) => ({ maps: maps.get(m)!, signed: getMethod(m).signed, title: [m] })) })), 96, sample.affines),
    });
  }
  return {
    id: 'agreement',
    title: 'Agreement between methods',
    summary: [
      `For each pair of methods, the rank correlation of their |maps| on the same image, averaged over ${n} images. Overall mean agreement ${formatCI(overall)}; ${flagged.length} image(s) have a mean agreement below ${DISAGREE}.`,
      ...(gpp ? [`Grad-CAM++ vs Score-CAM (the pair the Carpentries lesson compares): ${formatCI(gpp.ci)}.`] : []),
      `Most similar pair: ${[...matrix].sort((a, b) => b.ci.mean - a.ci.mean).slice(0, 1).map((p) => `${p.a}–${p.b} ${p.ci.mean.toFixed(2)}`).join('')}; least similar: ${[...matrix].sort((a, b) => a.ci.mean - b.ci.mean).slice(0, 1).map((p) => `${p.a}–${p.b} ${p.ci.mean.toFixed(2)}`).join('')}.`,
    ],
    figures,
    tables: [{ caption: 'Pairwise agreement, mean Spearman of |map| [95% interval]', columns: ['method A', 'method B', 'agreement'], rows: matrix.map((p) => [p.a, p.b, formatCI(p.ci)]) }],
    results: { pairs: matrix.map((p) => ({ a: p.a, b: p.b, mean: p.ci.mean, lo: p.ci.lo, hi: p.ci.hi, perImage: p.perImage })), perImage, flagged: flagged.map((f) => ({ testRow: sample.indices[f.i]!, origin: ctx.data.test.origins?.[sample.indices[f.i]!] ?? null, agreement: f.v })), threshold: DISAGREE },
    checks,
  };
}

/** Where test row `row` came from (file and slice/frame, or archive row), for captions. */
function originOf(ctx: AuditContext, row: number): string {
  return ctx.data.test.origins?.[row] ?? `test row ${row}`;
}
