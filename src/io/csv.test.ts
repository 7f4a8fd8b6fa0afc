import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCsvLine } from './csv.js';

test('CSV fields: trimmed, quoted fields keep commas and "" escapes', () => {
  assert.deepEqual(splitCsvLine(' a, b ,c'), ['a', 'b', 'c']);
  assert.deepEqual(splitCsvLine('"scan, left.nii.gz#slice=3", 1 ,"say ""hi"""'), ['scan, left.nii.gz#slice=3', '1', 'say "hi"']);
  assert.deepEqual(splitCsvLine(''), ['']);
  assert.deepEqual(splitCsvLine('x,'), ['x', '']);
});
