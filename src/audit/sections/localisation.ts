/**
 * The ground-truth localisation benchmark (issue 17, item 3; `--masks`): for every method, and for the random,
 * Sobel and constant control maps, mIoU after Otsu's and after a tuned threshold, the hit rate (pointing game)
 * and the AUPRC of the map against each image's lesion mask (evaluate/localisation-benchmark.ts: Saporta et al.
 * 2022, Arun et al. 2021), with 95% intervals (t for means, Wilson for the hit rate), beside the AUPRC of a map
 * that knows nothing (the mask's share of the image). The checklist asks whether the maps point at the lesions:
 * better than chance and than every control on AUPRC.
 */
import { localisationScores, type LocalisationScores } from '../../evaluate/localisation-benchmark.js';
import { meanCI, formatCI, type MeanCI } from '../../evaluate/stats.js';
import { wilsonInterval } from '../../trust/intervals.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { CheckItem, Section } from '../../report/types.js';
import type { AuditContext } from '../context.js';
import { groundTruthMasks } from '../ground-truth.js';
import { barChart } from '../figures.js';
import { mainMaps } from './main-maps.js';
import { MIN_COUNTED } from './model-randomization.js';
import { CONTROLS } from '../metric-suite.js';
import { allConstant } from './main-maps.js';

interface Row {
  method: string;
  control: boolean;
  iouOtsu: MeanCI;
  iouTuned: MeanCI;
  hits: number;
  scored: number;
  hit: { lo: number; hi: number };
  auprc: MeanCI;
}

const finite = (v: number[]) => v.filter(Number.isFinite);

function summarise(method: string, control: boolean, s: LocalisationScores): Row {
  const hits = finite(s.hit);
  const w = wilsonInterval(hits.reduce((a, b) => a + b, 0), hits.length);
  return { method, control, iouOtsu: meanCI(finite(s.iouOtsu)), iouTuned: meanCI(finite(s.iouTuned)), hits: hits.reduce((a, b) => a + b, 0), scored: hits.length, hit: { lo: w.lower, hi: w.upper }, auprc: meanCI(finite(s.auprc)) };
}

/**
 * pass: every method's AUPRC beats chance and every control; warn: some method's; fail: none; not meaningful: < 3
 * lesions, or no method with varying maps (`better` holds only those).
 */
export function localisationVerdict(scored: number, better: readonly boolean[]): CheckItem['verdict'] {
  if (scored < MIN_COUNTED || !better.length) return 'not meaningful';
  return better.every(Boolean) ? 'pass' : better.some(Boolean) ? 'warn' : 'fail';
}

