/**
 * Attribution inside a region the user names (DESIGN.md §5, localization): a lesion or organ mask,
 * or the box of a known confounder (a laterality marker, a burned-in label). For each method: the
 * share of positive and of absolute attribution inside the region (relevance mass), the fraction of
 * the region's size of top-ranked pixels that fall inside it (relevance rank), and the pointing
 * game — each against the region's share of the image.
 */
import { localisationAuc } from '../../evaluate/quantus/localisation-auc.js';
import { topKIntersection } from '../../evaluate/quantus/top-k-intersection.js';
import { sparseness } from '../../evaluate/quantus/sparseness.js';
import { existsSync } from 'node:fs';
import { pointingGame, relevanceMass, relevanceRank } from '../../evaluate/localization.js';
import { meanCI, formatCI } from '../../evaluate/stats.js';
import { readNpyFileSync } from '../../io/files.js';
import { Tensor } from '../../tensor/tensor.js';
import type { CheckItem, Section } from '../../report/types.js';
import type { AuditContext } from '../context.js';
import { barChart } from '../figures.js';
import { mainMaps } from './main-maps.js';

/** `box:x,y,w,h` (pixels of the model input) or a .npy mask [H,W] (every image) or [N_test,H,W] (per test image). */
export function regionMasks(spec: string, testRows: Int32Array, testCount: number, size: number): { masks: Tensor<Uint8Array>; description: string } {
  const n = testRows.length;
  const hw = size * size;
  const out = new Uint8Array(n * hw);
  const box = /^box:(\d+),(\d+),(\d+),(\d+)$/.exec(spec.trim());
  if (box) {
    const [x, y, w, h] = box.slice(1).map(Number) as [number, number, number, number];
    if (w < 1 || h < 1 || x + w > size || y + h > size) throw new Error(`--region ${spec}: the box must lie inside the ${size}×${size} model input`);
    for (let i = 0; i < n; i++) for (let r = y; r < y + h; r++) out.fill(1, i * hw + r * size + x, i * hw + r * size + x + w);
    return { masks: new Tensor(out, [n, size, size]), description: `box x ${x}, y ${y}, ${w}×${h} px` };
  }
  if (!spec.endsWith('.npy')) throw new Error(`--region must be box:x,y,w,h or a .npy mask, got '${spec}'`);
  if (!existsSync(spec)) throw new Error(`${spec}: no such mask file`);
  const m = readNpyFileSync(spec);
  const s = m.shape;
  if (s.length === 2 && s[0] === size && s[1] === size) {
    for (let i = 0; i < n; i++) for (let p = 0; p < hw; p++) out[i * hw + p] = m.data[p] ? 1 : 0;
  } else if (s.length === 3 && s[0] === testCount && s[1] === size && s[2] === size) {
    for (let i = 0; i < n; i++) for (let p = 0; p < hw; p++) out[i * hw + p] = m.data[testRows[i]! * hw + p] ? 1 : 0;
  } else {
    throw new Error(`${spec}: mask is [${s.join(', ')}]; expected [${size}, ${size}] (one region for every image) or [${testCount}, ${size}, ${size}] (one per test image, in test-split order), at the model's input size`);
  }
  return { masks: new Tensor(out, [n, size, size]), description: spec };
}

export async function regionSection(ctx: AuditContext): Promise<Section> {
  const { subject, sample } = ctx;
  const { masks, description } = regionMasks(ctx.opts.region!, sample.indices, ctx.data.test.images.shape[0]!, subject.size);
  const { maps } = await mainMaps(ctx);
  const hw = subject.size * subject.size;
  let inside = 0;
  let nonEmpty = 0;
  for (let i = 0; i < sample.indices.length; i++) {
    let c = 0;
    for (let p = 0; p < hw; p++) c += masks.data[i * hw + p]!;
    if (c) nonEmpty++;
    inside += c;
  }
  if (!nonEmpty) throw new Error(`--region ${ctx.opts.region}: the region is empty on every sampled image`);
  const area = inside / (nonEmpty * hw);
  const n = sample.indices.length;
  // Quantus' localisation metrics beside candor's (src/evaluate/quantus): images with an empty region are left out.
  const finite = (v: number[]) => v.filter(Number.isFinite);
  const topK = Math.min(1000, Math.max(1, Math.floor(hw / 4)));
  const rows = ctx.opts.methods.map((m) => {
    const t = maps.get(m)!;
    const abs = new Tensor(t.data.map(Math.abs), t.shape);
    return {
      method: m,
      positive: meanCI(relevanceMass(t, masks, 'positive')),
      absolute: meanCI(relevanceMass(t, masks, 'absolute')),
      rank: meanCI(relevanceRank(abs, masks)),
      pointing: meanCI(pointingGame(abs, masks)),
      auc: meanCI(finite(localisationAuc(abs.data, masks.data, n))),
      topk: meanCI(finite(topKIntersection(abs.data, masks.data, n, { k: topK }))),
      sparseness: meanCI(sparseness(t.data, n)),
    };
  });
  const high = rows.filter((r) => r.absolute.mean >= 2 * area);
  const checks: CheckItem[] = [
    {
      id: 'region',
      question: `How much of the attribution falls in the region you named (${description})?`,
      verdict: 'question',
      value: rows.map((r) => `${r.method} ${(100 * r.absolute.mean).toFixed(0)}%`).join('; ') + ` (region ${(100 * area).toFixed(1)}% of the image)`,
      why: 'Whether attention there is right depends on what the region is: on a lesion it is wanted, on a confounder (marker, label, device) it means the model may be using it.',
      section: 'region',
    },
  ];
  return {
    id: 'region',
    title: 'Attribution inside your region',
    summary: [
      `Region: ${description}, covering ${(100 * area).toFixed(1)}% of each image on average. For each of ${sample.indices.length} sampled test images, the share of attribution inside it, the fraction of its size of top-ranked pixels that fall inside it (relevance rank), and whether the single most important pixel lies in it (pointing game).`,
      high.length ? `Methods putting at least twice the region's area share of |attribution| in it: ${high.map((r) => `${r.method} (${formatCI(r.absolute)})`).join(', ')}.` : 'No method puts more than twice the region’s area share of |attribution| in it.',
    ],
    figures: [
      { id: 'region-mass', title: 'Share of attribution inside the region', caption: 'Mean over images with 95% intervals; dashed line: the region’s share of the image.', spec: barChart({ title: '', values: rows.flatMap((r) => [{ group: r.method, bar: '|attribution|', value: r.absolute.mean, lo: r.absolute.lo, hi: r.absolute.hi }, { group: r.method, bar: 'positive attribution', value: r.positive.mean, lo: r.positive.lo, hi: r.positive.hi }]), yTitle: 'share inside region', groupTitle: 'method', barTitle: 'mass', rule: { y: area, label: 'region area' } }) },
    ],
    tables: [
      {
        caption: `Localization in the region, mean [95% interval]; AUC (|map| as a score for the region, 0.5 = chance), top-${topK} intersection and sparseness (Gini) as Quantus defines them`,
        columns: ['method', 'positive mass', '|attribution| mass', 'relevance rank', 'pointing game', 'AUC', `top-${topK} ∩`, 'sparseness'],
        rows: rows.map((r) => [r.method, formatCI(r.positive), formatCI(r.absolute), formatCI(r.rank), formatCI(r.pointing), formatCI(r.auc), formatCI(r.topk), formatCI(r.sparseness)]),
      },
    ],
    results: { region: description, area, methods: rows },
    checks,
  };
}
