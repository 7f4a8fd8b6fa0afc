/**
 * Faithfulness (DESIGN.md §5): do the pixels a map ranks first matter to the model? Deletion
 * (blur the most important pixels first: the class probability should fall fast; low AUC; also
 * reported with RISE's fill 0, which on X-rays looks like opacity) and
 * insertion (reveal them first on a blurred image: it should rise fast; high AUC), against a random
 * ranking of the same pixels and a Sobel edge map — the two control maps that order pixels without the model
 * (the constant control orders none: it is left out, said in the text); ROAD (remove with noisy linear
 * imputation, most- vs least-relevant first) on a smaller subset, since imputation costs a linear solve per
 * image and fraction.
 */
import type { InputScale } from '../../data/transforms.js';
import { deletionCurve, faithfulnessCorrelation, insertionCurve, type CurveResult } from '../../evaluate/faithfulness.js';
import { road } from '../../evaluate/road.js';
import { meanCI, formatCI } from '../../evaluate/stats.js';
import { Rng } from '../../tensor/rng.js';
import { Tensor } from '../../tensor/tensor.js';
import type { CheckItem, Section } from '../../report/types.js';
import type { AuditContext } from '../context.js';
import { intervalChart } from '../figures.js';
import { mainMaps } from './main-maps.js';
import { allConstant } from './main-maps.js';

const STEPS = 32;
const ROAD_PERCENTAGES = [0.2, 0.5, 0.8];
const RANDOM = 'random order (control)';
const SOBEL = 'sobel (control)';
const CONTROL_NAMES = new Set([RANDOM, SOBEL]);

function meanCurve(c: CurveResult, series: string, facet: string) {
  return c.fractions.map((f, j) => {
    const ci = meanCI(c.curves.map((r) => r[j]!));
    return { x: f, series, facet, mean: ci.mean, lo: ci.lo, hi: ci.hi };
  });
}

