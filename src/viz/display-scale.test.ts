import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';
import { cumulativeSumThreshold, displayRanges, normalizeWith, rangeOf, rawRange } from './display-scale.js';

const fixture = JSON.parse(readFileSync(join(repoRoot, 'src/viz/fixtures/captum-normalize.json'), 'utf8')) as { cases: { map: number[]; signed: boolean; clip: number; expected: number[] }[] };

test("display values equal Captum's visualize_image_attr normalisation (its own _normalize_attr run in Python), signed and unsigned, at 98, 99 and 100 % of the mass", () => {
  assert.equal(fixture.cases.length, 18);
  for (const c of fixture.cases) {
    const got = normalizeWith(c.map, rangeOf([c.map], c.signed, c.clip));
    let err = 0;
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - c.expected[i]!));
    assert.ok(err < 1e-6, `${c.signed ? 'signed' : 'unsigned'} clip ${c.clip}: max |candor − Captum| = ${err}`);
  }
});

test('the cumulative-sum threshold by hand; clip 100 is the plain maximum and min–max scaling', () => {
  // sorted 1,1,2,6: running sums 1,2,4,10 → 40 % of 10 is reached at 4 (value 2), 50 % at 10 (value 6)
  assert.equal(cumulativeSumThreshold(Float64Array.from([6, 1, 2, 1]), 40), 2);
  assert.equal(cumulativeSumThreshold(Float64Array.from([6, 1, 2, 1]), 50), 6);
  assert.equal(cumulativeSumThreshold(Float64Array.from([0, 0]), 99), 0);
  assert.throws(() => cumulativeSumThreshold(Float64Array.from([1]), 101), /percentage/);
  assert.deepEqual(Array.from(normalizeWith([2, 4, 6, 10], rangeOf([[2, 4, 6, 10]], false, 100))), [0, 0.25, 0.5, 1]);
  assert.deepEqual(Array.from(normalizeWith([-4, 0, 2], rangeOf([[-4, 0, 2]], true, 100))), [0, 0.5, 0.75]);
  // a few hot pixels holding under 1 % of the mass saturate at 99 %, and no longer squeeze the rest into
  // the middle of the diverging scale; one pixel holding most of the mass is the threshold itself (Captum's rule)
  const spread = [...Array(5000).fill(0.5), ...Array(5000).fill(1), 40];
  const r99 = rangeOf([spread], true, 99);
  assert.equal(r99.t, 1);
  assert.equal(normalizeWith(spread, r99)[0], 0.75);
  assert.equal(normalizeWith(spread, rangeOf([spread], true, 100))[0], Math.fround(0.5 + 0.5 / 80));
  const hot = [...Array(99).fill(1), 1000];
  assert.equal(rangeOf([hot], true, 99).t, 1000);
});

test('constant and empty maps, non-finite values, shared and raw ranges', () => {
  assert.deepEqual(Array.from(normalizeWith([3, 3], rangeOf([[3, 3]], false))), [0, 0]);
  assert.deepEqual(Array.from(normalizeWith([0, 0], rangeOf([[0, 0]], true))), [0.5, 0.5]);
  assert.deepEqual(Array.from(normalizeWith([NaN, 1], rangeOf([[NaN, 1]], true, 100))), [0.5, 1]);
  const maps = [{ method: 'a', map: [0, 1], signed: false }, { method: 'a', map: [0, 4], signed: false }, { method: 'b', map: [0, 2], signed: false }];
  const r = displayRanges(maps, 'method', 100);
  assert.equal(r[0], r[1]);
  assert.deepEqual(Array.from(normalizeWith(maps[0]!.map, r[0]!)), [0, 0.25], 'a fainter map stays fainter on a shared range');
  assert.deepEqual(Array.from(normalizeWith([-2, 0.5, 0.25], rawRange(true))), [0, 0.75, 0.625]);
  assert.deepEqual(Array.from(normalizeWith([-1, 0.5, 3], rawRange(false))), [0, 0.5, 1]);
});
