/**
 * Every method of `candor explain` on every model of the zoo (src/autodiff/fixtures/zoo): it runs and gives
 * finite maps of the input's size, or it says in one line why it does not apply (NotApplicableError).
 * Small budgets (2 images, few samples/steps/masks): this checks that each method works on each kind of
 * graph; the methods' values are checked against their references elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpzFileSync } from '../io/files.js';
import { loadModel } from '../runtime/node.js';
import { repoRoot } from '../testing/paths.js';
import { Tensor } from '../tensor/tensor.js';
import { METHOD_NAMES, NotApplicableError, explain } from './registry.js';

const ZOO = join(repoRoot, 'src/autodiff/fixtures/zoo');
const index = JSON.parse(readFileSync(join(ZOO, 'zoo.json'), 'utf8')) as Record<string, { file: string }>;
const QUICK: Record<string, Record<string, unknown>> = {
  smoothgrad: { samples: 2 },
  ig: { steps: 4 },
  gradientshap: { samples: 2 },
  expectedgradients: { samples: 2 },
  deepliftshap: { baselineCount: 2 },
  rise: { masks: 16 },
  occlusion: { window: 8, strides: 8 },
  scorecam: { topChannels: 8 },
};

for (const [name, e] of Object.entries(index)) {
  test(`every method on the zoo's ${name}: a finite map, or one line saying why it does not apply`, async (t) => {
    const model = loadModel(join(ZOO, e.file));
    let x = readNpzFileSync(join(ZOO, `${name}.npz`)).get('input') as Tensor;
    x = new Tensor(Float32Array.from(x.data as Float32Array).subarray(0, (2 * x.data.length) / x.shape[0]!), [2, ...x.shape.slice(1)]);
    if (name.startsWith('keras')) x = new Tensor(x.data, [2, x.shape[3]!, x.shape[1]!, x.shape[2]!]); // candor feeds it NCHW
    const ran: string[] = [];
    const reasons: string[] = [];
    for (const m of METHOD_NAMES) {
      try {
        const r = await explain(model, x, m, 'pred', QUICK[m] ?? {});
        assert.deepEqual(r.map.shape, [2, ...x.shape.slice(2)], `${name} ${m}`);
        assert.ok(r.map.data.every(Number.isFinite), `${name} ${m}: non-finite map`);
        ran.push(m);
      } catch (err) {
        if (!(err instanceof NotApplicableError)) throw new Error(`${name} ${m}: ${(err as Error).message}`);
        assert.ok(!(err as Error).message.includes('\n'), 'one line');
        reasons.push(`${m}: ${(err as Error).message.split(': ').slice(1).join(': ')}`);
      }
    }
    t.diagnostic(`${ran.length} ran; not applicable: ${reasons.length ? reasons.map((r) => r.split(';')[0]).join(' | ') : 'none'}`);
    await model.dispose();
  });
}
