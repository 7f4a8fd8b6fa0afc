/**
 * The calibration part of the trust report: reliability diagrams (equal-width and equal-mass bins,
 * count histogram), ECE/MCE/ACE/class-wise ECE, Brier with Murphy's decomposition, NLL, calibration
 * slope/intercept; and, when a held-out calibration split is given, temperature / Platt / isotonic
 * recalibration fitted on it and judged on the evaluation cases, before and after side by side.
 */
import { calibrationSummary, type CalibrationSummary } from './calibration.js';
import { applyIsotonic, applyPlatt, applyTemperature, fitIsotonicProbs, fitPlatt, fitTemperature, logProbs } from './recalibrate.js';
import { recalibrationChart, reliabilityChart } from './charts.js';
import { check, emptyPart, num, pct, type LabelledProbs, type Part } from './report-format.js';

export interface CalibrationOptions {
  classNames?: string[];
  bins?: number;
  /** Held-out split on which recalibration maps are fitted. */
  calibration?: LabelledProbs;
  /** ECE below which the model counts as calibrated (default 0.05) and above which it fails (default 0.1). */
  eceGood?: number;
  ecePoor?: number;
  sectionId?: string;
}

export interface RecalibratedResult {
  method: 'none' | 'temperature' | 'platt' | 'isotonic';
  parameters: Record<string, unknown>;
  summary: CalibrationSummary;
  probs: Float64Array;
}

const f64 = (a: ArrayLike<number>) => (a instanceof Float64Array ? a : Float64Array.from(a));

/** Fit every applicable recalibration on `cal` and apply it to `data` (K = 2: temperature, Platt, isotonic; K > 2: temperature). */
export function recalibrateAll(data: LabelledProbs, cal: LabelledProbs, k: number, bins = 10): { fits: RecalibratedResult[]; notes: string[] } {
  check(k, cal.probs, cal.labels, 'recalibration (calibration split)');
  const notes: string[] = [];
  const zCal = cal.logits ? f64(cal.logits) : logProbs(cal.probs);
  const zEval = data.logits ? f64(data.logits) : logProbs(data.probs);
  if (!cal.logits || !data.logits) notes.push('No logits were given, so temperature scaling tempers log-probabilities (the same thing for a softmax model).');
  const fits: RecalibratedResult[] = [];
  const t = fitTemperature(zCal, cal.labels, k);
  const pt = applyTemperature(zEval, k, t.temperature);
  fits.push({ method: 'temperature', parameters: { temperature: t.temperature, nllCalibrationBefore: t.nllBefore, nllCalibrationAfter: t.nllAfter }, summary: calibrationSummary(pt, data.labels, k, bins), probs: pt });
  if (k === 2) {
    try {
      const pl = fitPlatt(cal.probs, cal.labels, 2);
      const pp = applyPlatt(data.probs, 2, pl);
      fits.push({ method: 'platt', parameters: { a: pl.a[0], b: pl.b[0] }, summary: calibrationSummary(pp, data.labels, 2, bins), probs: pp });
    } catch (e) {
      notes.push(`Platt scaling not fitted: ${(e as Error).message}`);
    }
    const iso = fitIsotonicProbs(cal.probs, cal.labels, 2);
    const pi = applyIsotonic(data.probs, 2, iso);
    fits.push({ method: 'isotonic', parameters: { points: iso[0]!.x.length }, summary: calibrationSummary(pi, data.labels, 2, bins), probs: pi });
  }
  return { fits, notes };
}

function summaryRow(label: string, s: CalibrationSummary): (string | number | null)[] {
  const r = (v: number | null | undefined) => (v === null || v === undefined ? null : +v.toFixed(4));
  return [label, r(s.ece), r(s.mce), r(s.ace), r(s.classwiseEce), r(s.brier.brier), r(s.nll), r(s.line?.slope), r(s.line?.intercept)];
}

