import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareData } from './prepare.js';
import { encodePng } from '../io/image.js';
import { classCounts } from '../data/dataset.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';

function imageFolder(perClass: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'candor-folder-'));
  const rng = new Rng(1);
  for (const cls of ['effusion', 'normal']) {
    mkdirSync(join(dir, cls));
    for (let i = 0; i < perClass; i++) {
      const img = new Tensor(Float32Array.from({ length: 20 * 24 }, () => rng.next()), [20, 24]);
      writeFileSync(join(dir, cls, `${i}.png`), encodePng(img));
    }
  }
  return dir;
}

test('an image folder is resized, scaled to [-1, 1] and split 70/15/15 with every class in every split', () => {
  const dir = imageFolder(20);
  const d = prepareData(dir, { size: 16, seed: 3 });
  const sizes = [d.train, d.val, d.test].map((s) => s.images.shape[0]!);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 40);
  assert.ok(Math.abs(sizes[0]! - 28) <= 2 && Math.abs(sizes[2]! - 6) <= 2, `${sizes}`);
  for (const s of [d.train, d.val, d.test]) {
    assert.deepEqual(s.images.shape.slice(1), [1, 16, 16]);
    assert.ok(classCounts(s).every((c) => c > 0));
  }
  assert.deepEqual(d.train.classNames, ['effusion', 'normal']);
  const px = d.train.images.data;
  assert.ok(Math.min(...px) >= -1 && Math.max(...px) <= 1 && Math.min(...px) < -0.5);
  // the same seed gives the same split
  const again = prepareData(dir, { size: 16, seed: 3 });
  assert.deepEqual(again.test.images.data, d.test.images.data);
});

test('the bundled PneumoniaMNIST with a shortcut keeps a clean test split and a fully marked copy', () => {
  const d = prepareData('pneumoniamnist', { size: 32, shortcut: 'corner:8', limit: 60 });
  assert.ok(d.testMarked);
  assert.equal(d.testMarked!.marked.reduce((a, b) => a + b, 0), d.test.images.shape[0]);
  assert.notDeepEqual(d.testMarked!.dataset.images.data, d.test.images.data);
});
