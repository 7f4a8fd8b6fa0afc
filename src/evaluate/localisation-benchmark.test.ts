/**
 * The localisation benchmark's pieces against scikit-image's threshold_otsu and scikit-learn's
 * average_precision_score (fixtures/make_localisation_fixtures.py), and its scores worked by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TUNING_GRID, averagePrecision, localisationScores, otsuThreshold } from './localisation-benchmark.js';

const ref = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/localisation_reference.json', import.meta.url)), 'utf8')) as { shape: number[]; maps: number[]; masks: number[]; otsu: number[]; ap: (number | null)[] };

test('Otsu’s threshold and average precision equal scikit-image’s and scikit-learn’s (ties in the scores included)', () => {
  const [n, h, w] = ref.shape as [number, number, number];
  const v = h * w;
  for (let i = 0; i < n; i++) {
    const a = ref.maps.slice(i * v, (i + 1) * v).map(Math.abs);
    const lo = Math.min(...a);
    const hi = Math.max(...a);
    const s = a.map((x) => (x - lo) / (hi - lo));
    assert.ok(Math.abs(otsuThreshold(s) - ref.otsu[i]!) < 1e-12, `otsu ${i}: ${otsuThreshold(s)} vs ${ref.otsu[i]}`);
    const ap = averagePrecision(s, ref.masks.slice(i * v, (i + 1) * v));
    if (ref.ap[i] === null) assert.ok(Number.isNaN(ap));
    else assert.ok(Math.abs(ap - ref.ap[i]!) < 1e-12, `AP ${i}: ${ap} vs ${ref.ap[i]}`);
  }
  assert.equal(otsuThreshold([2, 2, 2]), 2);
});

test('localisation scores: IoU, hit and AUPRC by hand; empty masks left out; the tuned threshold chosen on the other half', () => {
  // image 0: map peaks exactly on the mask; image 1: the peak is outside; image 2: empty mask
  const maps = { data: Float32Array.from([0, 0, 1, 1, /**/ 1, 0, 0.5, 0.5, /**/ 0, 1, 0, 0]), shape: [3, 2, 2] };
  const masks = { data: Uint8Array.from([0, 0, 1, 1, /**/ 0, 0, 1, 1, /**/ 0, 0, 0, 0]), shape: [3, 2, 2] };
  const r = localisationScores(maps, masks);
  assert.equal(r.empty, 1);
  assert.deepEqual(r.hit.slice(0, 2), [1, 0]);
  assert.ok(Number.isNaN(r.hit[2]!) && Number.isNaN(r.iouOtsu[2]!) && Number.isNaN(r.iouTuned[2]!));
  assert.equal(r.iouOtsu[0], 1);
  // image 1 scaled: [1, 0, 0.5, 0.5]: splitting {0} | {0.5, 0.5, 1} and {0, 0.5, 0.5} | {1} have equal between-class
  // variance (4/3); the first maximum wins (NumPy's argmax), keeping 3 pixels, 2 of them in the mask
  assert.equal(r.iouOtsu[1], 2 / 3);
  assert.equal(r.auprc[0], 1);
  assert.ok(Math.abs(r.auprc[1]! - (0.5 * 0 + 1 * (2 / 3))) < 1e-12, `AUPRC ${r.auprc[1]}`);
  assert.deepEqual(r.auprcChance.slice(0, 2), [0.5, 0.5]);
  for (const t of r.tunedThreshold.slice(0, 2)) assert.ok(TUNING_GRID.includes(t));
  // one image per fold: image 0's threshold is the best for image 1 and vice versa
  assert.equal(r.iouTuned[0], 1, 'any threshold in (0, 1) gives image 0 a perfect IoU');
  assert.equal(r.iouTuned[1], 2 / 3, 'tuned on image 0 (first grid point 0.05): image 1 keeps 3 pixels, 2 of them in the mask');
  assert.throws(() => localisationScores(maps, { data: new Uint8Array(8), shape: [2, 2, 2] }), /maps \[3, 2, 2\] and masks \[2, 2, 2\] differ/);
});
