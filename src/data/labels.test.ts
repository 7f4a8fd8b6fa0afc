import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { classCounts, concatDatasets, type MultiLabelDataset, type SingleLabelDataset } from './dataset.js';
import { labelAgreement, permuteLabelRows, permuteLabels, randomizeLabels, splitIndices, trainValSplit } from './labels.js';

function toy(labels: number[]): SingleLabelDataset {
  const n = labels.length;
  return {
    task: 'single',
    images: Tensor.from(Array.from({ length: n }, (_, i) => i), [n, 1, 1, 1]),
    labels: Int32Array.from(labels),
    classNames: ['normal', 'pneumonia'],
    source: 'toy',
  };
}

test('label permutation keeps the class counts, is seeded, and breaks the image–label link', () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => (i < 260 ? 0 : 1));
  const a = permuteLabels(labels, new Rng(1));
  assert.deepEqual(classCounts(toy([...a])), [260, 740]);
  assert.deepEqual(permuteLabels(labels, new Rng(1)), a);
  assert.notDeepEqual(permuteLabels(labels, new Rng(2)), a);
  // Agreement of a random relabelling with the truth: p0² + p1² = 0.26² + 0.74² ≈ 0.615 (±0.05).
  assert.ok(Math.abs(labelAgreement(a, labels) - (0.26 ** 2 + 0.74 ** 2)) < 0.05);
  const ds = toy([...labels]);
  const r = randomizeLabels(ds, new Rng(1));
  assert.deepEqual(r.labels, a);
  assert.equal(r.images, ds.images);
  assert.match(r.source, /labels permuted/);
});

test('multi-label rows are permuted whole', () => {
  const m = new Tensor(Uint8Array.from([1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1]), [4, 3]);
  const p = permuteLabelRows(m, new Rng(4));
  const rows = (t: Tensor<Uint8Array>) => Array.from({ length: 4 }, (_, i) => [...t.data.subarray(i * 3, i * 3 + 3)].join('')).sort();
  assert.deepEqual(rows(p), rows(m));
  const ds: MultiLabelDataset = { task: 'multi', images: Tensor.zeros([4, 1, 1, 1]), labels: m, classNames: ['a', 'b', 'c'], source: 'm' };
  assert.deepEqual(randomizeLabels(ds, new Rng(4)).labels.data, p.data);
});

test('train/val split: disjoint, complete, stratified by default, seeded', () => {
  const labels = Array.from({ length: 400 }, (_, i) => (i % 4 === 0 ? 0 : 1)); // 100 / 300
  const ds = toy(labels);
  const { train, val } = trainValSplit(ds, new Rng(5), { val: 0.2 });
  assert.deepEqual(classCounts(val), [20, 60]);
  assert.deepEqual(classCounts(train), [80, 240]);
  const ids = [...train.images.data, ...val.images.data].sort((a, b) => a - b);
  assert.deepEqual(ids, Array.from({ length: 400 }, (_, i) => i));
  assert.deepEqual(trainValSplit(ds, new Rng(5), { val: 0.2 }).val.images.data, val.images.data);
  assert.notDeepEqual(trainValSplit(ds, new Rng(6), { val: 0.2 }).val.images.data, val.images.data);
  const plain = splitIndices(400, new Rng(5), { val: 50 });
  assert.equal(plain.val.length, 50);
  assert.equal(plain.train.length, 350);
  assert.throws(() => splitIndices(10, new Rng(1), { val: 11 }), /val must be/);
  const back = concatDatasets([train, val]);
  assert.equal(back.labels.length, 400);
});