export async function localisationSection(ctx: AuditContext): Promise<Section> {
  const { subject, sample } = ctx;
  const { masks, description } = groundTruthMasks({
    spec: ctx.opts.masks!,
    testRows: sample.indices,
    testCount: ctx.data.test.images.shape[0]!,
    spatial: subject.spatial,
    data: { path: ctx.data.path, whole: ctx.opts.split === 'all', origins: ctx.data.test.origins },
    resize: ctx.opts.resize ?? 'stretch',
  });
  const { targets, maps } = await mainMaps(ctx);
  const all: { method: string; control: boolean; maps: Tensor }[] = [...ctx.opts.methods.map((m) => ({ method: m, control: false, maps: maps.get(m)! }))];
  for (const c of CONTROLS) all.push({ method: c, control: true, maps: await ctx.maps(subject.id, subject.model, sample.images, sample.id, targets, c, 'main') });
  const scores = all.map((e) => ({ ...e, s: localisationScores(e.maps, masks, { seed: ctx.opts.seed }) }));
  const rows = scores.map((e) => summarise(e.method, e.control, e.s));
  const chance = meanCI(finite(scores[0]!.s.auprcChance));
  const scored = rows[0]!.scored;
  const empty = scores[0]!.s.empty;
  if (!scored) throw new Error(`--masks ${ctx.opts.masks}: every mask is empty on the ${sample.indices.length} sampled test images`);
  const controls = rows.filter((r) => r.control);
  const methods = rows.filter((r) => !r.control);
  // a method whose maps are constant on every image ranks no pixel above another: not measured, not failed
  const constant = new Set(all.filter((e) => !e.control && allConstant(e.maps, sample.indices.length)).map((e) => e.method));
  const beats = (r: Row) => r.auprc.lo > chance.hi && controls.every((c) => !Number.isFinite(c.auprc.mean) || r.auprc.lo > c.auprc.hi);
  const better = methods.map(beats);
  const measuredBetter = methods.filter((r) => !constant.has(r.method)).map(beats);
  const checks: CheckItem[] = [{
    id: 'localisation',
    question: `Do the maps point at the lesions (${description})?`,
    verdict: localisationVerdict(scored, measuredBetter),
    value: methods.map((r) => constant.has(r.method) ? `${r.method}: not measured (its maps are constant)` : `${r.method}: AUPRC ${formatCI(r.auprc)}, hit rate ${r.hits}/${r.scored}, mIoU (Otsu) ${r.iouOtsu.mean.toFixed(2)}`).join('; ') + `; chance AUPRC ${chance.mean.toFixed(3)}`,
    threshold: 'AUPRC above the lesions’ share of the image (chance) and above every control map, 95% intervals not overlapping',
    why: scored < MIN_COUNTED
      ? `Not meaningful: only ${scored} sampled image(s) have a lesion in the masks; intervals need ${MIN_COUNTED} or more.`
      : !measuredBetter.length
        ? 'Not meaningful: every method gave constant maps on these images, which rank no pixel above another.'
        : 'A map meant to show the finding should rank the lesion’s pixels first (Saporta et al. 2022 found saliency maps well below human localisation on chest X-rays); beating chance is the least it must do, beating maps that ignore the model the least it must do to be evidence.',
    section: 'localisation',
  }];
  const tunedThresholds = [...new Set(finite(scores.flatMap((e) => e.s.tunedThreshold)))].sort((a, b) => a - b);
  return {
    id: 'localisation',
    title: 'Localisation against ground-truth lesions',
    summary: [
      `Ground truth: ${description}, ${scored} of ${sample.indices.length} sampled test images with a lesion (${empty} without are left out). Each map’s magnitude, scaled to [0, 1] per image, is compared with the lesion mask as CheXlocalize does (Saporta et al. 2022): binarised by Otsu’s threshold and by a threshold tuned for mean IoU — chosen on the other half of the images, so that no image is scored with a threshold tuned on it (thresholds used: ${tunedThresholds.map((t) => t.toFixed(2)).join(', ') || 'none'}) — the hit rate (the map’s maximum inside the lesion) and the area under the precision–recall curve of the map’s values against the lesion’s pixels (Arun et al. 2021). A map that knows nothing scores an AUPRC equal to the lesions’ share of the image: ${formatCI(chance, 3)}.`,
      ...methods.map((r, i) => constant.has(r.method) ? `${r.method}: its maps are constant on these images, so they rank no pixel above another — not measured.` : `${r.method}: AUPRC ${formatCI(r.auprc, 3)}, mIoU ${formatCI(r.iouOtsu)} (Otsu) / ${formatCI(r.iouTuned)} (tuned), hit rate ${r.hits}/${r.scored} [${(100 * r.hit.lo).toFixed(0)}–${(100 * r.hit.hi).toFixed(0)}%] — ${better[i] ? 'better than chance and than every control map.' : r.auprc.lo > chance.hi ? 'better than chance, but not than every control map.' : 'not better than chance.'}`),
      `Controls: ${controls.map((r) => `${r.method} AUPRC ${formatCI(r.auprc, 3)}`).join('; ')}.`,
    ],
    figures: [{
      id: 'localisation-auprc',
      title: 'AUPRC of the maps against the lesion masks',
      caption: 'Mean over images with 95% intervals; dashed line: chance (the lesions’ share of the image).',
      spec: barChart({ title: '', values: rows.map((r) => ({ group: r.control ? `${r.method} (control)` : r.method, bar: 'AUPRC', value: r.auprc.mean, lo: r.auprc.lo, hi: r.auprc.hi })), yTitle: 'AUPRC', groupTitle: 'method', barTitle: 'measure', rule: { y: chance.mean, label: 'chance' } }),
    }],
    tables: [{
      caption: `Localisation against the lesion masks on ${scored} images, mean [95% interval] (hit rate: count and Wilson interval)`,
      columns: ['method', 'mIoU, Otsu', 'mIoU, tuned threshold', 'hit rate', 'AUPRC'],
      rows: rows.map((r) => [r.control ? `${r.method} (control)` : r.method, formatCI(r.iouOtsu), formatCI(r.iouTuned), `${r.hits}/${r.scored} [${(100 * r.hit.lo).toFixed(0)}–${(100 * r.hit.hi).toFixed(0)}%]`, formatCI(r.auprc, 3)]),
    }],
    results: {
      masks: description,
      images: sample.indices.length,
      scored,
      empty,
      chanceAuprc: chance,
      methods: rows,
      perImage: Object.fromEntries(scores.map((e) => [e.method, e.s])),
    },
    checks,
  };
}
