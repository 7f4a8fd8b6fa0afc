/**
 * The uncertainty and conformal parts of the trust report: uncertainty scores from T stochastic
 * predictions (or from the single prediction: max-softmax, entropy, energy), selective prediction
 * (risk–coverage, AURC) and a refer-for-review list; split conformal sets calibrated on a held-out
 * split with coverage and set-size statistics.
 */
import { auroc } from '../train/metrics.js';
import { energyScore, referForReview, riskCoverage, uncertaintyScores } from './uncertainty.js';
import { calibrateConformal, evaluateSets, predictSets, type ConformalScore } from './conformal.js';
import { riskCoverageChart, setSizeChart } from './charts.js';
import { check, emptyPart, num, pct, type LabelledProbs, type Part, type Probs } from './report-format.js';
import { wilsonInterval } from './intervals.js';

export interface Stochastic {
  /** [T, N, K] probabilities. */
  samples: Probs;
  passes: number;
  kind: 'mc-dropout' | 'ensemble' | 'tta' | 'samples';
}

/**
 * The uncertainty score the verdict, the risk–coverage curve and the referral list use, fixed before the
 * test data are seen (default: 1 − the maximum softmax probability, Hendrycks & Gimpel 2017's baseline).
 * The other scores are reported as exploration: picking the one that separates errors best on the same
 * cases would overstate how well it works.
 */
export const UNCERTAINTY_SCORES = ['max-softmax', 'entropy', 'mutual-information', 'variance', 'energy'] as const;
export type UncertaintyScore = (typeof UNCERTAINTY_SCORES)[number];
const SCORE_LABEL: Record<UncertaintyScore, string> = {
  'max-softmax': '1 − max-softmax',
  entropy: 'predictive entropy',
  'mutual-information': 'mutual information (BALD)',
  variance: 'variance of the predicted class',
  energy: 'energy',
};

export interface UncertaintyOptions {
  /** The pre-registered score (default 'max-softmax'). */
  score?: UncertaintyScore;
  stochastic?: Stochastic;
  /** Fraction of cases the model decides alone; the rest are referred (default 0.9). */
  coverage?: number;
  /** Case identifiers for the referral list (default: row index). */
  ids?: string[];
  classNames?: string[];
  /** Longest referral list written to the table (all are in results). */
  maxListed?: number;
  sectionId?: string;
}

const KIND: Record<Stochastic['kind'], string> = { 'mc-dropout': 'Monte Carlo dropout passes', ensemble: 'ensemble members', tta: 'test-time augmentations', samples: 'stochastic predictions' };

