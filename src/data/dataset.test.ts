import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { checkDataset, classCounts, concatDatasets, selectRows, withImages, type MultiLabelDataset, type SingleLabelDataset } from './dataset.js';
import { classBalance, formatClassBalance } from './balance.js';

const single = (): SingleLabelDataset => ({
  task: 'single',
  images: Tensor.from(Array.from({ length: 3 * 2 * 4 }, (_, i) => i), [3, 2, 2, 2]),
  labels: Int32Array.from([1, 0, 1]),
  classNames: ['normal', 'pneumonia'],
  source: 'toy',
});

const multi = (): MultiLabelDataset => ({
  task: 'multi',
  images: Tensor.zeros([3, 1, 2, 2]),
  labels: new Tensor(Uint8Array.from([1, 0, 1, 1, 1, 0]), [3, 2]),
  classNames: ['effusion', 'mass'],
  source: 'chest',
});

test('checkDataset rejects wrong ranks, counts, label ranges and non-binary multi-labels, naming the source', () => {
  assert.equal(checkDataset(single()).source, 'toy');
  assert.throws(() => checkDataset({ ...single(), images: Tensor.zeros([3, 4]) }), /toy: images must be \[N,C,H,W\]/);
  assert.throws(() => checkDataset({ ...single(), labels: Int32Array.from([0, 1]) }), /toy: 3 images but 2 labels/);
  assert.throws(() => checkDataset({ ...single(), labels: Int32Array.from([0, 2, 1]) }), /label 2 of image 1 is outside 0\.\.1/);
  assert.throws(() => checkDataset({ ...multi(), labels: new Tensor(Uint8Array.from([1, 0, 2, 1, 1, 0]), [3, 2]) }), /chest: multi-label value 2 at row 1/);
  assert.throws(() => checkDataset({ ...multi(), classNames: ['a'] }), /multi-label matrix is \[3,2\], expected \[3,1\]/);
});

test('selectRows picks images with their labels (single and multi), concat undoes a split', () => {
  const s = selectRows(single(), [2, 0]);
  assert.deepEqual([...s.labels], [1, 1]);
  assert.deepEqual([...s.images.data], [16, 17, 18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7]);
  const m = selectRows(multi(), [1]);
  assert.deepEqual([...m.labels.data], [1, 1]);
  assert.throws(() => selectRows(single(), [3]), /index 3 outside 0\.\.2/);
  const back = concatDatasets([selectRows(single(), [0]), selectRows(single(), [1, 2])]);
  assert.deepEqual(back.images.data, single().images.data);
  assert.deepEqual(back.labels, single().labels);
  assert.throws(() => withImages(single(), Tensor.zeros([2, 1, 1, 1])), /expected \[3,C,H,W\]/);
});

test('class balance: counts and fractions; multi-label reports prevalence per finding', () => {
  assert.deepEqual(classCounts(single()), [1, 2]);
  const b = classBalance(single(), 'train');
  assert.deepEqual(b.classes, [{ name: 'normal', count: 1, fraction: 1 / 3 }, { name: 'pneumonia', count: 2, fraction: 2 / 3 }]);
  const mb = classBalance(multi(), 'test');
  assert.deepEqual(mb.classes.map((c) => c.count), [3, 1]);
  const text = formatClassBalance([b, mb]);
  assert.match(text, /^class\s+train \(n=3\)\s+test \(n=3\)$/m);
  assert.match(text, /prevalence/);
});
