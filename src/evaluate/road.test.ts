/**
 * ROAD against independent references:
 *  - noisy linear imputation without noise equals numpy.linalg.solve of the densely built system
 *    (fixtures/road.npz, built from the paper's description in make_fixtures.py), borders and
 *    corners included;
 *  - on a larger image with 90 % removed, every imputed pixel is the 1/6–1/12 weighted mean of
 *    its in-image neighbours (residual of the equations), and the noise has the requested std;
 *  - road() on a linear model equals the closed form (images imputed here from our own ranking,
 *    softmax from the weights), and the true-contribution map drops faster under MoRF than LeRF.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readNpzFileSync } from '../io/files.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { noisyLinearImpute, road } from './road.js';
import { linearModel } from './fixtures/linear-model.js';

test('noisy linear imputation (noise 0) equals numpy.linalg.solve of the dense system to 1e-9', () => {
  const fx = readNpzFileSync(fileURLToPath(new URL('./fixtures/road.npz', import.meta.url)));
  const img = fx.get('img')!;
  const [c, h, w] = img.shape as [number, number, number];
  const keep = fx.get('keep')!.data as Float64Array;
  const got = noisyLinearImpute(img.data as Float64Array, keep, c, h, w, { noise: 0 });
  const ref = fx.get('filled')!.data as Float64Array;
  let err = 0;
  for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - ref[i]!));
  assert.ok(err < 1e-9, `max error ${err}`);
});

test('imputed pixels are the weighted mean of their neighbours; kept pixels unchanged; noise std as asked', () => {
  const [c, h, w] = [1, 32, 40];
  const rng = new Rng(1);
  const img = rng.fillNormal(new Float64Array(c * h * w));
  const keep = Float64Array.from({ length: h * w }, () => (rng.next() < 0.1 ? 1 : 0));
  const x = noisyLinearImpute(img, keep, c, h, w, { noise: 0 });
  let worst = 0;
  for (let r = 0; r < h; r++) for (let q = 0; q < w; q++) {
    const p = r * w + q;
    if (keep[p]) {
      assert.equal(x[p], img[p]);
      continue;
    }
    let s = 0;
    let tot = 0;
    for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) {
      if ((!dr && !dc) || r + dr < 0 || q + dc < 0 || r + dr >= h || q + dc >= w) continue;
      const wt = dr && dc ? 1 / 12 : 1 / 6;
      s += wt * x[(r + dr) * w + q + dc]!;
      tot += wt;
    }
    worst = Math.max(worst, Math.abs(x[p]! - s / tot));
  }
  assert.ok(worst < 1e-8, `equation residual ${worst}`);
  const noisy = noisyLinearImpute(img, keep, c, h, w, { noise: 0.05, rng: new Rng(2) });
  let ss = 0;
  let m = 0;
  for (let p = 0; p < h * w; p++) if (!keep[p]) {
    ss += (noisy[p]! - x[p]!) ** 2;
    m++;
  }
  const sd = Math.sqrt(ss / m);
  assert.ok(Math.abs(sd - 0.05) < 0.005, `noise std ${sd}`);
  const all = noisyLinearImpute(img, new Float64Array(h * w), c, h, w, { noise: 0 });
  assert.ok(all.every((v) => v === 0), 'everything removed: zeros');
});

test('road on a linear model equals the closed form; true contributions fall faster under MoRF than LeRF', async () => {
  const [N, C, H, W, K] = [2, 1, 10, 10, 2];
  const { model, W: Wt, b } = linearModel(C, H, W, K, 3);
  const x = new Tensor(new Rng(4).fillNormal(new Float32Array(N * C * H * W)), [N, C, H, W]);
  const hw = H * W;
  const maps = new Tensor(Float32Array.from({ length: N * hw }, (_, q) => (Wt[hw + (q % hw)]! - Wt[q % hw]!) * x.data[q]!), [N, H, W]);
  const pcts = [0.2, 0.5, 0.8];
  const r = await road(model, x, maps, 1, { percentages: pcts, noise: 0, batchSize: 4 });
  for (let i = 0; i < N; i++) {
    const m = Array.from(maps.data.subarray(i * hw, (i + 1) * hw));
    const order = m.map((v, p) => [v, p] as const).sort((a, c) => c[0] - a[0]).map((e) => e[1]);
    for (const o of ['morf', 'lerf'] as const) {
      pcts.forEach((p, pi) => {
        const removed = o === 'morf' ? order.slice(0, Math.round(p * hw)) : order.slice(hw - Math.round(p * hw));
        const keep = new Float64Array(hw).fill(1);
        for (const q of removed) keep[q] = 0;
        const img = noisyLinearImpute(x.data.subarray(i * hw, (i + 1) * hw), keep, C, H, W, { noise: 0 }).map(Math.fround);
        let z = b[1]! - b[0]!;
        for (let q = 0; q < hw; q++) z += (Wt[hw + q]! - Wt[q]!) * img[q]!;
        const prob = 1 / (1 + Math.exp(-z));
        assert.ok(Math.abs(r[o]!.scores[i]![pi]! - prob) < 1e-5, `${o} ${p} image ${i}: ${r[o]!.scores[i]![pi]} vs ${prob}`);
        assert.equal(r[o]!.correct[i]![pi], prob > 0.5);
      });
    }
  }
  const morf = r.morf!.meanScore;
  const lerf = r.lerf!.meanScore;
  assert.ok(morf[1]! < lerf[1]! && morf[2]! < lerf[2]!, `MoRF ${morf} vs LeRF ${lerf}`);
  const seeded = await road(model, x, maps, 1, { percentages: pcts, seed: 5 });
  const again = await road(model, x, maps, 1, { percentages: pcts, seed: 5 });
  assert.deepEqual(seeded, again);
});