export async function faithfulnessSection(ctx: AuditContext): Promise<Section> {
  const { subject, sample } = ctx;
  const { targets, maps } = await mainMaps(ctx);
  const rng = new Rng(ctx.opts.seed).fork('random-maps');
  const n = sample.indices.length;
  const hw = ctx.voxels;
  const randomMaps = new Tensor(rng.fillUniform(new Float32Array(n * hw)), [n, ...subject.spatial]);
  const sobelMaps = await ctx.maps(subject.id, subject.model, sample.images, sample.id, targets, 'sobel', 'main');
  const all = new Map([...maps, [RANDOM, randomMaps] as const, [SOBEL, sobelMaps] as const]);
  const curveOpts = { steps: STEPS, blurSigma: Math.max(1, subject.size / 16) };
  type Entry = { method: string; deletion: CurveResult; insertion: CurveResult; deletionFill: CurveResult };
  const entries: Entry[] = [];
  const bar = ctx.progress('  deletion/insertion', all.size, 'map set');
  for (const [m, t] of all) {
    const r = await ctx.cache.json('faithfulness', { model: subject.id, images: sample.id, targets, method: m, maps: t.data, curveOpts, baselines: ['blur', 'blur', 0] }, async () => ({
      method: m,
      deletion: await deletionCurve(subject.model, sample.images, t, targets, { ...curveOpts, baseline: 'blur' }),
      insertion: await insertionCurve(subject.model, sample.images, t, targets, { ...curveOpts, baseline: 'blur' }),
      deletionFill: await deletionCurve(subject.model, sample.images, t, targets, { ...curveOpts, baseline: 0 }),
    }));
    entries.push(r);
    bar.tick(1);
  }
  bar.finish();
  const summary = entries.map((e) => ({ method: e.method, deletion: meanCI(e.deletion.auc), insertion: meanCI(e.insertion.auc), deletionFill: meanCI(e.deletionFill.auc) }));
  const rnd = summary.find((s) => s.method === RANDOM)!;
  const sob = summary.find((s) => s.method === SOBEL)!;

  // ROAD on a subset.
  const sub = ctx.head(Math.min(ctx.opts.nStability, 16));
  const roadRows: { method: string; morf: number[]; lerf: number[]; gap: number }[] = [];
  const fcRows = new Map<string, ReturnType<typeof meanCI>>();
  const rbar = ctx.progress(ctx.volumes ? '  faithfulness correlation' : '  ROAD', ctx.opts.methods.length, 'method');
  for (const m of ctx.opts.methods) {
    const t = maps.get(m)!.slice0(0, sub.indices.length);
    const r = ctx.volumes ? undefined : await ctx.cache.json('road', { model: subject.id, images: sub.id, method: m, maps: t.data, p: ROAD_PERCENTAGES }, async () => {
      const res = await road(subject.model, sub.images, t, targets.slice(0, sub.indices.length), { percentages: ROAD_PERCENTAGES, seed: ctx.opts.seed });
      return { morf: res.morf!.meanScore, lerf: res.lerf!.meanScore };
    });
    const fcOpts = { runs: 50, subsetSize: Math.max(16, Math.round(hw / 20)), seed: ctx.opts.seed };
    const fc = await ctx.cache.json('faithfulness-correlation', { model: subject.id, images: sub.id, method: m, maps: t.data, fcOpts }, async () => (await faithfulnessCorrelation(subject.model, sub.images, t, targets.slice(0, sub.indices.length), fcOpts)).correlation);
    fcRows.set(m, meanCI(fc));
    if (r) {
      const gap = r.lerf.reduce((a, b) => a + b, 0) / r.lerf.length - r.morf.reduce((a, b) => a + b, 0) / r.morf.length;
      roadRows.push({ method: m, morf: r.morf, lerf: r.lerf, gap });
    }
    rbar.tick(1);
  }
  rbar.finish();

  const room = probabilityRoom(entries.find((e) => e.method === RANDOM)!.deletion);
  // Better than a control on a curve: the intervals do not overlap; a method must beat both controls.
  const better = summary.filter((s) => !CONTROL_NAMES.has(s.method)).map((s) => {
    const delRandom = s.deletion.hi < rnd.deletion.lo;
    const insRandom = s.insertion.lo > rnd.insertion.hi;
    const delSobel = s.deletion.hi < sob.deletion.lo;
    const insSobel = s.insertion.lo > sob.insertion.hi;
    // A map constant on every image ranks no pixel above another: its 'order' is the scan order, not measured.
    const constant = allConstant(maps.get(s.method)!, n);
    return { ...s, delRandom, insRandom, delSobel, insSobel, del: delRandom && delSobel, ins: insRandom && insSobel, constant };
  });
  const lost = (b: (typeof better)[number], curve: 'del' | 'ins') => {
    const names = [...(b[`${curve}Random`] ? [] : ['random']), ...(b[`${curve}Sobel`] ? [] : ['Sobel'])];
    return names.length ? ` (not better than ${names.join(' or ')})` : '';
  };
  const checks: CheckItem[] = [
    {
      id: 'faithfulness',
      question: 'Do the pixels the maps rank first actually drive the prediction?',
      // Precondition: blurring the whole image must move the probability, or no order of pixels can beat another.
      verdict: faithfulnessVerdict(room, better),

      value: better.map((b) => (b.constant ? `${b.method}: not measured (its maps are constant)` : `${b.method}: deletion ${b.deletion.mean.toFixed(3)}${lost(b, 'del')}, insertion ${b.insertion.mean.toFixed(3)}${lost(b, 'ins')}`)).join('; ') + `; controls: random order ${rnd.deletion.mean.toFixed(3)} / ${rnd.insertion.mean.toFixed(3)}, Sobel edges ${sob.deletion.mean.toFixed(3)} / ${sob.insertion.mean.toFixed(3)}`,
      threshold: 'deletion AUC below and insertion AUC above both control maps — a random pixel order and Sobel edges (blurred baseline) — 95% intervals not overlapping',
      why: !(room >= MIN_ROOM)
        ? `Not meaningful: blurring the whole image changes the predicted class's probability by only ${room.toFixed(3)} (less than ${MIN_ROOM}), so deletion and insertion cannot tell a faithful map from a random order on this model; read ${ctx.volumes ? 'the faithfulness correlation' : 'ROAD'} and the fill-0 column, or use another baseline.`
        : better.every((b) => b.constant)
          ? 'Not meaningful: every method gave constant maps on every image, so no map orders any pixel before another.'
          : 'A map that orders pixels no better than chance, or than an edge detector that never looks at the model, does not show what the model uses (Petsiuk et al. 2018; control maps as in Quantus and pytorch-grad-cam).',
      section: 'faithfulness',
    },
  ];
  const values = entries.flatMap((e) => [...meanCurve(e.deletion, e.method, 'deletion (pixels blurred)'), ...meanCurve(e.insertion, e.method, 'insertion (on blurred image)'), ...meanCurve(e.deletionFill, e.method, 'deletion (pixels set to 0)')]);
  return {
    id: 'faithfulness',
    title: ctx.volumes ? 'Faithfulness: deletion and insertion' : 'Faithfulness: deletion, insertion and ROAD',
    summary: [
      `For each of ${n} images, pixels were removed (replaced by a blurred copy of the image, σ = ${curveOpts.blurSigma.toFixed(1)} px) or revealed (on that blurred copy) in the order each map ranks them, in ${STEPS} steps, and the probability of the predicted class recorded. A faithful map makes the probability fall fast when deleting (low area under the curve) and rise fast when inserting (high area). Two control maps that know nothing about the model are the yardstick: a random pixel order and Sobel edges of the image (an edge map often looks like a saliency map; Adebayo et al. 2018). The constant control ranks no pixel above another, so it has no deletion order and is left out. The verdict uses the blurred baseline.`,
      `Deletion by setting the model's input to 0 (RISE's choice; ${zeroMeans(ctx.opts.scale ?? 'pm1')}) is reported too: a uniform patch can itself look like a finding (on chest X-rays, grey like opacity), so this baseline can raise the probability of a class while deleting and penalise maps that point at it. AUC with fill 0: ${summary.map((x) => `${x.method} ${x.deletionFill.mean.toFixed(3)}`).join(', ')}.`,
      ...better.map((b) => `${b.method}: deletion AUC ${formatCI(b.deletion, 3)}, insertion AUC ${formatCI(b.insertion, 3)} — ${b.constant ? 'its maps are constant on every image, so they order no pixel before another: not measured.' : controlSentence(b)}`),
      `Controls: random order — deletion ${formatCI(rnd.deletion, 3)}, insertion ${formatCI(rnd.insertion, 3)}; Sobel edges — deletion ${formatCI(sob.deletion, 3)}, insertion ${formatCI(sob.insertion, 3)}.`,
      ...roomNote(entries.find((e) => e.method === RANDOM)!.deletion, !ctx.volumes),
      ctx.volumes
        ? `ROAD (Rong et al. 2022) was not run: its noisy linear imputation is defined on the 8-neighbourhood of a 2-D image and candor has no 3-D form of it, so on volumes read deletion, insertion and the faithfulness correlation.`
        : `ROAD (Rong et al. 2022) removes pixels and fills them by noisy linear imputation, so the model does not just react to holes; on ${sub.indices.length} images, the probability after removing the least relevant pixels (LeRF) should stay above that after removing the most relevant (MoRF). Gap LeRF − MoRF, averaged over ${ROAD_PERCENTAGES.map((p) => `${p * 100}%`).join(', ')}: ${roadRows.map((r) => `${r.method} ${r.gap.toFixed(3)}`).join('; ')}.`,
      `Faithfulness correlation (Bhatt et al. 2020, Quantus' definition) on the same ${sub.indices.length} images: the Pearson correlation, over 50 random subsets of ${Math.max(16, Math.round(hw / 20))} pixels set to 0, between the subset's total attribution and the drop of the class logit; near 0 means the map's values do not predict what removing pixels does. ${[...fcRows].map(([m, c]) => `${m} ${formatCI(c)}`).join('; ')}.`,
    ],
    figures: [
      { id: 'faithfulness-curves', title: 'Deletion and insertion curves', caption: 'Mean probability of the predicted class over images (95% intervals) as pixels are removed or revealed in each map’s order.', spec: intervalChart({ title: '', values, xTitle: 'fraction of pixels', yTitle: 'probability of the predicted class', yDomain: [0, 1], facetTitle: 'curve' }) },
      ...(roadRows.length ? [{
        id: 'faithfulness-road',
        title: 'ROAD: most- vs least-relevant first',
        caption: 'Mean probability after removing a fraction of pixels with noisy linear imputation. MoRF should fall below LeRF.',
        spec: intervalChart({ title: '', values: roadRows.flatMap((r) => ROAD_PERCENTAGES.flatMap((p, j) => [{ x: p, series: r.method, facet: 'MoRF (most relevant first)', mean: r.morf[j]!, lo: r.morf[j]!, hi: r.morf[j]! }, { x: p, series: r.method, facet: 'LeRF (least relevant first)', mean: r.lerf[j]!, lo: r.lerf[j]!, hi: r.lerf[j]! }])), xTitle: 'fraction removed', yTitle: 'probability', yDomain: [0, 1], facetTitle: 'order' }),
      }] : []),
    ],
    tables: [
      { caption: 'Area under the curves, mean [95% interval]', columns: ['method', 'deletion AUC, blurred (lower is better)', 'insertion AUC (higher is better)', 'deletion AUC, fill 0', ...(ctx.volumes ? [] : ['ROAD gap LeRF − MoRF']), 'faithfulness correlation'], rows: summary.map((s) => [s.method, formatCI(s.deletion, 3), formatCI(s.insertion, 3), formatCI(s.deletionFill, 3), ...(ctx.volumes ? [] : [roadRows.find((r) => r.method === s.method)?.gap ?? null]), fcRows.has(s.method) ? formatCI(fcRows.get(s.method)!) : null]) },
    ],
    results: { steps: STEPS, blurSigma: curveOpts.blurSigma, fractions: entries[0]!.deletion.fractions, auc: summary, road: ctx.volumes ? { notRun: 'volumes: no 3-D noisy linear imputation' } : { images: sub.indices.length, percentages: ROAD_PERCENTAGES, methods: roadRows }, faithfulnessCorrelation: Object.fromEntries(fcRows) },
    checks,
  };
}

