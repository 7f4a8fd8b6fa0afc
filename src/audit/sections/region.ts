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
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { readUtf8File } from '../../io/text.js';
import { splitCsvLine } from '../../io/csv.js';
import { readNifti } from '../../io/nifti.js';
import { niftiVolumeSample } from '../../data/volume.js';
import { pointingGame, relevanceMass, relevanceRank } from '../../evaluate/localization.js';
import { meanCI, formatCI } from '../../evaluate/stats.js';
import { openNpzFileSync, readNpyFileSync } from '../../io/files.js';
import { resize } from '../../data/resize.js';
import { forEachRun } from '../../explain/boxes.js';
import { Tensor } from '../../tensor/tensor.js';
import type { CheckItem, Section } from '../../report/types.js';
import type { AuditContext } from '../context.js';
import { barChart } from '../figures.js';
import { mainMaps } from './main-maps.js';

/**
 * The region of every sampled test image, [n, ...spatial]:
 *  - `box:x,y,w,h` (pixels of the model input; x along the last axis), or `box:x,y,z,w,h,d` for
 *    volumes (z along the first axis [D,H,W]);
 *  - a .npy mask at the model's input size: [...spatial] for every image or [N_test, ...spatial] per
 *    test image, in test-split order;
 *  - `masks`: the data's own `<split>_masks` arrays (a MedMNIST-style .npz holding masks, such as
 *    `candor synth-volumes` writes: the planted lesions), resampled to the model's size like the images
 *    (trilinear / bilinear, then > 0.5) — the test split, or every split in train, val, test order when the
 *    data are audited whole (--split all); for a CSV of NIfTI volumes, `masks.csv` beside it (file,mask rows,
 *    paths relative to it, as `candor synth-volumes --nifti` writes), matched to the test volumes by file.
 */
export function regionMasks(spec: string, testRows: Int32Array, testCount: number, spatial: readonly number[], data?: { path: string; whole: boolean; origins?: readonly string[] }, flag = '--region'): { masks: Tensor<Uint8Array>; description: string } {
  const n = testRows.length;
  const rank = spatial.length;
  const hw = spatial.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(n * hw);
  const dims = spatial.join('×');
  const box = /^box:(\d+(?:,\d+)*)$/.exec(spec.trim());
  if (box) {
    const v = box[1]!.split(',').map(Number);
    if (v.length !== 2 * rank) throw new Error(`${flag} ${spec}: a box on ${rank === 3 ? 'volumes is box:x,y,z,w,h,d' : 'images is box:x,y,w,h'} (the model takes ${dims})`);
    // origin and extent per axis, in array order (…, y, x)
    const origin = v.slice(0, rank).reverse();
    const extent = v.slice(rank).reverse();
    origin.forEach((o, a) => {
      if (extent[a]! < 1 || o + extent[a]! > spatial[a]!) throw new Error(`${flag} ${spec}: the box must lie inside the ${dims} model input`);
    });
    for (let i = 0; i < n; i++) forEachRun(spatial, origin, extent, (offset, length) => out.fill(1, i * hw + offset, i * hw + offset + length));
    const names = ['x', 'y', 'z'].slice(0, rank);
    return { masks: new Tensor(out, [n, ...spatial]), description: `box ${names.map((nm, k) => `${nm} ${v[k]}`).join(', ')}, ${v.slice(rank).join('×')} ${rank === 3 ? 'voxels' : 'px'}` };
  }
  if (spec.trim() === 'masks') {
    if (data && /\.csv$/i.test(data.path)) return csvMasks(data.path, testRows, spatial, data.origins, flag);
    if (!data || !/\.npz$/i.test(data.path)) throw new Error(`${flag} masks reads the data's own masks: <split>_masks of a .npz, or masks.csv (file,mask) beside a CSV of NIfTI volumes; the data are ${data?.path ?? 'neither'}`);
    const npz = openNpzFileSync(data.path);
    const splits = data.whole ? ['train', 'val', 'test'].filter((k) => npz.has(`${k}_images`)) : ['test'];
    const missing = splits.filter((k) => !npz.has(`${k}_masks`));
    if (missing.length) throw new Error(`${data.path}: ${flag} masks needs ${missing.map((k) => `${k}_masks`).join(', ')} (one mask per image, as candor synth-volumes writes), not found (arrays: ${npz.keys.join(', ')})`);
    const parts = splits.map((k) => npz.get(`${k}_masks`) as Tensor);
    const total = parts.reduce((a, t) => a + t.shape[0]!, 0);
    if (total !== testCount) throw new Error(`${data.path}: ${splits.map((k) => `${k}_masks`).join(' + ')} hold ${total} masks for ${testCount} audited images`);
    const rows: { part: Tensor; row: number }[] = [];
    for (const t of parts) for (let r = 0; r < t.shape[0]!; r++) rows.push({ part: t, row: r });
    for (let i = 0; i < n; i++) {
      const { part, row } = rows[testRows[i]!]!;
      const src = part.shape.slice(1);
      if (src.length !== rank) throw new Error(`${data.path}: masks are [${part.shape.join(', ')}], the model's inputs have ${rank} spatial axes`);
      const vox = src.reduce((a, b) => a * b, 1);
      let m: Tensor = new Tensor(Float32Array.from(part.data.subarray(row * vox, (row + 1) * vox), (x) => (x ? 1 : 0)), src);
      if (src.some((d, a) => d !== spatial[a])) m = resize(m, [...spatial], { antialias: false });
      for (let p = 0; p < hw; p++) out[i * hw + p] = m.data[p]! > 0.5 ? 1 : 0;
    }
    return { masks: new Tensor(out, [n, ...spatial]), description: `the data's own masks (${splits.map((k) => `${k}_masks`).join(' + ')} of ${data.path.split(/[\\/]/).pop()})` };
  }
  if (!spec.endsWith('.npy')) throw new Error(`${flag} must be ${rank === 3 ? 'box:x,y,z,w,h,d' : 'box:x,y,w,h'}, a .npy mask or 'masks' (the data's own), got '${spec}'`);
  if (!existsSync(spec)) throw new Error(`${spec}: no such mask file`);
  const m = readNpyFileSync(spec);
  const s = m.shape;
  const same = (a: readonly number[]) => a.length === rank && a.every((d, k) => d === spatial[k]);
  if (same(s)) {
    for (let i = 0; i < n; i++) for (let p = 0; p < hw; p++) out[i * hw + p] = m.data[p] ? 1 : 0;
  } else if (s[0] === testCount && same(s.slice(1))) {
    for (let i = 0; i < n; i++) for (let p = 0; p < hw; p++) out[i * hw + p] = m.data[testRows[i]! * hw + p] ? 1 : 0;
  } else {
    throw new Error(`${spec}: mask is [${s.join(', ')}]; expected [${spatial.join(', ')}] (one region for every image) or [${testCount}, ${spatial.join(', ')}] (one per test image, in test-split order), at the model's input size`);
  }
  return { masks: new Tensor(out, [n, ...spatial]), description: spec };
}

