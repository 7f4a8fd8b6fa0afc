import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { rangeOf } from '../viz/display-scale.js';
import { groupRanges } from './figures.js';

test('cells of one group share one colour scale (their values together); a cell without a group keeps its own', () => {
  const a = new Tensor(Float32Array.from({ length: 16 }, (_, i) => i), [4, 4]);
  const b = new Tensor(Float32Array.from({ length: 16 }, (_, i) => i / 10), [4, 4]);
  const cells = [{ maps: a, signed: false, title: [], group: 'm' }, { maps: b, signed: false, title: [], group: 'm' }, { maps: b, signed: false, title: [] }];
  const r = groupRanges(cells, [a, b, b]);
  assert.deepEqual(r[0], rangeOf([a.data, b.data], false));
  assert.equal(r[0], r[1], 'one range object for the group');
  assert.equal(r[2], undefined);
});
