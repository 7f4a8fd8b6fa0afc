/**
 * Step 1 of making PyTorch references for the builder models (see make-arch-golden.py):
 * writes each test model's weights (torch state_dict names), input and seed to OUT/<arch>.npz.
 *   npx tsx scripts/make-arch-golden.ts /tmp/arch && python3 scripts/make-arch-golden.py /tmp/arch src/autodiff/fixtures
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARCH_CASES, archTestModel } from '../src/testing/arch-fixtures.js';
import { writeNpzFileSync } from '../src/io/files.js';
import { Tensor } from '../src/tensor/tensor.js';

const out = process.argv[2] ?? '/tmp/arch';
mkdirSync(out, { recursive: true });
for (const c of ARCH_CASES) {
  const { model, input, seed } = archTestModel(c);
  const entries: Record<string, Tensor> = { __input__: input, __seed__: seed };
  for (const [name, t] of model.graph.initializers) {
    if (t.dataType === 1 && /^[A-Za-z_][\w.]*$/.test(name)) entries[name] = new Tensor(t.data as Float32Array, t.dims);
  }
  writeNpzFileSync(join(out, `${c.arch}.npz`), entries);
  console.log(`${c.arch}: ${Object.keys(entries).length} arrays`);
}
