/**
 * Trust statistics on the bundled baseline (models/baseline/small_cnn_pneumoniamnist64.onnx) and the
 * bundled PneumoniaMNIST validation and test splits: conformal coverage over repeated random splits,
 * and temperature scaling on held-out data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';
import { predictWithModel, randomSplit, selectPredictions, type Predictions } from './inputs.js';
import { calibrateConformal, evaluateSets, predictSets, type ConformalScore } from './conformal.js';
import { applyTemperature, fitTemperature } from './recalibrate.js';
import { calibrationSummary } from './calibration.js';
import { Rng } from '../tensor/rng.js';

const MODEL = join(repoRoot, 'models/baseline/small_cnn_pneumoniamnist64.onnx');
let cache: Promise<{ val: Predictions; test: Predictions }> | undefined;
const predictions = () =>
  (cache ??= (async () => ({
    val: await predictWithModel(MODEL, { data: 'pneumoniamnist', split: 'val', threads: 1 }),
    test: await predictWithModel(MODEL, { data: 'pneumoniamnist', split: 'test', threads: 1 }),
  }))());

test('split conformal on 200 random halves of the PneumoniaMNIST test set covers 1 − α within the binomial band', async () => {
  const { test: all } = await predictions();
  assert.equal(all.labels.length, 624);
  const R = 200;
  // Non-randomized APS is conservative (only the lower bound holds); the others are exact up to 1/(n+1).
  const cases: [ConformalScore, boolean, boolean][] = [['lac', false, true], ['aps', true, true], ['aps', false, false], ['raps', true, true], ['lac', false, true]];
  for (const [i, [score, randomized, exact]] of cases.entries()) {
    const mondrian = i === cases.length - 1;
    for (const alpha of [0.1, 0.05]) {
      const cov: number[] = [];
      for (let r = 0; r < R; r++) {
        const { cal, rest } = randomSplit(624, 0.5, 1000 + r);
        const c = selectPredictions(all, cal);
        const t = selectPredictions(all, rest);
        const rng = new Rng(r);
        const u = (n: number) => Float64Array.from({ length: n }, () => rng.next());
        const m = calibrateConformal(c.probs, c.labels, 2, alpha, { score, randomized, mondrian, uniforms: u(cal.length) });
        cov.push(evaluateSets(predictSets(m, t.probs, u(rest.length)), t.labels, 2).coverage);
      }
      const nCal = mondrian ? 312 * 0.37 : 312; // the smaller class (normal, ~37 %) bounds Mondrian's guarantee
      const nTest = 312;
      // Given the 624 cases, split coverages are i.i.d. with mean in [1 − α, 1 − α + 1/(n_cal + 1)].
      const sdSplit = Math.sqrt(alpha * (1 - alpha) * (1 / nTest + 1 / nCal));
      const mean = cov.reduce((a, b) => a + b, 0) / R;
      const what = `${score}${randomized ? ' randomized' : ''}${mondrian ? ' (Mondrian)' : ''} α=${alpha}: mean coverage ${mean.toFixed(4)}`;
      assert.ok(mean >= 1 - alpha - (4 * sdSplit) / Math.sqrt(R), what);
      if (!exact) continue;
      assert.ok(mean <= 1 - alpha + 1 / (nCal + 1) + (4 * sdSplit) / Math.sqrt(R), what);
      const inBand = cov.filter((c) => Math.abs(c - (1 - alpha)) <= 1.96 * sdSplit + 1 / (nCal + 1)).length / R;
      assert.ok(inBand >= 0.9, `${what}; only ${(inBand * 100).toFixed(1)} % of splits inside the 95 % band`);
    }
  }
});

test('temperature scaling of the baseline lowers NLL and ECE on held-out data', async () => {
  const { val, test: all } = await predictions();
  // Fitted on the validation split, judged on the test split.
  const T = fitTemperature(val.logits!, val.labels, 2);
  assert.ok(T.nllAfter <= T.nllBefore);
  const before = calibrationSummary(all.probs, all.labels, 2);
  const after = calibrationSummary(applyTemperature(all.logits!, 2, T.temperature), all.labels, 2);
  assert.ok(after.nll < before.nll, `NLL ${before.nll} → ${after.nll} (T = ${T.temperature})`);
  assert.ok(after.ece < before.ece, `ECE ${before.ece} → ${after.ece}`);
  // Fitted on one half of the test split, judged on the other (same distribution), over 10 splits.
  let nllGain = 0;
  let eceGain = 0;
  for (let r = 0; r < 10; r++) {
    const { cal, rest } = randomSplit(624, 0.5, r);
    const c = selectPredictions(all, cal);
    const h = selectPredictions(all, rest);
    const t = fitTemperature(c.logits!, c.labels, 2).temperature;
    const b = calibrationSummary(h.probs, h.labels, 2);
    const a = calibrationSummary(applyTemperature(h.logits!, 2, t), h.labels, 2);
    assert.ok(a.nll < b.nll, `split ${r}: NLL ${b.nll} → ${a.nll} (T = ${t})`);
    nllGain += b.nll - a.nll;
    eceGain += b.ece - a.ece;
  }
  assert.ok(nllGain > 0 && eceGain > 0, `mean ECE change ${-eceGain / 10}`);
});
