/**
 * The uncertainty verdict uses one score fixed beforehand (default 1 − max-softmax), not whichever separates
 * errors best on the same cases; the referral list ranks by that score; the other scores are exploration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uncertaintyPart } from './report-uncertainty.js';
import { Rng } from '../tensor/rng.js';

function data() {
  // 3 classes, 60 cases: probabilities and labels drawn so that the scores disagree.
  const rng = new Rng(4);
  const n = 60;
  const k = 3;
  const probs = new Float64Array(n * k);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const z = [rng.normal() * 2, rng.normal(), rng.normal() * 0.5];
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, j) => (probs[i * k + j] = v / s));
    labels[i] = rng.uniform() < 0.6 ? 0 : rng.int(3);
  }
  return { probs, labels, logits: Float64Array.from(probs, (p) => Math.log(p)) };
}

test('the verdict, the curve and the referral list follow the pre-registered score; the others are exploration', () => {
  const d = data();
  const def = uncertaintyPart(d, 3, { coverage: 0.8 });
  const check = def.checks.find((c) => c.id === 'trust.uncertainty')!;
  assert.match(check.value!, /^1 − max-softmax: error-detection AUROC/);
  const res = def.results.uncertainty as { score: string; errorDetectionAuroc: Record<string, number>; referral: { referred: number[] } };
  assert.equal(res.score, 'max-softmax');
  assert.match(def.tables[0]!.caption, /^Exploration, not the verdict/);
  const ent = uncertaintyPart(d, 3, { coverage: 0.8, score: 'entropy' });
  const r2 = ent.results.uncertainty as typeof res & { perCase: { entropy: Float64Array } };
  assert.match(ent.checks.find((c) => c.id === 'trust.uncertainty')!.value!, /^predictive entropy: error-detection AUROC/);
  // The referred cases are the most uncertain by entropy.
  const byEntropy = Array.from(r2.perCase.entropy, (v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, r2.referral.referred.length).map(([, i]) => i).sort((a, b) => a - b);
  assert.deepEqual([...r2.referral.referred].sort((a, b) => a - b), byEntropy);
  assert.throws(() => uncertaintyPart(d, 3, { score: 'mutual-information' }), /'mutual-information' is not available here \(it needs several stochastic passes\)/);
  const en = uncertaintyPart(d, 3, { score: 'energy' });
  assert.match(en.checks.find((c) => c.id === 'trust.uncertainty')!.value!, /^energy:/);
});
