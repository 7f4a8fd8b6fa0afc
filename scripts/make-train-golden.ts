/**
 * Step 1 of the PyTorch reference for training graphs (see make-train-golden.py): writes the
 * small CNN's weights (with a BatchNorm, 3 classes, 16×16 input), a batch, labels and class
 * weights to OUT/train_case.npz.   npx tsx scripts/make-train-golden.ts /tmp/train && \
 *   /usr/bin/python3 scripts/make-train-golden.py /tmp/train src/train/fixtures
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { trainCase } from '../src/testing/train-fixtures.js';
import { writeNpzFileSync } from '../src/io/files.js';
import { Tensor } from '../src/tensor/tensor.js';

const out = process.argv[2] ?? '/tmp/train';
mkdirSync(out, { recursive: true });
const c = trainCase();
const entries: Record<string, Tensor> = { __input__: c.input, __labels__: new Tensor(Float32Array.from(c.labels), [c.labels.length]), __class_weights__: new Tensor(Float32Array.from(c.classWeights), [c.classWeights.length]) };
for (const [name, t] of c.model.graph.initializers) if (t.dataType === 1) entries[name] = new Tensor(t.data as Float32Array, t.dims);
writeNpzFileSync(join(out, 'train_case.npz'), entries);
