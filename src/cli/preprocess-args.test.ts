import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeResolved, resolvePreprocessing } from './preprocess-args.js';

test('preprocessing resolves flag, then model card, then default, and says when a flag overrides the card', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-pre-args-'));
  const model = join(dir, 'm.onnx');
  writeFileSync(join(dir, 'm.json'), JSON.stringify({ preprocessing: { scale: 'imagenet', window: [40, 400], axis: 'axial', resize: 'crop' } }));
  const none = resolvePreprocessing({});
  assert.deepEqual(none.pre, { scale: 'pm1', axis: 'k', resize: 'stretch' });
  assert.deepEqual(none.origin, { scale: 'default', window: 'default', axis: 'default', resize: 'default' });
  const carded = resolvePreprocessing({}, model);
  assert.deepEqual(carded.pre, { scale: 'imagenet', window: [40, 400], axis: 'axial', resize: 'crop' });
  assert.match(describeResolved(carded), /\(scale, window, axis, resize from the model card\)/);
  const flagged = resolvePreprocessing({ scale: 'pm1', axis: 'AXIAL', window: '50,350' }, model);
  assert.deepEqual(flagged.pre, { scale: 'pm1', window: [50, 350], axis: 'axial', resize: 'crop' });
  assert.deepEqual(flagged.origin, { scale: 'flag', window: 'flag', axis: 'flag', resize: 'card' });
  assert.match(describeResolved(flagged), /--scale overrides the card's "imagenet"; --window overrides the card's \[40,400\]/);
  assert.throws(() => resolvePreprocessing({ resize: 'squash' }), /--resize must be one of stretch, pad, crop, got 'squash'/);
  assert.throws(() => resolvePreprocessing({ axis: 'z' }), /--axis must be one of i, j, k, axial, coronal, sagittal, got 'z'/);
  assert.throws(() => resolvePreprocessing({ window: '40' }), /--window must be <centre>,<width>/);
  assert.throws(() => resolvePreprocessing({ scale: 'bytes' }), /--scale must be one of pm1, unit, imagenet, byte/);
});
