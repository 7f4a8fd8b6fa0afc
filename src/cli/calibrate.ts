/**
 * `candor calibrate`: calibration of a classifier's probabilities — reliability diagrams (equal-width
 * and equal-mass bins, count histogram), ECE, MCE, adaptive and class-wise ECE, Brier with Murphy's
 * decomposition, NLL, calibration slope/intercept — and temperature / Platt / isotonic recalibration
 * fitted on a held-out split, before and after side by side.
 */
import { parse } from './args.js';
import { CAL_HELP, CAL_OPTIONS, INPUT_HELP, INPUT_OPTIONS, loadInputs, numberArg, outDir, printChecks, writePart } from '../trust/cli-common.js';
import { calibrationPart } from '../trust/report-calibration.js';

export const CALIBRATE_USAGE = `usage: candor calibrate (--model m.onnx [--data D] [--split test] | --probs FILE [--labels FILE]) --out DIR
       [--cal-split val | --cal-probs FILE | --cal-fraction 0.5] [--no-recalibrate] [--bins 10]
       [--ece-good 0.05] [--ece-poor 0.1] [--force]

Reliability diagrams, ECE/MCE/adaptive ECE/class-wise ECE, Brier score with Murphy's decomposition,
NLL, calibration slope and intercept. Recalibration maps (temperature scaling; for two classes also
Platt scaling and isotonic regression) are fitted on the calibration split and judged on the
evaluated cases; with --model the validation split is the default calibration split.

${INPUT_HELP}
${CAL_HELP}`;

export async function calibrateCommand(argv: string[]): Promise<void> {
  const { values: v } = parse(argv, { ...INPUT_OPTIONS, ...CAL_OPTIONS, bins: { type: 'string', default: '10' }, 'no-recalibrate': { type: 'boolean', default: false }, 'ece-good': { type: 'string' }, 'ece-poor': { type: 'string' } }, CALIBRATE_USAGE);
  if (v.help) {
    console.log(CALIBRATE_USAGE);
    return;
  }
  const dir = outDir(v, CALIBRATE_USAGE);
  const bins = numberArg(v.bins, '--bins', 10, (x) => Number.isInteger(x) && x >= 1 && x <= 1000, 'an integer in [1, 1000]');
  const eceGood = numberArg(v['ece-good'], '--ece-good', 0.05, (x) => x > 0 && x < 1, 'in (0, 1)');
  const ecePoor = numberArg(v['ece-poor'], '--ece-poor', 0.1, (x) => x >= eceGood && x < 1, `in [${eceGood}, 1)`);
  const recal = !v['no-recalibrate'];
  const { data, cal, record } = await loadInputs(v, CALIBRATE_USAGE, { cal: recal && (v.model?.length || v['cal-probs'] || v['cal-fraction'] || v['cal-data']) ? 'required' : 'none' });
  if (recal && !cal) console.error('candor calibrate: no calibration split (--cal-probs or --cal-fraction), so no recalibration; measuring calibration only');
  const part = calibrationPart(data, data.k, { classNames: data.classNames, bins, calibration: cal, eceGood, ecePoor, sectionId: 'calibration' });
  const written = await writePart(dir, part, { command: 'calibrate', source: data.source, n: data.labels.length, classes: data.classNames, calibrationSource: cal?.source ?? null, nCalibration: cal?.labels.length ?? 0, ...record });
  printChecks(part, dir, written);
}
