import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decimal, labelKey, nearDuplicates, normalizeLabel } from './label-text.js';
import { loadImageFolder } from './image-folder.js';
import { loadPredictionFile } from '../trust/inputs.js';
import { encodePng } from '../io/image.js';
import { Tensor } from '../tensor/tensor.js';

test('labels are NFC-normalised, invisible characters removed; near-duplicate spellings share a key; numbers are plain decimals', () => {
  assert.equal(normalizeLabel(' pneumoni\u0061\u0301 '), 'pneumoniá');
  assert.equal(normalizeLabel('nor\u200Bmal\uFEFF'), 'normal');
  assert.equal(labelKey('NORMAL'), labelKey('Normal'));
  assert.equal(labelKey('pneumonía'), labelKey('pneumonia'));
  assert.deepEqual(nearDuplicates(['Normal', 'NORMAL', 'pneumonia', 'effusion']), [['NORMAL', 'Normal']]);
  for (const bad of ['0x1', 'Infinity', '1e999', '', ' ', '1_000', 'NaN']) assert.equal(decimal(bad), undefined, bad);
  assert.equal(decimal(' 0.25 '), 0.25);
  assert.equal(decimal('1e-3'), 0.001);
});

test('image-list CSVs: near-duplicate class spellings, empty labels and a file listed twice with two labels are errors naming the rows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-labels-'));
  const png = encodePng(new Tensor(new Uint8Array(4), [1, 2, 2]));
  for (const f of ['a.png', 'b.png', 'c.png']) writeFileSync(join(dir, f), png);
  const csv = (name: string, text: string) => (writeFileSync(join(dir, name), text), name);
  assert.throws(() => loadImageFolder(dir, { csv: csv('case.csv', 'a.png,Normal\nb.png,NORMAL\nc.png,pneumonia\n') }), /case\.csv: labels that differ only in case, accents, spaces or invisible characters: 'NORMAL' \(.*case\.csv:2\) vs 'Normal' \(.*case\.csv:1\)/);
  assert.throws(() => loadImageFolder(dir, { csv: csv('accent.csv', 'a.png,pneumonia\nb.png,pneumonía\nc.png,normal\n') }), /accent\.csv: labels that differ only in case, accents/);
  const zw = loadImageFolder(dir, { csv: csv('zw.csv', 'a.png,normal\nb.png,nor\u200Bmal\nc.png,pneumonia\n') });
  assert.deepEqual(zw.classNames, ['normal', 'pneumonia']); // the zero-width space is removed, not a third class
  assert.throws(() => loadImageFolder(dir, { csv: csv('empty.csv', 'a.png,normal\nb.png,\u200B\n') }), /empty\.csv:2: the label of 'b\.png' is empty/);
  assert.throws(() => loadImageFolder(dir, { csv: csv('twice.csv', 'a.png,normal\nb.png,normal\na.png,pneumonia\n') }), /twice\.csv:3: 'a\.png' is listed again with another label \('pneumonia'; line 1: 'normal'\)/);
  mkdirSync(join(dir, 'folders', 'Normal'), { recursive: true });
  mkdirSync(join(dir, 'folders', 'normal'), { recursive: true });
  writeFileSync(join(dir, 'folders', 'Normal', 'a.png'), png);
  writeFileSync(join(dir, 'folders', 'normal', 'b.png'), png);
  assert.throws(() => loadImageFolder(join(dir, 'folders')), /labels that differ only in case.*'Normal' .* vs 'normal'/);
});

test('prediction CSVs: an empty label cell or a hexadecimal probability is an error, not class 0 or a number', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-pred-'));
  writeFileSync(join(dir, 'p.csv'), 'p,label\n0.2,0\n0.9,\n');
  assert.throws(() => loadPredictionFile(join(dir, 'p.csv')), /p\.csv: row 3, column 'label' is '', not a class index \(empty\)/);
  writeFileSync(join(dir, 'q.csv'), 'p,label\n0x1,1\n');
  assert.throws(() => loadPredictionFile(join(dir, 'q.csv')), /q\.csv: row 2, column 'p' is '0x1', not a decimal number/);
});
