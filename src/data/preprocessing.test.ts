import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { resize } from './resize.js';
import { cardPreprocessing, DEFAULT_PREPROCESSING, fitImage, matchChannels, PreprocessLog, preprocessingRecord, parsePreprocessingRecord, toModelSize } from './preprocessing.js';
import { describeScale } from './transforms.js';

const ramp = (c: number, h: number, w: number) => new Tensor(Float32Array.from({ length: c * h * w }, (_, i) => (i % (h * w)) / (h * w) + 0.01), [c, h, w]);

test('stretch resizes to the model size and announces a changed aspect ratio; the same aspect is a plain resize', () => {
  const log = new PreprocessLog();
  const wide = ramp(1, 4, 8);
  const s = fitImage(wide, [4, 4], 'stretch', log);
  assert.deepEqual(s.shape, [1, 4, 4]);
  assert.deepEqual(s.data, resize(wide.reshape([1, 1, 4, 8]), [4, 4], { antialias: true }).data);
  fitImage(ramp(1, 8, 8), [4, 4], 'stretch', log);
  assert.equal(log.images, 2);
  assert.equal(log.resized, 2);
  assert.equal(log.aspectChanged, 1);
  assert.match(log.notes()[0]!, /^1 of 2 images had another aspect ratio than the model's input \(e\.g\. 8×4 → 4×4 \(width×height\)\) and were stretched/);
});

test('pad keeps the aspect ratio: the image scaled to fit, centred on black', () => {
  const log = new PreprocessLog();
  const wide = ramp(1, 4, 8); // width 8, height 4 → 4×2 inside 4×4
  const p = fitImage(wide, [4, 4], 'pad', log);
  assert.deepEqual(p.shape, [1, 4, 4]);
  const inner = resize(wide.reshape([1, 1, 4, 8]), [2, 4], { antialias: true }).data;
  assert.deepEqual(Array.from(p.data.subarray(0, 4)), [0, 0, 0, 0]); // top row: padding
  assert.deepEqual(Array.from(p.data.subarray(4, 12)), Array.from(inner)); // rows 1–2: the image
  assert.deepEqual(Array.from(p.data.subarray(12, 16)), [0, 0, 0, 0]);
  assert.equal(log.padded, 1);
  assert.equal(log.aspectChanged, 0);
});

test('crop keeps the aspect ratio: the image scaled to fill, its centre kept', () => {
  const tall = ramp(1, 8, 4); // → 8×4 fills 4 wide at 8 tall: rows 2..5 kept
  const c = fitImage(tall, [4, 4], 'crop');
  const full = resize(tall.reshape([1, 1, 8, 4]), [8, 4], { antialias: true }).data;
  assert.deepEqual(Array.from(c.data), Array.from(full.subarray(2 * 4, 6 * 4)));
});

test('channels: RGB to grey by BT.601 luma (counted), grey repeated for RGB models, other counts refused', () => {
  const log = new PreprocessLog();
  const rgb = new Tensor(Float32Array.from([1, 0, 0, 1, 0, 0]), [3, 1, 2]);
  assert.deepEqual(Array.from(matchChannels(rgb, 1, log).data), [Math.fround(0.299), Math.fround(0.587)]);
  assert.deepEqual(Array.from(matchChannels(new Tensor(Float32Array.from([0.5]), [1, 1, 1]), 3, log).data), [0.5, 0.5, 0.5]);
  assert.deepEqual([log.rgbToGrey, log.greyToRgb], [1, 1]);
  assert.match(log.notes().join('\n'), /1 colour images were converted to grey \(BT\.601 luma\)/);
  assert.throws(() => matchChannels(new Tensor(new Float32Array(2), [2, 1, 1]), 1, undefined, 'x.png'), /x\.png: the image has 2 channels; the model takes 1/);
  const batch = toModelSize(new Tensor(new Float32Array(2 * 3 * 2 * 2).fill(1), [2, 3, 2, 2]), 1, [3, 3], 'stretch');
  assert.deepEqual(batch.shape, [2, 1, 3, 3]);
  for (const v of batch.data) assert.ok(Math.abs(v - 1) < 1e-6);
});

test("a model card's preprocessing: its record, else the scale its normalisation names; invalid fields are ignored", () => {
  const rec = preprocessingRecord({ ...DEFAULT_PREPROCESSING, window: [40, 400], resize: 'pad' });
  assert.deepEqual(rec, { scale: 'pm1', window: [40, 400], axis: 'k', resize: 'pad' });
  assert.deepEqual(parsePreprocessingRecord(rec), { scale: 'pm1', window: [40, 400], axis: 'k', resize: 'pad' });
  assert.deepEqual(cardPreprocessing({ preprocessing: rec }), { scale: 'pm1', window: [40, 400], axis: 'k', resize: 'pad' });
  assert.deepEqual(cardPreprocessing({ input: { normalization: describeScale('imagenet') } }), { scale: 'imagenet' });
  assert.deepEqual(cardPreprocessing({ input: { normalization: '[0, 255] pixels' } }), { scale: 'byte' });
  assert.deepEqual(cardPreprocessing({ preprocessing: { scale: 'nope', axis: 'z', resize: 1, window: [1, 0] } }), {});
  assert.deepEqual(cardPreprocessing(undefined), {});
});