export function uncertaintyPart(data: LabelledProbs, k: number, opts: UncertaintyOptions = {}): Part {
  check(k, data.probs, data.labels, 'uncertaintyPart');
  const part = emptyPart();
  const sid = opts.sectionId ?? 'trust';
  const n = data.labels.length;
  const cov = opts.coverage ?? 0.9;
  const names = opts.classNames ?? Array.from({ length: k }, (_, i) => `class ${i}`);
  const st = opts.stochastic;
  if (st && st.samples.length !== st.passes * n * k) throw new Error(`uncertaintyPart: ${st.samples.length} stochastic values are not [${st.passes}, ${n}, ${k}]`);
  const u = uncertaintyScores(st ? st.samples : data.probs, st ? st.passes : 1, k);
  const errors = Array.from(u.predicted, (p, i) => (p === data.labels[i] ? 0 : 1));
  const nErr = errors.reduce((a: number, b) => a + b, 0);
  // Every score (higher = more uncertain); the chosen one drives the verdict, the curve and the referrals.
  const scores: Record<string, Float64Array> = { '1 − max-softmax': Float64Array.from(u.confidence, (c) => 1 - c), 'predictive entropy': u.entropy };
  if (st && st.passes > 1) {
    scores['mutual information (BALD)'] = u.mutualInformation;
    scores['variance of the predicted class'] = u.variancePredicted;
  }
  if (data.logits && !st) scores['energy'] = energyScore(data.logits, k);
  const chosen = opts.score ?? 'max-softmax';
  const chosenLabel = SCORE_LABEL[chosen];
  const chosenScore = scores[chosenLabel];
  if (!chosenScore) {
    throw new Error(`uncertainty score '${chosen}' is not available here (${chosen === 'energy' ? 'energy needs logits from a single prediction' : 'it needs several stochastic passes'}); available: ${Object.keys(scores).map((l) => UNCERTAINTY_SCORES.find((s2) => SCORE_LABEL[s2] === l)).join(', ')}`);
  }
  const rankConfidence = Float64Array.from(chosenScore, (v) => -v);
  const rc = riskCoverage(rankConfidence, errors);
  const ref = referForReview(rankConfidence, errors, cov);
  const separation: Record<string, number | null> = Object.fromEntries(Object.entries(scores).map(([name, s2]): [string, number | null] => [name, nErr > 0 && nErr < n ? auroc(s2, errors)! : null]));
  const mean = (a: Float64Array) => a.reduce((x, y) => x + y, 0) / a.length;
  const results: Record<string, unknown> = {
    source: st ? `${st.passes} ${KIND[st.kind]}` : 'single prediction',
    passes: u.passes,
    mean: { entropy: mean(u.entropy), expectedEntropy: mean(u.expectedEntropy), mutualInformation: mean(u.mutualInformation), variancePredicted: mean(u.variancePredicted), confidence: mean(u.confidence) },
    perCase: { confidence: u.confidence, entropy: u.entropy, mutualInformation: u.mutualInformation, variancePredicted: u.variancePredicted, predicted: u.predicted },
    score: chosen,
    errorDetectionAuroc: separation,
    riskCoverage: rc,
    referral: { ...ref, ...(opts.ids ? { referredIds: ref.referred.map((i) => opts.ids![i]!) } : {}) },
  };
  part.tables.push({ caption: `Exploration, not the verdict: how well each uncertainty score picks out the model’s errors on these same cases (AUROC; 0.5 = no better than chance). The verdict uses the score chosen beforehand, ${chosenLabel}; choosing the best-looking one here would overstate it.`, columns: ['score', 'AUROC for errors', 'used for the verdict'], rows: Object.entries(separation).map(([k2, v]) => [k2, v === null ? null : +v.toFixed(4), k2 === chosenLabel ? 'yes' : '']) });
  part.figures.push({ id: `${sid}-risk-coverage`, title: 'Selective prediction: risk against coverage', caption: `Cases are sorted from most to least confident; the curve shows the error rate if the model decided only the most confident fraction and referred the rest. The dashed line is the chosen coverage (${pct(cov, 0)}).`, spec: riskCoverageChart(rc, { coverage: cov }) });
  const listed = ref.referred.slice(0, opts.maxListed ?? 25);
  part.tables.push({
    caption: `Refer for human review: the ${ref.referred.length} most uncertain cases by ${chosenLabel} at ${pct(cov, 0)} coverage${listed.length < ref.referred.length ? ` (first ${listed.length} listed; all in results)` : ''}`,
    columns: ['case', 'predicted', 'confidence', 'entropy', ...(st && st.passes > 1 ? ['mutual information'] : []), 'true class', 'model correct'],
    rows: listed.map((i) => [opts.ids?.[i] ?? i, names[u.predicted[i]!]!, +u.confidence[i]!.toFixed(4), +u.entropy[i]!.toFixed(4), ...(st && st.passes > 1 ? [+u.mutualInformation[i]!.toFixed(4)] : []), names[data.labels[i]!]!, errors[i] ? 'no' : 'yes']),
  });
  part.summary.push(
    `Uncertainty from ${results.source}, scored by ${chosenLabel} (chosen before looking at these cases). If the model decided only its ${pct(cov, 0)} least uncertain cases and referred the other ${ref.referred.length} to a reader, its error rate on the cases it decides would be ${pct(ref.keptRisk)} instead of ${pct(ref.fullRisk)} on all cases (area under the risk–coverage curve ${num(rc.aurc, 4)}; ${num(rc.optimalAurc, 4)} would be a perfect ranking of errors).`,
  );
  const own = separation[chosenLabel] ?? null;
  part.checks.push({
    id: 'trust.uncertainty',
    question: 'Does the model know when it is likely wrong?',
    verdict: own === null ? 'not meaningful' : own >= 0.8 ? 'pass' : own >= 0.7 ? 'warn' : 'fail',
    value: `${chosenLabel}: error-detection AUROC ${own === null ? 'n/a' : num(own)}; error rate ${pct(ref.fullRisk)} → ${pct(ref.keptRisk)} at ${pct(cov, 0)} coverage`,
    threshold: 'AUROC ≥ 0.8 pass, ≥ 0.7 warn (the pre-registered score)',
    why: own !== null ? 'Referral only helps if uncertain cases are the wrong ones; an AUROC of 0.8 means a wrong call is usually scored more uncertain than a right one.' : 'The model makes no errors (or only errors) on these cases, so error detection cannot be measured.',
    section: sid,
  });
  part.results.uncertainty = results;
  return part;
}

export interface ConformalOptions {
  alpha?: number;
  score?: ConformalScore;
  classNames?: string[];
  seed?: number;
  sectionId?: string;
}

