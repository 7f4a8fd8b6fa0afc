import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { loadMedMnist } from '../data/medmnist.js';
import { resize } from '../data/resize.js';
import { toMinusOneOne } from '../data/transforms.js';
import { decodePng } from '../io/image.js';
import { repoRoot } from '../testing/paths.js';
import { makeSamples } from './server/samples.js';
import { rgbaToTensor } from './decode.js';
import { cardInput, prepareInput, softmaxRow } from './preprocess.js';
import { matchChannels } from '../data/preprocessing.js';

const NPZ = join(repoRoot, 'data', 'pneumoniamnist.npz');

test("a bundled sample PNG becomes exactly the input candor explain builds from the dataset", () => {
  const samples = makeSamples(NPZ);
  assert.equal(samples.length, 8);
  const ds = loadMedMnist(NPZ, 'test', { limit: 64 });
  for (const s of samples.slice(0, 3)) {
    const { x, display } = prepareInput(decodePng(s.png).tensor, { channels: 1, height: 64, width: 64, scale: 'pm1', resize: 'stretch' });
    const row = ds.images.slice0(s.index, s.index + 1);
    const cli = toMinusOneOne(resize(row, [64, 64], { antialias: true }));
    assert.deepEqual(x.shape, [1, 1, 64, 64]);
    assert.deepEqual(display.shape, [1, 64, 64]);
    assert.deepEqual(x.data, cli.data);
    assert.equal(s.label, ds.classNames[ds.task === 'single' ? ds.labels[s.index]! : 0]);
  }
});

test('canvas pixels: gray images stay one channel, colour images keep three, values /255', () => {
  const gray = rgbaToTensor(new Uint8ClampedArray([0, 0, 0, 255, 255, 255, 255, 9]), 2, 1);
  assert.deepEqual(gray.shape, [1, 1, 2]);
  assert.deepEqual(Array.from(gray.data), [0, 1]);
  const rgb = rgbaToTensor(new Uint8ClampedArray([255, 0, 0, 255, 0, 51, 0, 255]), 2, 1);
  assert.deepEqual(rgb.shape, [3, 1, 2]);
  assert.deepEqual(Array.from(rgb.data), [1, 0, 0, 0.2, 0, 0].map((v) => Math.fround(v)));
});

test('channel conversion to the model: RGB to gray by BT.601 luma, gray repeated for RGB models', () => {
  const rgb = new Tensor(Float32Array.from([1, 0, 0, 1, 0, 0]), [3, 1, 2]);
  assert.deepEqual(Array.from(matchChannels(rgb, 1).data), [Math.fround(0.299), Math.fround(0.587)]);
  const { x } = prepareInput(new Tensor(Float32Array.from([0, 1]), [1, 1, 2]), { channels: 3, height: 1, width: 2, scale: 'unit', resize: 'stretch' });
  assert.deepEqual(x.shape, [1, 3, 1, 2]);
  assert.deepEqual(Array.from(x.data), [0, 1, 0, 1, 0, 1]);
  const im = prepareInput(new Tensor(Float32Array.from([0.485, 0.456, 0.406]), [3, 1, 1]), { channels: 3, height: 1, width: 1, scale: 'imagenet', resize: 'stretch' });
  for (const v of im.x.data) assert.ok(Math.abs(v) < 1e-6);
});

test('model cards name the preprocessing (their record, else the normalisation they name); softmax is stable', () => {
  assert.equal(cardInput({ input: { normalization: '(x − 0.5) / 0.5 of [0, 1] pixels, i.e. [-1, 1]' } }).scale, 'pm1');
  assert.equal(cardInput({ input: { normalization: 'ImageNet mean/std' } }).scale, 'imagenet');
  assert.deepEqual(cardInput({ preprocessing: { scale: 'byte', window: null, axis: 'k', resize: 'pad' } }), { scale: 'byte', axis: 'k', resize: 'pad' });
  assert.equal(cardInput({}).scale, undefined);
  const p = softmaxRow([1000, 1000]);
  assert.deepEqual(p, [0.5, 0.5]);
});
