/**
 * `candor conformal`: split conformal prediction sets calibrated on a held-out split (finite-sample
 * quantile; LAC, APS or RAPS scores; marginal and class-conditional), with coverage, set size,
 * size-stratified coverage, empty and singleton rates; optionally repeated random splits of the
 * given cases to show the coverage distribution against its binomial band.
 */
import { UsageError, parse } from './args.js';
import { CAL_HELP, CAL_OPTIONS, INPUT_HELP, INPUT_OPTIONS, loadInputs, numberArg, outDir, printChecks, writePart } from '../trust/cli-common.js';
import { conformalPart } from '../trust/report-uncertainty.js';
import { calibrateConformal, evaluateSets, predictSets, type ConformalScore } from '../trust/conformal.js';
import { randomSplit, selectPredictions } from '../trust/inputs.js';
import { Rng } from '../tensor/rng.js';

export const CONFORMAL_USAGE = `usage: candor conformal (--model m.onnx [--data D] [--split test] | --probs FILE [--labels FILE]) --out DIR
       [--cal-split val | --cal-probs FILE | --cal-fraction 0.5] [--alpha 0.1] [--score lac|aps|raps]
       [--repeats 0] [--seed 0] [--force]

Prediction sets that contain the true class for 1 − α of cases: q̂ is the ⌈(n+1)(1−α)⌉-th smallest
calibration score (∞ when that exceeds n: every class is then included, and the output says how
many calibration cases α needs). Scores: lac (1 − p_y, smallest sets), aps (cumulative probability,
adaptive), raps (randomized APS with a size penalty, λ = 0.01, k_reg = 1). Reported for marginal
and class-conditional (Mondrian) calibration. --repeats R also re-splits the evaluated cases at
random R times (half calibration, half evaluation) and reports the coverage distribution.

${INPUT_HELP}
${CAL_HELP}`;

export async function conformalCommand(argv: string[]): Promise<void> {
  const { values: v } = parse(argv, { ...INPUT_OPTIONS, ...CAL_OPTIONS, alpha: { type: 'string', default: '0.1' }, score: { type: 'string', default: 'lac' }, repeats: { type: 'string', default: '0' } }, CONFORMAL_USAGE);
  if (v.help) {
    console.log(CONFORMAL_USAGE);
    return;
  }
  const dir = outDir(v, CONFORMAL_USAGE);
  const alpha = numberArg(v.alpha, '--alpha', 0.1, (x) => x > 0 && x < 1, 'in (0, 1)');
  const score = v.score as ConformalScore;
  if (!['lac', 'aps', 'raps'].includes(score)) throw new UsageError(`--score must be lac, aps or raps, got '${v.score}'`);
  const repeats = numberArg(v.repeats, '--repeats', 0, (x) => Number.isInteger(x) && x >= 0 && x <= 10000, 'an integer in [0, 10000]');
  const seed = numberArg(v.seed, '--seed', 0, Number.isInteger, 'an integer');
  const { data, cal, record } = await loadInputs(v, CONFORMAL_USAGE, { cal: 'required' });
  const part = conformalPart(data, cal!, data.k, { alpha, score, classNames: data.classNames, seed, sectionId: 'conformal' });
  if (repeats > 0) {
    const n = data.labels.length;
    const cov: number[] = [];
    const size: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const { cal: c, rest } = randomSplit(n, 0.5, seed + 1 + r);
      const a = selectPredictions(data, c);
      const b = selectPredictions(data, rest);
      const rng = new Rng(seed + 1 + r);
      const m = calibrateConformal(a.probs, a.labels, data.k, alpha, { score, uniforms: Float64Array.from(c, () => rng.next()) });
      const ev = evaluateSets(predictSets(m, b.probs, Float64Array.from(rest, () => rng.next())), b.labels, data.k);
      cov.push(ev.coverage);
      size.push(ev.meanSize);
    }
    const mean = cov.reduce((x, y) => x + y, 0) / repeats;
    const sd = Math.sqrt(cov.reduce((x, y) => x + (y - mean) ** 2, 0) / Math.max(1, repeats - 1));
    const nCal = Math.round(n * 0.5);
    const band = 1.96 * Math.sqrt(alpha * (1 - alpha) * (1 / (n - nCal) + 1 / nCal));
    part.results.repeatedSplits = { repeats, coverage: cov, meanCoverage: mean, sdCoverage: sd, meanSetSize: size.reduce((x, y) => x + y, 0) / repeats, band: [1 - alpha - band, 1 - alpha + band + 1 / (nCal + 1)] };
    part.summary.push(`Over ${repeats} random half/half re-splits of the ${n} evaluated cases, coverage averaged ${(100 * mean).toFixed(1)} % (SD ${(100 * sd).toFixed(1)} points; the guarantee promises at least ${(100 * (1 - alpha)).toFixed(0)} % on average).`);
  }
  const written = await writePart(dir, part, { command: 'conformal', source: data.source, calibrationSource: cal!.source, n: data.labels.length, classes: data.classNames, ...record });
  printChecks(part, dir, written);
}
