/**
 * The trust section of the audit report: "can the numbers be believed, beyond the heatmaps?"
 * Discrimination with intervals, calibration (and recalibration on a held-out split), uncertainty
 * and selective prediction, conformal prediction sets — each part only when its inputs are given.
 *
 * ```ts
 * const section = await trustSection({ probs, labels, classNames, calibration: { probs: pv, labels: yv }, stochastic });
 * ```
 */
import type { Section } from '../report/types.js';
import { calibrationPart } from './report-calibration.js';
import { discriminationPart, type DiscriminationOptions } from './report-discrimination.js';
import { conformalPart, uncertaintyPart, type Stochastic } from './report-uncertainty.js';
import { jsonSafe, mergeParts, type LabelledProbs, type Part, type Probs } from './report-format.js';
import type { ConformalScore } from './conformal.js';

export interface TrustSectionInput {
  /** [N, K] probabilities of the evaluation cases, row-major. */
  probs: Probs;
  labels: ArrayLike<number>;
  /** [N, K] logits, when known (temperature scaling, energy score). */
  logits?: Probs;
  /** Number of classes (default: probs.length / labels.length). */
  k?: number;
  classNames?: string[];
  /** A held-out calibration split: recalibration maps, conformal sets and threshold choice are fitted on it. */
  calibration?: LabelledProbs;
  /** T stochastic predictions of the evaluation cases ([T, N, K]). */
  stochastic?: Stochastic;
  /** One subgroup label per evaluation case (per-subgroup table). */
  groups?: readonly string[];
  ids?: string[];
  /** Operating threshold on p(positive): number, 'youden' or { sensitivity } (chosen on the calibration split when given). */
  threshold?: DiscriminationOptions['threshold'];
  positiveClass?: number;
  /** Conformal miscoverage (default 0.1) and score (default LAC). */
  alpha?: number;
  conformalScore?: ConformalScore;
  /** Selective-prediction coverage for the referral list (default 0.9). */
  coverage?: number;
  bins?: number;
  confidence?: number;
  id?: string;
  title?: string;
}

/** The trust section; pure statistics on the given arrays (no model is run here). */
export async function trustSection(input: TrustSectionInput): Promise<Section> {
  const n = input.labels.length;
  if (n === 0) throw new Error('trustSection: no labelled cases');
  const k = input.k ?? input.probs.length / n;
  if (!Number.isInteger(k) || k < 2) throw new Error(`trustSection: ${input.probs.length} probabilities for ${n} labels is not [N, K] with K ≥ 2`);
  const id = input.id ?? 'trust';
  const data: LabelledProbs = { probs: input.probs, labels: input.labels, logits: input.logits };
  const common = { classNames: input.classNames, sectionId: id };
  const parts: Part[] = [
    discriminationPart(data, k, { ...common, threshold: input.threshold, thresholdData: input.calibration, groups: input.groups, positiveClass: input.positiveClass, confidence: input.confidence }),
    calibrationPart(data, k, { ...common, calibration: input.calibration, bins: input.bins }),
    uncertaintyPart(data, k, { ...common, stochastic: input.stochastic, coverage: input.coverage, ids: input.ids }),
  ];
  if (input.calibration) parts.push(conformalPart(data, input.calibration, k, { ...common, alpha: input.alpha, score: input.conformalScore }));
  const all = mergeParts(parts);
  if (!input.calibration) all.summary.push('No held-out calibration split was given, so recalibration and conformal prediction sets were not computed.');
  return {
    id,
    title: input.title ?? 'Trust beyond heatmaps: discrimination, calibration, uncertainty',
    summary: all.summary,
    figures: all.figures,
    tables: all.tables,
    results: jsonSafe({ n, classes: k, ...all.results }) as Record<string, unknown>,
    checks: all.checks,
  };
}
