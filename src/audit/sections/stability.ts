/**
 * Stability (DESIGN.md §5): small Gaussian noise that leaves the prediction unchanged should leave
 * the map nearly unchanged (Spearman correlation of maps), and the worst-case change of the map in a
 * small L∞ ball around the image — max-sensitivity (Yeh et al. 2019) — should be small.
 */
import { stability, sensitivity } from '../../evaluate/robustness.js';
import { meanCI, formatCI } from '../../evaluate/stats.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { CheckItem, Section } from '../../report/types.js';
import type { AuditContext } from '../context.js';
import { MIN_COUNTED } from './model-randomization.js';
import { barChart } from '../figures.js';
import { predictedClasses } from '../predictions.js';
import { CONTROLS } from '../metric-suite.js';

const SIGMA = 0.05;
const RADIUS = 0.05;
const SAMPLES = 3;
const STABLE = 0.8;
const UNSTABLE = 0.5;

export async function stabilitySection(ctx: AuditContext): Promise<Section> {
  const { subject } = ctx;
  const sample = ctx.head(ctx.opts.nStability);
  const targets = await predictedClasses(ctx, subject.id, subject.model, sample);
  const rows: { method: string; correlation: ReturnType<typeof meanCI>; maxSens: ReturnType<typeof meanCI>; unchanged: number }[] = [];
  const controlRows: typeof rows = [];
  const bar = ctx.progress('  stability', ctx.opts.methods.length + CONTROLS.length, 'map set');
  // The methods, then the control maps (random, Sobel, constant: they ignore the model) under the same noise.
  for (const m of [...ctx.opts.methods, ...CONTROLS]) {
    const explainFn = (x: Tensor, t: readonly number[]) => ctx.computeMaps(subject.model, x, t, m, 'repeated');
    const r = await ctx.cache.json('stability', { model: subject.id, images: sample.id, method: m, SIGMA, RADIUS, SAMPLES, seed: ctx.opts.seed }, async () => {
      const st = await stability(subject.model, sample.images, targets, explainFn, { samples: SAMPLES, sigma: SIGMA, seed: ctx.opts.seed });
      const se = await sensitivity(subject.model, sample.images, targets, explainFn, { samples: SAMPLES, radius: RADIUS, seed: ctx.opts.seed });
      return { correlation: st.correlation, unchanged: st.unchanged, maxSens: se.max };
    });
    ((CONTROLS as readonly string[]).includes(m) ? controlRows : rows).push({ method: m, correlation: meanCI(r.correlation), maxSens: meanCI(r.maxSens), unchanged: r.unchanged.reduce((a, b) => a + b, 0) });
    bar.tick(1);
  }
  bar.finish();
  // Constant maps have no defined correlation: a method with fewer than MIN_COUNTED such images is not read.
  const measured = rows.filter((r) => r.correlation.n >= MIN_COUNTED && Number.isFinite(r.correlation.mean));
  const low = measured.filter((r) => r.correlation.mean < UNSTABLE);
  const mid = measured.filter((r) => r.correlation.mean >= UNSTABLE && r.correlation.mean < STABLE);
  const unmeasured = rows.filter((r) => !measured.includes(r)).map((r) => r.method);
  const checks: CheckItem[] = [
    {
      id: 'stability',
      question: 'Are the maps stable under small noise that does not change the prediction?',
      verdict: !measured.length ? 'not meaningful' : low.length ? 'fail' : mid.length ? 'warn' : 'pass',
      value: rows.map((r) => `${r.method} ${formatCI(r.correlation)}`).join('; ') + (unmeasured.length ? `; not measured (constant maps): ${unmeasured.join(', ')}` : '') + `; controls: ${controlRows.map((r) => `${r.method} ${Number.isFinite(r.correlation.mean) ? formatCI(r.correlation) : 'not defined'}`).join('; ')}`,
      threshold: `mean Spearman of maps ≥ ${STABLE} pass, ≥ ${UNSTABLE} warn`,
      why: `Two nearly identical images with the same prediction should get nearly the same explanation; a map that changes a lot under imperceptible noise cannot be read pixel by pixel (Alvarez-Melis & Jaakkola 2018; Yeh et al. 2019). Methods with fewer than ${MIN_COUNTED} images of non-constant maps are not read${measured.length ? '' : ': none was left, so the check is not meaningful'}.`,
      section: 'stability',
    },
  ];
  const total = sample.indices.length * SAMPLES;
  return {
    id: 'stability',
    title: 'Stability under small noise',
    summary: [
      `Each of ${sample.indices.length} images received ${SAMPLES} draws of Gaussian noise (σ = ${SIGMA} on the model's [-1, 1] scale, ${(100 * SIGMA / 2).toFixed(1)}% of the range); draws that changed the prediction were left out. The table gives the rank correlation between the map of the clean and of the noisy image, and max-sensitivity: the largest relative change of the map, ‖map(x + δ) − map(x)‖ / ‖map(x)‖, over ${SAMPLES} draws of δ uniform in an L∞ ball of radius ${RADIUS}.`,
      ...rows.map((r) => `${r.method}: correlation ${formatCI(r.correlation)}, max-sensitivity ${formatCI(r.maxSens)} (${r.unchanged} of ${total} noisy copies kept the prediction).`),
      `Control maps under the same noise: ${controlRows.map((r) => `${r.method} — correlation ${Number.isFinite(r.correlation.mean) ? formatCI(r.correlation) : 'not defined (a constant map)'}, max-sensitivity ${formatCI(r.maxSens)}`).join('; ')}. Stability is necessary, not sufficient: the random control (seeded, the same map for any image) is perfectly stable and the constant one never changes, while knowing nothing about the model; Sobel edges show how much a map that follows only the image moves under this noise. ${lessStableThanEdges(rows, controlRows)}`,
    ],
    figures: [
      { id: 'stability-bars', title: 'Map correlation under noise', caption: `Mean Spearman correlation (95% interval) between maps of clean and noisy images. Dashed line: ${STABLE}.`, spec: barChart({ title: '', values: rows.map((r) => ({ group: r.method, bar: 'Spearman', value: r.correlation.mean, lo: r.correlation.lo, hi: r.correlation.hi })), yTitle: 'correlation', groupTitle: 'method', barTitle: 'measure', rule: { y: STABLE, label: 'stable' } }) },
    ],
    tables: [{ caption: 'Stability and max-sensitivity, mean [95% interval]', columns: ['method', 'Spearman clean vs noisy', 'max-sensitivity', 'noisy copies kept'], rows: [...rows, ...controlRows].map((r) => [controlRows.includes(r) ? `${r.method} (control)` : r.method, Number.isFinite(r.correlation.mean) ? formatCI(r.correlation) : 'not defined', formatCI(r.maxSens), `${r.unchanged}/${total}`]) }],
    results: { sigma: SIGMA, radius: RADIUS, samples: SAMPLES, images: Array.from(sample.indices), methods: rows, controls: controlRows, thresholds: { stable: STABLE, unstable: UNSTABLE } },
    checks,
  };
}

/** Which methods' maps move more under the noise than the Sobel control's (intervals not overlapping), in one sentence. */
function lessStableThanEdges(rows: readonly { method: string; correlation: ReturnType<typeof meanCI> }[], controls: readonly { method: string; correlation: ReturnType<typeof meanCI> }[]): string {
  const sobel = controls.find((c) => c.method === 'sobel')?.correlation;
  if (!sobel || !Number.isFinite(sobel.lo)) return '';
  const below = rows.filter((r) => r.correlation.n >= MIN_COUNTED && r.correlation.hi < sobel.lo).map((r) => r.method);
  return below.length ? `Less stable than Sobel edges (intervals not overlapping): ${below.join(', ')} — their maps change more than an edge map of the same noisy images.` : 'No method is less stable than Sobel edges beyond the intervals.';
}
