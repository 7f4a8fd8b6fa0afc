import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsvTable, readCsvTable, selectColumns } from './csv.js';
import { FIXTURES } from './fixtures.js';

test('CSV tables: target split off, missing cells are NaN, quoted names, columns picked by name', () => {
  const t = parseCsvTable('a,"b, quoted",y\n1,2,0\n,NA,1\n3.5,-1e-3,1\n', { target: 'y' });
  assert.deepEqual(t.featureNames, ['a', 'b, quoted']);
  assert.deepEqual([...t.y!], [0, 1, 1]);
  assert.equal(t.n, 3);
  assert.ok(Number.isNaN(t.X[2]!) && Number.isNaN(t.X[3]!));
  assert.equal(t.X[5], -0.001);
  assert.deepEqual([...selectColumns(t, ['b, quoted', 'a'])].slice(4), [-0.001, 3.5]);
  assert.throws(() => selectColumns(t, ['a', 'zzz']), /lacks: zzz/);
});

test('CSV tables: bad cells name the file, line and column', () => {
  assert.throws(() => parseCsvTable('a,b\n1,x\n', { source: 't.csv' }), /t\.csv: line 2, column 'b': 'x' is not a finite decimal number/);
  for (const bad of ['0x1', 'Infinity', '1e999']) assert.throws(() => parseCsvTable(`a,b\n1,${bad}\n`, { source: 't.csv' }), new RegExp(`'${bad}' is not a finite decimal number`));
  assert.equal(parseCsvTable('a,b\n1,NA\n,2\n', { source: 't.csv' }).missing, 2);
  assert.throws(() => parseCsvTable('a,b\n1\n', { source: 't.csv' }), /t\.csv: line 2 has 1 fields, the header 2/);
  assert.throws(() => parseCsvTable('a,b\n1,2\n', { source: 't.csv', target: 'c' }), /no column named 'c'/);
});

test('the bundled breast-cancer table: 569 patients, 30 features, 212 malignant', () => {
  const t = readCsvTable(`${FIXTURES}../../../data/breast_cancer_wisconsin.csv`, { target: 'malignant' });
  assert.equal(t.n, 569);
  assert.equal(t.d, 30);
  assert.equal(t.y!.reduce((a, b) => a + b, 0), 212);
  assert.equal(t.X[0], 17.99);
});