/** masks.csv beside a CSV of volumes: each sampled test volume's mask NIfTI, on the model's grid. */
function csvMasks(csv: string, testRows: Int32Array, spatial: readonly number[], origins: readonly string[] | undefined, flag: string): { masks: Tensor<Uint8Array>; description: string } {
  const file = join(dirname(csv), 'masks.csv');
  if (!existsSync(file)) throw new Error(`${flag} masks: ${file} not found (a CSV of file,mask rows naming each volume's mask, as candor synth-volumes --nifti writes)`);
  if (!origins) throw new Error(`${flag} masks: the data ${csv} do not record which file each volume came from`);
  if (spatial.length !== 3) throw new Error(`${flag} masks with ${file}: mask files are NIfTI volumes, for a 3-D model`);
  const byFile = new Map<string, string>();
  readUtf8File(file).split(/\r?\n/).forEach((line, i) => {
    const f = splitCsvLine(line);
    if (line.trim() === '' || (i === 0 && /^(file|path|image)/i.test(f[0] ?? ''))) return;
    if (f.length < 2 || !f[0] || !f[1]) throw new Error(`${file}:${i + 1}: expected 'file,mask', got '${line}'`);
    byFile.set(normalize(f[0]), f[1]);
  });
  const vox = spatial.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(testRows.length * vox);
  for (let i = 0; i < testRows.length; i++) {
    const origin = origins[testRows[i]!]!.replace(/#.*$/, '');
    const m = byFile.get(normalize(origin));
    if (!m) throw new Error(`${file}: no mask for ${origin}`);
    const path = isAbsolute(m) ? m : join(dirname(file), m);
    if (!existsSync(path)) throw new Error(`${file}: mask ${m} of ${origin} not found (looked for ${path})`);
    // values as stored (window 0.5 ± 0.5: 0 → 0, 1 → 1), voxel order as the volumes are read ('ijk')
    const s = niftiVolumeSample(readNifti(new Uint8Array(readFileSync(path)), path), 'ijk', [0.5, 1]);
    let t: Tensor = new Tensor(s.data, s.spatial);
    if (s.spatial.some((d, a) => d !== spatial[a])) t = resize(t, [...spatial], { antialias: false });
    for (let p = 0; p < vox; p++) out[i * vox + p] = t.data[p]! > 0.5 ? 1 : 0;
  }
  return { masks: new Tensor(out, [testRows.length, ...spatial]), description: `the data's own masks (${file})` };
}

/** The region of the audit's sample (its options and data). */
export function auditRegion(ctx: AuditContext): { masks: Tensor<Uint8Array>; description: string } {
  const done = regions.get(ctx);
  if (done) return done;
  const r = regionMasks(ctx.opts.region!, ctx.sample.indices, ctx.data.test.images.shape[0]!, ctx.subject.spatial, { path: ctx.data.path, whole: ctx.opts.split === 'all', origins: ctx.data.test.origins });
  regions.set(ctx, r);
  return r;
}

const regions = new WeakMap<AuditContext, { masks: Tensor<Uint8Array>; description: string }>();

export async function regionSection(ctx: AuditContext): Promise<Section> {
  const { subject, sample } = ctx;
  const { masks, description } = auditRegion(ctx);
  const { maps } = await mainMaps(ctx);
  const hw = ctx.voxels;
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
