/**
 * Quantus' metrics, family by family, with control maps as the floor (issue 17, items 2 and 5): every method's
 * maps and three control maps that know nothing about the model — random, Sobel edges, constant — are scored by
 * the metric suite (../metric-suite.ts) on a subset of the test images; the section gives a method × metric
 * table (mean and 95% interval, rank among the methods) and says, metric by metric, which methods do better than
 * every control (intervals not overlapping the best control's). A metric a control wins does not reward knowing
 * the model on these data (a constant map is perfectly robust; edges are sparse): the section says so, and the
 * checklist counts only the faithfulness metrics, where a control should lose.
 */
import { meanCI, formatCI, type MeanCI } from '../../evaluate/stats.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import type { CheckItem, Section } from '../../report/types.js';
import type { AuditContext } from '../context.js';
import { parameterGroups, randomizeGroups } from '../randomize.js';
import { CONTROLS, METRICS, computeMetric, type MetricDef } from '../metric-suite.js';
import { allConstant, mainMaps } from './main-maps.js';
import { irofSegments } from '../../evaluate/quantus/irof.js';
import { MIN_COUNTED } from './model-randomization.js';
import { MIN_ROOM } from './faithfulness.js';

const SUBSET = 16;

interface Score {
  method: string;
  control: boolean;
  ci: MeanCI;
}

/** Whether `a` is better than `b` beyond their intervals (batch-level metrics: by value). */
export function beats(def: MetricDef, a: MeanCI, b: MeanCI): boolean {
  if (!Number.isFinite(a.mean) || !Number.isFinite(b.mean)) return false;
  if (def.batchLevel || a.n < 2 || b.n < 2) return def.higherIsBetter ? a.mean > b.mean : a.mean < b.mean;
  return def.higherIsBetter ? a.lo > b.hi : a.hi < b.lo;
}

function bestOf(def: MetricDef, scores: readonly Score[]): Score | undefined {
  const ok = scores.filter((s) => Number.isFinite(s.ci.mean));
  return ok.sort((p, q) => (def.higherIsBetter ? q.ci.mean - p.ci.mean : p.ci.mean - q.ci.mean))[0];
}