export function calibrationPart(data: LabelledProbs, k: number, opts: CalibrationOptions = {}): Part {
  check(k, data.probs, data.labels, 'calibrationPart');
  const part = emptyPart();
  const sid = opts.sectionId ?? 'trust';
  const bins = opts.bins ?? 10;
  const good = opts.eceGood ?? 0.05;
  const poor = opts.ecePoor ?? 0.1;
  const names = opts.classNames ?? Array.from({ length: k }, (_, i) => `class ${i}`);
  const before = calibrationSummary(data.probs, data.labels, k, bins);
  const results: Record<string, unknown> = { before };
  const binary = k === 2 && before.positive;
  const what = binary ? `probability of ${names[1]}` : 'confidence (top class)';
  const relU = binary ? before.positive!.uniform : before.topLabel.uniform;
  const relQ = binary ? before.positive!.quantile : before.topLabel.quantile;
  part.figures.push({ id: `${sid}-reliability`, title: 'Reliability diagram (equal-width bins)', caption: `Cases grouped by the ${what} the model stated; each point compares the average stated probability with how often the event really happened. On the dashed diagonal the model means what it says; red bars show the gap. The histogram below counts the cases in each bin.`, spec: reliabilityChart(relU, { what }) });
  part.figures.push({ id: `${sid}-reliability-mass`, title: 'Reliability diagram (equal-mass bins)', caption: 'The same, with bins holding equal numbers of cases, so no bin rests on a handful of cases.', spec: reliabilityChart(relQ, { what, title: 'Reliability diagram, equal-mass bins' }) });
  const cols = ['model', 'ECE', 'MCE', 'adaptive ECE', 'class-wise ECE', 'Brier', 'NLL', 'calibration slope', 'calibration intercept'];
  const rows = [summaryRow('as given', before)];
  part.tables.push({ caption: 'Brier score decomposition (Murphy, equal-width bins): Brier = reliability − resolution + uncertainty + within-bin terms', columns: ['reliability', 'resolution', 'uncertainty', 'within-bin variance', 'within-bin covariance', 'Brier'], rows: [[before.brier.reliability, before.brier.resolution, before.brier.uncertainty, before.brier.withinBinVariance, before.brier.withinBinCovariance, before.brier.brier].map((v) => +v.toFixed(5))] });

  let best: { label: string; summary: CalibrationSummary } | undefined;
  if (opts.calibration) {
    const { fits, notes } = recalibrateAll(data, opts.calibration, k, bins);
    results.recalibration = fits.map(({ probs: _p, ...f }) => f);
    results.recalibrationNotes = notes;
    for (const f of fits) rows.push(summaryRow(f.method === 'temperature' ? `temperature T = ${num((f.parameters.temperature as number), 3)}` : f.method, f.summary));
    const panels = [{ label: 'as given', reliability: binary ? before.positive!.uniform : before.topLabel.uniform }, ...fits.filter((f) => f.method !== 'platt').map((f) => ({ label: f.method === 'temperature' ? `temperature scaling (T = ${num(f.parameters.temperature as number, 2)})` : 'isotonic regression', reliability: binary ? f.summary.positive!.uniform : f.summary.topLabel.uniform }))];
    part.figures.push({ id: `${sid}-recalibration`, title: 'Before and after recalibration', caption: `Recalibration maps were fitted on ${opts.calibration.labels.length} held-out cases and are judged here on the ${data.labels.length} evaluation cases.`, spec: recalibrationChart(panels, what) });
    const t = fits[0]!;
    const bestFit = fits.reduce((a, f) => (f.summary.nll < a.summary.nll ? f : a));
    best = { label: bestFit.method, summary: bestFit.summary };
    part.summary.push(`Fitted on held-out cases, temperature scaling (T = ${num(t.parameters.temperature as number, 2)}; above 1 softens over-confident probabilities, below 1 sharpens timid ones) changes the calibration error from ${num(before.ece)} to ${num(t.summary.ece)} and the log-loss from ${num(before.nll)} to ${num(t.summary.nll)} on the evaluation cases.${notes.length ? ' ' + notes.join(' ') : ''}`);
  }
  part.tables.unshift({ caption: `Calibration measures (${bins} bins; ECE/MCE/ACE on top-label confidence; lower is better except slope, ideally 1, and intercept, ideally 0)`, columns: cols, rows });

  const line = before.line;
  part.summary.unshift(
    `When the model states a probability, is it right that often? Averaged over cases, its stated confidence is off by ${pct(before.ece)} (expected calibration error; worst bin ${pct(before.mce)}).` +
      (line && line.slope !== null ? ` The calibration slope is ${num(line.slope, 2)} (${line.slope < 0.9 ? 'below 1: predictions are too extreme, over-confident' : line.slope > 1.1 ? 'above 1: predictions are too timid' : 'close to the ideal 1'}) and the intercept ${num(line.intercept, 2)}.` : '') +
      ` Brier score ${num(before.brier.brier)} (0 is perfect), log-loss ${num(before.nll)}.`,
  );
  const verdict = before.ece < good ? 'pass' : before.ece < poor ? 'warn' : 'fail';
  part.checks.push({
    id: 'trust.calibrated',
    question: 'Is it calibrated (do stated probabilities match observed frequencies)?',
    verdict,
    value: `ECE ${num(before.ece)} (${bins} equal-width bins)${best ? `; ${best.label} on held-out fit: ${num(best.summary.ece)}` : ''}`,
    threshold: `ECE < ${good} pass, < ${poor} warn`,
    why: `ECE is the average gap between stated confidence and observed accuracy; ${good} means probabilities are off by ${Math.round(good * 100)} points on average, a usual bar for probabilities shown to clinicians (uncalibrated CNNs typically sit at 0.05–0.15, Guo et al. 2017). With few cases per bin ECE is noisy; read it with the reliability diagram.`,
    section: sid,
  });
  if (best) {
    part.checks.push({ id: 'trust.recalibration', question: 'Does recalibration on held-out data fix it?', verdict: best.summary.ece < good ? 'pass' : best.summary.ece < before.ece ? 'warn' : 'fail', value: `best by log-loss: ${best.label}, ECE ${num(before.ece)} → ${num(best.summary.ece)}, NLL ${num(before.nll)} → ${num(best.summary.nll)}`, threshold: `ECE < ${good} after recalibration`, why: 'If a simple map fitted on held-out data brings the error under the bar, ship the map with the model; if not, the model is miscalibrated in ways one parameter cannot fix.', section: sid });
  }
  part.results.calibration = results;
  return part;
}