/** What a method's deletion and insertion intervals show against the two controls, in one sentence. */
export function controlSentence(b: { delRandom: boolean; insRandom: boolean; delSobel: boolean; insSobel: boolean }): string {
  if (b.delRandom && b.insRandom && b.delSobel && b.insSobel) return 'better than both controls on both curves.';
  const random = b.delRandom && b.insRandom ? 'both curves' : b.delRandom ? 'deletion only' : b.insRandom ? 'insertion only' : 'neither curve';
  const sobel = b.delSobel && b.insSobel ? 'both curves' : b.delSobel ? 'deletion only' : b.insSobel ? 'insertion only' : 'neither curve';
  return `better than a random order on ${random}, than Sobel edges on ${sobel}.`;
}

/** Below this change of probability from the image to its full blur, deletion/insertion verdicts are not meaningful. */
export const MIN_ROOM = 0.1;

/**
 * pass: every measured method beats the controls on deletion and insertion; warn: some on one; fail: none; not
 * meaningful: no room, or every method's maps constant (nothing ordered).
 */
export function faithfulnessVerdict(room: number, better: readonly { del: boolean; ins: boolean; constant?: boolean }[]): 'pass' | 'warn' | 'fail' | 'not meaningful' {
  const measured = better.filter((b) => !b.constant);
  if (!(room >= MIN_ROOM) || !measured.length) return 'not meaningful';
  return measured.every((b) => b.del && b.ins) ? 'pass' : measured.some((b) => b.del || b.ins) ? 'warn' : 'fail';
}