export async function metricsSection(ctx: AuditContext): Promise<Section> {
  const { subject } = ctx;
  const { targets: allTargets, maps } = await mainMaps(ctx);
  const sub = ctx.head(Math.min(SUBSET, ctx.sample.indices.length));
  const k = sub.indices.length;
  const targets = allTargets.slice(0, k);
  const defs = METRICS.filter((d) => !(d.imagesOnly && ctx.volumes));
  const methods = [...ctx.opts.methods.map((m) => ({ name: m, control: false })), ...CONTROLS.map((m) => ({ name: m, control: true }))];
  const groups = parameterGroups(subject.model.ir, { source: subject.path });
  let randomized: Model | undefined;
  let segments: Tensor | undefined;
  const scores = new Map<string, Score[]>(defs.map((d) => [d.id, []]));
  const raw: Record<string, Record<string, number[]>> = {};
  // seconds spent computing each metric in this run (0 when every score came from the cache)
  const seconds = new Map<string, number>(defs.map((d) => [d.id, 0]));
  // Preconditions: the model's output must react to removing the image (else no removal order can beat another),
  // and a method's maps must vary (a constant map ranks nothing): otherwise the comparison is not meaningful.
  const room = await removalRoom(subject.model, sub.images, targets);
  const constant = new Set<string>();
  const bar = ctx.progress('  metrics', methods.length * defs.length, 'score');
  try {
    for (const m of methods) {
      const a: Tensor = m.control ? await ctx.maps(subject.id, subject.model, sub.images, sub.id, targets, m.name, 'main') : maps.get(m.name)!.slice0(0, k);
      if (!m.control && allConstant(a, k)) constant.add(m.name);
      raw[m.name] = {};
      for (const def of defs) {
        const values = await ctx.cache.json('quantus-metric', { model: subject.id, images: sub.id, targets, method: m.name, maps: a.data, metric: def.id, seed: ctx.opts.seed }, async () => {
          randomized ??= subject.model.derive(randomizeGroups(subject.model.ir, groups, ctx.opts.seed), `${subject.path} (every layer randomized)`);
          const explainOn = (model: Model, images: Tensor, t: readonly number[]) => ctx.computeMaps(model, images, t, m.name, 'repeated');
          const t0 = performance.now();
          if (def.id === 'irof') segments ??= irofSegments(sub.images);
          const v = await computeMetric(def, { model: subject.model, randomized, images: sub.images, targets, maps: a, explainOn, seed: ctx.opts.seed, segments });
          seconds.set(def.id, seconds.get(def.id)! + (performance.now() - t0) / 1000);
          return v;
        });
        raw[m.name]![def.id] = values;
        scores.get(def.id)!.push({ method: m.name, control: m.control, ci: meanCI(values) });
        bar.tick(1);
      }
    }
  } finally {
    bar.finish();
    await randomized?.dispose();
  }

  // Per metric: the methods better than every control, the controls that beat every method, ranks.
  const perMetric = defs.map((def) => {
    const all = scores.get(def.id)!;
    const ms = all.filter((s) => !s.control);
    const cs = all.filter((s) => s.control);
    const floor = bestOf(def, cs);
    const top = bestOf(def, ms);
    const ranked = [...ms].filter((s) => Number.isFinite(s.ci.mean)).sort((p, q) => (def.higherIsBetter ? q.ci.mean - p.ci.mean : p.ci.mean - q.ci.mean));
    return {
      def,
      floor,
      // a batch-level score has no interval: it is reported, not compared with the controls
      aboveControls: def.batchLevel ? [] : ms.filter((s) => cs.every((c) => !Number.isFinite(c.ci.mean) || beats(def, s.ci, c.ci))).map((s) => s.method),
      controlWins: floor && top && !(def.higherIsBetter ? top.ci.mean > floor.ci.mean : top.ci.mean < floor.ci.mean) ? floor.method : undefined,
      rank: new Map(ranked.map((s, i) => [s.method, i + 1])),
    };
  });
  const faith = perMetric.filter((p) => p.def.family === 'faithfulness' && !p.def.batchLevel);
  const perMethod = ctx.opts.methods.map((m) => ({ method: m, constant: constant.has(m), wins: faith.filter((p) => p.aboveControls.includes(m)).length }));
  const half = Math.ceil(faith.length / 2);
  const measured = perMethod.filter((p) => !p.constant);
  const verdict = controlsVerdict(k, measured.map((p) => p.wins), faith.length, room);
  const checks: CheckItem[] = [{
    id: 'metrics-controls',
    question: 'Do the methods score better than maps that know nothing about the model?',
    verdict,
    value: perMethod.map((p) => (p.constant ? `${p.method}: not measured (its maps are constant)` : `${p.method}: better than every control on ${p.wins} of ${faith.length} faithfulness metrics`)).join('; ') + `; removing the image changes the class probability by ${room.toFixed(3)}`,
    threshold: `better than the best of the random, Sobel and constant control maps (95% intervals not overlapping) on at least ${half} of the ${faith.length} faithfulness metrics`,
    why: k < MIN_COUNTED
      ? `Not meaningful: only ${k} test image(s) were scored; intervals need ${MIN_COUNTED} or more.`
      : !(room >= MIN_ROOM)
        ? `Not meaningful: setting the whole image to its minimum changes the class probability by only ${room.toFixed(3)} on average (less than ${MIN_ROOM}), so no removal order can beat another on this model.`
        : !measured.length
          ? 'Not meaningful: every method gave constant maps on these images, which rank nothing.'
          : 'A faithfulness score is only evidence when it beats a map that ignores the model (Quantus’ control maps; Hedström et al. 2023): otherwise the metric, not the method, produced it.',
    section: 'metrics',
  }];

  const family = (f: string) => perMetric.filter((p) => p.def.family === f);
  const sentence = (p: (typeof perMetric)[number]) => {
    const what = `${p.def.name} (${p.def.higherIsBetter ? 'higher' : 'lower'} is better)`;
    if (p.def.batchLevel) return `${what}: ${scores.get(p.def.id)!.filter((x) => Number.isFinite(x.ci.mean)).map((x) => `${x.method} ${x.ci.mean.toFixed(3)}`).join(', ')} — one value for the batch, without an interval, so not compared with the controls.`;
    if (p.controlWins) return `${what}: the ${p.controlWins} control map scores as well as or better than every method, so on these images this metric does not reward knowing the model.`;
    return `${what}: ${p.aboveControls.length ? `${p.aboveControls.join(', ')} better than every control` : 'no method is better than every control beyond its interval'}; best control ${p.floor ? `${p.floor.method} ${fmt(p.floor.ci, p.def)}` : 'not measured'}.`;
  };
  const summary = [
    `Each method’s maps of ${k} test images, and three control maps that ignore the model — uniform random values, Sobel edges of the image, a constant — were scored with ${defs.length} of Quantus’ metrics (definitions equal to Quantus 0.6; settings scaled to ${ctx.volumes ? 'the volume' : 'the image'}, see the table). The controls are the floor: a method earns a metric only by beating all three.`,
    ...['faithfulness', 'robustness', 'randomisation', 'complexity'].filter((f) => family(f).length).map((f) => `${f[0]!.toUpperCase()}${f.slice(1)}. ${family(f).map(sentence).join(' ')}`),
    'Robustness and complexity are read against the controls with care: a constant or random map that ignores its input is perfectly stable and a constant map maximally simple — being better than them there is not required of a faithful method; the checklist counts faithfulness only.',
  ];
  const columns = ['method', ...defs.map((d) => `${d.name} ${d.higherIsBetter ? '↑' : '↓'}`)];
  const rows = methods.map((m) => [
    m.control ? `${m.name} (control)` : m.name,
    ...perMetric.map((p) => {
      const s = scores.get(p.def.id)!.find((x) => x.method === m.name)!;
      const rank = p.rank.get(m.name);
      return `${fmt(s.ci, p.def)}${rank ? ` #${rank}` : ''}${!m.control && p.aboveControls.includes(m.name) ? ' ✓' : ''}`;
    }),
  ]);
  return {
    id: 'metrics',
    title: 'Quantus metrics by family, against control maps',
    summary,
    figures: [],
    tables: [
      { caption: `Mean [95% interval] over ${k} images; #rank among the methods; ✓ better than every control. ↑/↓: higher/lower is better.`, columns, rows },
      { caption: 'The metrics and their settings', columns: ['metric', 'family', 'what it measures'], rows: defs.map((d) => [d.name, d.family, d.about]) },
    ],
    results: {
      images: k,
      controls: CONTROLS,
      metrics: Object.fromEntries(perMetric.map((p) => [p.def.id, {
        family: p.def.family,
        higherIsBetter: p.def.higherIsBetter,
        scores: Object.fromEntries(scores.get(p.def.id)!.map((s) => [s.method, { mean: s.ci.mean, lo: s.ci.lo, hi: s.ci.hi, n: s.ci.n }])),
        betterThanEveryControl: p.aboveControls,
        controlAsGoodAsEveryMethod: p.controlWins ?? null,
        secondsThisRun: Number(seconds.get(p.def.id)!.toFixed(2)),
      }])),
      perImage: raw,
    },
    checks,
  };
}

