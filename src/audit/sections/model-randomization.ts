/**
 * Model-parameter randomization test (Adebayo et al. 2018; DESIGN.md §5). For each method, maps of
 * the trained model are compared with maps of copies whose weights are re-initialised — cascading
 * from the logits down, and one layer at a time — by Spearman (|map| and signed), Pearson, SSIM and
 * HOG similarity. Maps that barely change when the weights are random do not explain what the model
 * learned.
 */
import { compareMapBatches, SIMILARITY_MEASURES, type SimilarityMeasure } from '../../evaluate/similarity.js';
import { meanCI, formatCI } from '../../evaluate/stats.js';
import { getMethod } from '../../explain/registry.js';
import type { CheckItem, Section } from '../../report/types.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { AuditContext, Sample } from '../context.js';
import { cascadingSteps, parameterGroups, randomizeGroups, type ParamGroup } from '../randomize.js';
import { intervalChart, mapsGrid } from '../figures.js';
import { predictedClasses } from '../predictions.js';
import { keyOf } from '../cache.js';
import { CONTROLS } from '../metric-suite.js';

export interface SimilaritySummary {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** Per step: method → measure → summary over images. */
export type StepSimilarity = Record<string, Record<SimilarityMeasure, SimilaritySummary>>;

function summarise(values: number[]): SimilaritySummary {
  const ci = meanCI(values);
  return { mean: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n };
}

/** Similarity of each method's maps on `sample` between the original and a variant model. */
export async function compareWithOriginal(
  ctx: AuditContext,
  sample: Sample,
  targets: number[],
  original: Map<string, Tensor>,
  variant: { id: string; model: AuditContext['subject']['model'] },
): Promise<{ summary: StepSimilarity; maps: Map<string, Tensor> }> {
  const summary: StepSimilarity = {};
  const maps = new Map<string, Tensor>();
  ctx.prefetchMaps(variant.id, variant.model, sample.images, sample.id, targets, ctx.opts.methods, 'repeated');
  for (const m of ctx.opts.methods) {
    const v = await ctx.maps(variant.id, variant.model, sample.images, sample.id, targets, m, 'repeated');
    maps.set(m, v);
    summary[m] = await cachedSimilarity(ctx, { original: ctx.subject.id, variant: variant.id, images: sample.id, targets, method: m }, original.get(m)!, v);
  }
  return { summary, maps };
}

/**
 * The similarity summaries of two map batches, cached by what determines both maps (the models, images, targets and
 * the method with its audit options — the maps' own cache key parts): SSIM, HOG and the rank correlations are most of a
 * warm audit's time otherwise (5.5 s of 8 in a profile).
 */
function cachedSimilarity(ctx: AuditContext, key: { original: string; variant: string; images: string; targets: readonly number[]; method: string }, a: Tensor, b: Tensor): Promise<Record<SimilarityMeasure, SimilaritySummary>> {
  return ctx.cache.json('similarity', { ...key, targets: [...key.targets], options: ctx.methodOptions(key.method, 'repeated') }, async () => {
    const sim = compareMapBatches(a, b);
    return Object.fromEntries(SIMILARITY_MEASURES.map((k) => [k, summarise(sim[k])])) as Record<SimilarityMeasure, SimilaritySummary>;
  });
}

/** Maps of the audited model with the 'repeated' settings, for every method. */
export async function originalMaps(ctx: AuditContext, sample: Sample, targets: number[]): Promise<Map<string, Tensor>> {
  const out = new Map<string, Tensor>();
  ctx.prefetchMaps(ctx.subject.id, ctx.subject.model, sample.images, sample.id, targets, ctx.opts.methods, 'repeated');
  for (const m of ctx.opts.methods) out.set(m, await ctx.maps(ctx.subject.id, ctx.subject.model, sample.images, sample.id, targets, m, 'repeated', `  ${m} (original)`));
  return out;
}

/**
 * The control maps (random, Sobel edges, constant: they ignore the model) through the same comparison: their
 * maps of the sample from the audited model and from the variant. A map that ignores the weights is the same for
 * both (similarity 1; the constant map's correlation is not defined): the value a method must stay below.
 */
export async function controlSimilarity(
  ctx: AuditContext,
  sample: Sample,
  targets: number[],
  variant: { id: string; model: AuditContext['subject']['model'] },
): Promise<StepSimilarity> {
  const out: StepSimilarity = {};
  for (const c of CONTROLS) {
    const a = await ctx.maps(ctx.subject.id, ctx.subject.model, sample.images, sample.id, targets, c, 'repeated');
    const b = await ctx.maps(variant.id, variant.model, sample.images, sample.id, targets, c, 'repeated');
    out[c] = await cachedSimilarity(ctx, { original: ctx.subject.id, variant: variant.id, images: sample.id, targets, method: c }, a, b);
  }
  return out;
}

/** Whether a method's similarity interval reaches that of some measured control (it is no less similar than a map that ignores the model). */
export function asSimilarAsAControl(s: SimilaritySummary, controls: StepSimilarity): string | undefined {
  if (similarityLevel(s) === 'unmeasured') return undefined;
  return Object.entries(controls).find(([, c]) => similarityLevel(c.spearmanAbs) !== 'unmeasured' && s.hi >= c.spearmanAbs.lo)?.[0];
}

/** The controls' entries for a checklist value and a table. */
export function controlRows(controls: StepSimilarity): { value: string; rows: (string | number | null)[][] } {
  const names = Object.keys(controls);
  return {
    value: `controls, which ignore the model: ${names.map((c) => similarityValue(c, controls[c]!.spearmanAbs)).join('; ')}`,
    rows: names.map((c) => [`${c} (control)`, ...SIMILARITY_MEASURES.map((k) => formatCI(controls[c]![k])), controls[c]!.spearmanAbs.n]),
  };
}

export const MEASURE_LABEL: Record<SimilarityMeasure, string> = { spearmanAbs: 'Spearman of |map|', spearman: 'Spearman (signed)', pearson: 'Pearson', ssim: 'SSIM', hog: 'HOG similarity' };

/** Rank similarity to the original map: weak at or below WEAK, strong above STRONG (conventional cut-offs). */
export const WEAK = 0.3;
export const STRONG = 0.6;

export type SimilarityLevel = 'weak' | 'partial' | 'strong' | 'unmeasured';

/** Images whose maps must be non-constant (a correlation is defined) before a method's similarity is read. */
export const MIN_COUNTED = 3;

/** How similar a mean rank correlation is, by the cut-offs above (NaN counts as strong: nothing shown to differ). */
/** The level of a similarity summary; 'unmeasured' when fewer than MIN_COUNTED images had non-constant maps. */
export function similarityLevel(s: { mean: number; n: number }): SimilarityLevel {
  if (!(s.n >= MIN_COUNTED) || !Number.isFinite(s.mean)) return 'unmeasured';
  return s.mean <= WEAK ? 'weak' : s.mean <= STRONG ? 'partial' : 'strong';
}

/** A sentence for a method whose similarity could not be measured. */
export const UNMEASURED = `not measured: fewer than ${MIN_COUNTED} images had non-constant maps on both sides (a correlation with a constant map is not defined), so nothing can be said.`;

/**
 * A method's entry in a checklist value: its mean and interval, or "not measured" with how many images
 * counted — never an interval over fewer than MIN_COUNTED images (with 2 it spans most of [−1, 1] and
 * reads as a finding).
 */
export function similarityValue(method: string, s: { mean: number; lo: number; hi: number; n: number }): string {
  return similarityLevel(s) === 'unmeasured' ? `${method} not measured (${s.n} of the images had non-constant maps; ${MIN_COUNTED} needed)` : `${method} ${formatCI(s)}`;
}

/** The checklist verdict over methods: any strong similarity fails, any partial warns. */
export function randomizationVerdict(summaries: readonly { mean: number; n: number }[]): 'pass' | 'warn' | 'fail' | 'not meaningful' {
  const levels = summaries.map(similarityLevel).filter((l) => l !== 'unmeasured');
  if (!levels.length) return 'not meaningful';
  return levels.includes('strong') ? 'fail' : levels.includes('partial') ? 'warn' : 'pass';
}

export async function modelRandomizationSection(ctx: AuditContext): Promise<Section> {
  const { subject } = ctx;
  const sample = ctx.head(ctx.opts.nRandomization);
  const targets = await predictedClasses(ctx, subject.id, subject.model, sample);
  const original = await originalMaps(ctx, sample, targets);
  const groups = parameterGroups(subject.model.ir, { source: subject.path });
  const steps = cascadingSteps(groups);
  const cascading: { randomized: string; summary: StepSimilarity }[] = [];
  const independent: { layer: string; summary: StepSimilarity }[] = [];
  const exampleMaps: Map<string, Tensor>[] = [];
  const total = steps.length + groups.length;
  let done = 0;
  let controls: StepSimilarity = {};
  const run = async (label: string, set: readonly ParamGroup[], withControls = false) => {
    done++;
    ctx.log(`  [${done}/${total}] ${label}`);
    const ir = randomizeGroups(subject.model.ir, set, ctx.opts.seed);
    const id = keyOf(subject.id, 'randomized', set.map((g) => g.name), ctx.opts.seed);
    const model = subject.model.derive(ir, `${subject.path} (${label})`);
    try {
      if (withControls) controls = await controlSimilarity(ctx, sample, targets, { id, model });
      return await compareWithOriginal(ctx, sample, targets, original, { id, model });
    } finally {
      await model.dispose();
    }
  };
  for (const step of steps) {
    const top = step[step.length - 1]!.name;
    const r = await run(`cascading: randomized down to ${top}`, step, step === steps[steps.length - 1]);
    cascading.push({ randomized: top, summary: r.summary });
    exampleMaps.push(r.maps);
  }
  for (const g of groups) {
    const r = await run(`independent: ${g.name} only`, [g]);
    independent.push({ layer: g.name, summary: r.summary });
  }

  const methods = ctx.opts.methods;
  const order = cascading.map((c) => c.randomized);
  const chartValues = (rows: { label: string; summary: StepSimilarity }[], measures: SimilarityMeasure[]) =>
    rows.flatMap((r) => methods.flatMap((m) => measures.map((k) => ({ x: r.label, series: m, facet: MEASURE_LABEL[k], mean: r.summary[m]![k].mean, lo: r.summary[m]![k].lo, hi: r.summary[m]![k].hi }))));
  const shown: SimilarityMeasure[] = ['spearmanAbs', 'spearman', 'ssim', 'hog'];

  // Verdict per method: rank similarity to the original after every layer is randomized.
  const last = cascading[cascading.length - 1]!.summary;
  const checks: CheckItem[] = [];
  const perMethod = methods.map((m) => ({ m, s: last[m]!.spearmanAbs }));
  checks.push({
    id: 'model-randomization',
    question: 'Do the maps change when the model’s weights are replaced by random ones?',
    verdict: randomizationVerdict(perMethod.map((p) => p.s)),
    value: perMethod.map((p) => similarityValue(p.m, p.s)).join('; ') + `; ${controlRows(controls).value}`,
    threshold: `mean Spearman |map| after full randomization ≤ ${WEAK} pass, ≤ ${STRONG} warn`,
    why: `Adebayo et al. (2018): a saliency method whose maps survive weight randomization shows the image or the architecture, not what the model learned. Below 0.3 rank correlation is weak by convention; above 0.6 the random model’s map is largely the same map. Methods with fewer than ${MIN_COUNTED} images of non-constant maps are not read (and if none is left, the check is not meaningful).`,
    section: 'model-randomization',
  });

  // Example figure: the first image, each method down the rows, randomization steps across.
  const cells = (mi: number) => [
    { maps: original.get(methods[mi]!)!, signed: getMethod(methods[mi]!).signed, title: [methods[mi]!, 'ORIGINAL'], group: methods[mi]! },
    ...exampleMaps.map((mm, si) => ({ maps: mm.get(methods[mi]!)!, signed: getMethod(methods[mi]!).signed, title: ['TO ' + order[si]!, ''], group: methods[mi]! })),
  ];
  // mapsGrid draws one image per row; here each row is a method on the same image (index 0).
  const svg = mapsGrid(sample.images, methods.map((m, mi) => ({ index: 0, title: [m, `TRUE ${subject.classes[sample.labels[0]!]!}`], cells: cells(mi) })), 96, sample.affines);

  const summaryText = [
    `Each method explained ${sample.indices.length} test images with the trained model and again with copies whose weights were re-initialised (PyTorch's default initialisation): cascading from the output layer down to the input (${groups.length} steps), and one layer at a time. Similarity to the original map is averaged over images, with 95% intervals.`,
    ...perMethod.map(
      (p) =>
        `${p.m}: after every layer is randomized, rank correlation with the original map is ${formatCI(p.s)} — ${{ weak: 'the map depends on the learned weights, as it should.', partial: 'the map keeps part of its structure without the learned weights; read it with care.', strong: 'the map is largely the same with random weights: it does not show what the model learned.', unmeasured: UNMEASURED }[similarityLevel(p.s)]}${asSimilarAsAControl(p.s, controls) ? ` Its interval reaches that of the ${asSimilarAsAControl(p.s, controls)} control map, which ignores the model: no more dependent on the weights than a map that never reads them.` : ''}`,
    ),
    `Control maps, which never read the model (random, Sobel edges of the image, constant), were compared the same way: ${Object.entries(controls).map(([c, v]) => similarityValue(c, v.spearmanAbs)).join('; ')} — the value a map that ignores the weights gets (the constant map has no rank correlation).`,
    'CAM maps of a randomized model are often all zero (nothing survives the ReLU); correlations with a constant map are not defined and are left out of the averages (the n in results.json says how many images count).',
  ];
  return {
    id: 'model-randomization',
    title: 'Model randomization (Adebayo et al.)',
    summary: summaryText,
    figures: [
      {
        id: 'model-randomization-cascading',
        title: 'Cascading randomization: similarity to the original map',
        caption: 'x: layers randomized so far, from the output down. Points are means over images with 95% intervals; a trustworthy method falls towards 0 as more layers are randomized.',
        spec: intervalChart({ title: '', values: chartValues(cascading.map((c) => ({ label: c.randomized, summary: c.summary })), shown), xTitle: 'randomized down to', yTitle: 'similarity', xOrder: order, facetTitle: 'measure' }),
      },
      {
        id: 'model-randomization-independent',
        title: 'Independent randomization: one layer at a time',
        caption: 'Each point re-initialises only that layer. Layers whose randomization barely changes the maps are not what the maps show.',
        spec: intervalChart({ title: '', values: chartValues(independent.map((c) => ({ label: c.layer, summary: c.summary })), ['spearmanAbs', 'ssim']), xTitle: 'layer randomized', yTitle: 'similarity', xOrder: groups.map((g) => g.name), facetTitle: 'measure' }),
      },
      { id: 'model-randomization-example', title: 'One image through the cascade', caption: 'Rows: methods. Columns: the original model, then the model randomized down to each layer (output first); each row on one colour scale (its maps’ values together, P99-clipped), so a map that fades is seen to fade. CAMs are min–max scaled per map by their definition.', svg },
    ],
    tables: [
      {
        caption: 'After full cascading randomization: mean similarity to the original map [95% interval]',
        columns: ['method', 'Spearman |map|', 'Spearman signed', 'Pearson', 'SSIM', 'HOG', 'images counted'],
        rows: [...methods.map((m) => [m, ...SIMILARITY_MEASURES.map((k) => formatCI(last[m]![k])), last[m]!.spearmanAbs.n]), ...controlRows(controls).rows],
      },
    ],
    results: { images: Array.from(sample.indices), groups: groups.map((g) => ({ name: g.name, initializers: g.initializers })), cascading, independent, controls, thresholds: { weak: WEAK, strong: STRONG } },
    checks,
  };
}
