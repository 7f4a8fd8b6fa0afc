/**
 * Quantus' complexity and localisation metrics (issue 17) against Quantus itself, run on the same maps and
 * masks (fixtures/make_quantus_fixtures.py): per-image scores equal to float32 precision (Quantus computes in
 * the maps' float32), NaN where Quantus gives NaN (an empty mask).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sparseness } from './sparseness.js';
import { complexity } from './complexity.js';
import { effectiveComplexity } from './effective-complexity.js';
import { topKIntersection } from './top-k-intersection.js';
import { attributionLocalisation } from './attribution-localisation.js';
import { localisationAuc } from './localisation-auc.js';

const ref = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/quantus_reference.json', import.meta.url)), 'utf8')) as { n: number; a: number[]; s: number[]; scores: Record<string, (number | null)[]> };
const a = Float32Array.from(ref.a);

function same(name: string, got: number[], tol = 1e-5): void {
  const want = ref.scores[name]!;
  assert.equal(got.length, want.length, name);
  got.forEach((g, i) => {
    const w = want[i];
    if (w === null) assert.ok(Number.isNaN(g), `${name}[${i}]: Quantus gives NaN, candor ${g}`);
    else assert.ok(Math.abs(g - w) <= tol * Math.max(1, Math.abs(w)), `${name}[${i}]: candor ${g}, Quantus ${w}`);
  });
}

test('complexity family equals Quantus: Sparseness (Gini), Complexity (entropy), EffectiveComplexity', () => {
  same('sparseness', sparseness(a, ref.n));
  same('complexity', complexity(a, ref.n));
  same('effective_complexity', effectiveComplexity(a, ref.n, { eps: 0.05 }), 0);
});

test('localisation family equals Quantus: TopKIntersection (plain, concept influence), AttributionLocalisation, AUC; empty masks are NaN', () => {
  same('top_k_intersection_k50', topKIntersection(a, ref.s, ref.n, { k: 50 }), 0);
  same('top_k_intersection_k50_concept', topKIntersection(a, ref.s, ref.n, { k: 50, conceptInfluence: true }));
  same('attribution_localisation', attributionLocalisation(a, ref.s, ref.n));
  same('auc', localisationAuc(a, ref.s, ref.n));
});

test('the metrics refuse what they cannot read: non-finite maps, masks of another size, k beyond the map', () => {
  assert.throws(() => sparseness(Float32Array.from([1, NaN]), 1), /attribution 1 of image 0 is NaN/);
  assert.throws(() => topKIntersection(a, ref.s.slice(1), ref.n, { k: 5 }), /the masks hold \d+ values, the maps 5 × 256/);
  assert.throws(() => topKIntersection(a, ref.s, ref.n, { k: 257 }), /k must be an integer in \[1, 256\]/);
});