/** Mean probability of the predicted class on the image minus on its full blur (the random order's curve ends). */
function probabilityRoom(c: CurveResult): number {
  const start = c.curves.reduce((a, r) => a + r[0]!, 0) / c.curves.length;
  const end = c.curves.reduce((a, r) => a + r[r.length - 1]!, 0) / c.curves.length;
  return Math.abs(start - end);
}

/** What an input of 0 is, in pixels, under each scale. */
function zeroMeans(scale: InputScale): string {
  return { pm1: "mid-grey on the model's [-1, 1] scale", unit: 'black on the [0, 1] scale', byte: 'black on the [0, 255] scale', imagenet: 'the ImageNet mean colour, about mid-grey' }[scale];
}

/** When the fully blurred image keeps most of the probability, the deletion test has little room: say so. */
function roomNote(c: CurveResult, road: boolean): string[] {
  const start = c.curves.reduce((a, r) => a + r[0]!, 0) / c.curves.length;
  const end = c.curves.reduce((a, r) => a + r[r.length - 1]!, 0) / c.curves.length;
  if (start - end >= 0.3) return [];
  return [
    `Caution: the fully blurred image still gets probability ${end.toFixed(2)} for the predicted class (against ${start.toFixed(2)} for the image itself), so on this model blurring removes little evidence and the blurred deletion and insertion curves have little room to separate methods; read the fill-0 column${road ? ' and ROAD' : ' and the faithfulness correlation'} beside them.`,
  ];
}