/**
 * pass: every method beats every control on at least half of the faithfulness metrics; warn: some method on
 * some metric; fail: none on any; not meaningful: fewer than 3 images scored (no intervals), no metric, no method
 * with varying maps (`wins` holds only those), or a model whose output barely reacts to removing the image (`room`).
 */
export function controlsVerdict(images: number, wins: readonly number[], metrics: number, room = Infinity): CheckItem['verdict'] {
  if (images < MIN_COUNTED || metrics === 0 || !wins.length || !(room >= MIN_ROOM)) return 'not meaningful';
  const half = Math.ceil(metrics / 2);
  return wins.every((w) => w >= half) ? 'pass' : wins.some((w) => w > 0) ? 'warn' : 'fail';
}


/** Mean |p_t(x) − p_t(x₀)| over the images, x₀ every element at the image's minimum (the removal metrics' baseline). */
async function removalRoom(model: Model, images: Tensor, targets: readonly number[]): Promise<number> {
  const n = images.shape[0]!;
  const per = images.data.length / n;
  const black = new Float32Array(images.data.length);
  for (let i = 0; i < n; i++) {
    let lo = Infinity;
    for (let p = i * per; p < (i + 1) * per; p++) lo = Math.min(lo, images.data[p]!);
    black.fill(lo, i * per, (i + 1) * per);
  }
  const p0 = model.probabilities(await model.forward(images));
  const p1 = model.probabilities(await model.forward(new Tensor(black, images.shape)));
  const K = p0.shape[1]!;
  let s = 0;
  targets.forEach((t, i) => (s += Math.abs(p0.data[i * K + t]! - p1.data[i * K + t]!)));
  return s / n;
}

function fmt(ci: MeanCI, def: MetricDef): string {
  if (!Number.isFinite(ci.mean)) return 'n/a';
  return def.batchLevel || ci.n < 2 ? ci.mean.toFixed(3) : formatCI(ci, 3);
}