/** Split conformal sets calibrated on `cal` (LAC, APS non-randomized or RAPS randomized; marginal and Mondrian) evaluated on `data`. */
export function conformalPart(data: LabelledProbs, cal: LabelledProbs, k: number, opts: ConformalOptions = {}): Part {
  check(k, data.probs, data.labels, 'conformalPart');
  check(k, cal.probs, cal.labels, 'conformalPart (calibration split)');
  const part = emptyPart();
  const sid = opts.sectionId ?? 'trust';
  const alpha = opts.alpha ?? 0.1;
  const score = opts.score ?? 'lac';
  const names = opts.classNames ?? Array.from({ length: k }, (_, i) => `class ${i}`);
  let s = (opts.seed ?? 0) + 0x9e3779b9;
  const rand = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 4294967296);
  const uCal = Float64Array.from({ length: cal.labels.length }, rand);
  const uEval = Float64Array.from({ length: data.labels.length }, rand);
  const variants = [false, true].map((mondrian) => {
    const c = calibrateConformal(cal.probs, cal.labels, k, alpha, { score, mondrian, uniforms: uCal });
    const sets = predictSets(c, data.probs, uEval);
    return { mondrian, calibration: c, evaluation: evaluateSets(sets, data.labels, k), sets };
  });
  const [marg, mond] = variants as [(typeof variants)[0], (typeof variants)[0]];
  const n = data.labels.length;
  const band = 1.96 * Math.sqrt((alpha * (1 - alpha)) / n);
  const results = {
    alpha, score, nCalibration: cal.labels.length, nEvaluation: n,
    marginal: { quantiles: marg.calibration.quantiles, evaluation: marg.evaluation },
    mondrian: { quantiles: mond.calibration.quantiles, evaluation: mond.evaluation },
    binomialBand: [1 - alpha - band, 1 - alpha + band],
  };
  const row = (label: string, v: typeof marg) => [label, v.calibration.quantiles.map((q) => (q.infinite ? '∞' : num(q.qhat, 4))).join(' / '), +v.evaluation.coverage.toFixed(4), +v.evaluation.meanSize.toFixed(3), +v.evaluation.emptyRate.toFixed(4), +v.evaluation.singletonRate.toFixed(4), v.evaluation.byClass.map((b) => `${names[b.label]} ${b.coverage === null ? 'n/a' : pct(b.coverage)}`).join(', ')];
  part.tables.push({ caption: `Conformal prediction sets (${score.toUpperCase()} score, target coverage ${pct(1 - alpha, 0)}, calibrated on ${cal.labels.length} held-out cases)`, columns: ['calibration', 'q̂ (per class for Mondrian)', 'coverage', 'mean set size', 'empty sets', 'single-class sets', 'coverage per true class'], rows: [row('marginal', marg), row('class-conditional (Mondrian)', mond)] });
  part.tables.push({ caption: 'Coverage by set size (marginal calibration)', columns: ['set size', 'cases', 'coverage'], rows: marg.evaluation.bySize.map((b) => [b.size, b.count, b.coverage === null ? null : +b.coverage.toFixed(4)]) });
  part.figures.push({ id: `${sid}-conformal-sizes`, title: 'Conformal prediction sets by size', caption: `Each case gets the set of classes the model cannot rule out at ${pct(1 - alpha, 0)} confidence. Single-class sets are confident calls; sets with every class say "the model does not know"; the number above each bar is the coverage within that size.`, spec: setSizeChart(marg.evaluation) });
  const inf = variants.flatMap((v) => v.calibration.quantiles).some((q) => q.infinite);
  part.summary.push(
    `Conformal prediction turns each output into a set of possible diagnoses that contains the true one for ${pct(1 - alpha, 0)} of patients, guaranteed for data like the calibration cases. Here the sets contained the truth for ${pct(marg.evaluation.coverage)} of ${n} cases; ${pct(marg.evaluation.singletonRate)} of sets named a single class and ${pct(marg.evaluation.bySize[k]!.count / n)} named every class (undecided).` +
      (marg.evaluation.emptyRate > 0 ? ` ${pct(marg.evaluation.emptyRate)} of sets were empty: no class was plausible enough, which should be read as "refer".` : '') +
      (inf ? ` Some classes have too few calibration cases for α = ${alpha} (at least ${marg.calibration.quantiles[0]!.minCalibration} needed), so their threshold is infinite and they are always included.` : ''),
  );
  const lo = wilsonInterval(Math.round(marg.evaluation.coverage * n), n).upper;
  part.checks.push({
    id: 'trust.conformal',
    question: `Do conformal sets reach their promised ${pct(1 - alpha, 0)} coverage on the evaluation cases?`,
    verdict: lo >= 1 - alpha ? 'pass' : 'fail',
    value: `coverage ${pct(marg.evaluation.coverage)}, mean set size ${num(marg.evaluation.meanSize, 2)}`,
    threshold: `Wilson upper bound ≥ ${1 - alpha}`,
    why: 'The guarantee holds when evaluation cases are exchangeable with the calibration cases; coverage clearly below target means they are not (a distribution shift between the splits).',
    section: sid,
  });
  part.results.conformal = results;
  return part;
}
