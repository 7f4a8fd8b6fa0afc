/**
 * Ground-truth masks for the localisation benchmark: mask images and box CSVs matched to an image folder's files
 * and taken through the images' own resize policy (pad: the lesion lands where the padded image puts it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng } from '../io/image.js';
import { Tensor } from '../tensor/tensor.js';
import { groundTruthMasks } from './ground-truth.js';

/** A black/white grey PNG of h×w with 255 inside the box. */
function png(h: number, w: number, box?: [number, number, number, number]): Uint8Array {
  const d = new Float32Array(h * w);
  if (box) for (let y = box[1]; y < box[1] + box[3]; y++) for (let x = box[0]; x < box[0] + box[2]; x++) d[y * w + x] = 1;
  return encodePng(new Tensor(d, [1, h, w]));
}

test('mask images and file boxes follow the images’ resize policy; missing masks and bad rows are one-line errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-gt-'));
  mkdirSync(join(dir, 'data', 'normal'), { recursive: true });
  mkdirSync(join(dir, 'data', 'lesion'), { recursive: true });
  mkdirSync(join(dir, 'masks'));
  // images 40 wide, 20 high; a lesion in the left half of b
  writeFileSync(join(dir, 'data', 'normal', 'a.png'), png(20, 40));
  writeFileSync(join(dir, 'data', 'lesion', 'b.png'), png(20, 40));
  writeFileSync(join(dir, 'masks', 'a.png'), png(20, 40));
  writeFileSync(join(dir, 'masks', 'b.png'), png(20, 40, [0, 0, 20, 20]));
  const ctx = (spec: string, resize: 'pad' | 'stretch') => ({ spec, testRows: Int32Array.from([0, 1]), testCount: 2, spatial: [32, 32], data: { path: join(dir, 'data'), whole: false, origins: ['normal/a.png', 'lesion/b.png'] }, resize });
  // pad: scaled by 0.8 to 16×32, centred: rows 8–23; the left half: columns 0–15
  const want = (y: number, x: number) => (y >= 8 && y < 24 && x < 16 ? 1 : 0);
  for (const spec of [join(dir, 'masks'), join(dir, 'boxes.csv')]) {
    writeFileSync(join(dir, 'boxes.csv'), 'file,x,y,w,h\nlesion/b.png,0,0,20,20\n');
    const { masks } = groundTruthMasks(ctx(spec, 'pad'));
    assert.deepEqual(masks.shape, [2, 32, 32]);
    assert.ok(masks.data.subarray(0, 1024).every((v) => v === 0), `${spec}: image a has no lesion`);
    let wrong = 0;
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) if (masks.data[1024 + y * 32 + x] !== want(y, x)) wrong++;
    assert.ok(wrong <= 32, `${spec}: ${wrong} pixels differ from the padded box (edges of the resize only)`);
    const stretched = groundTruthMasks(ctx(spec, 'stretch')).masks;
    assert.ok(stretched.data[1024 + 2 * 32 + 2] === 1, `${spec}: stretched, the box reaches the top rows`);
  }
  writeFileSync(join(dir, 'masks', 'b.png'), png(20, 40));
  assert.throws(() => groundTruthMasks({ ...ctx(join(dir, 'masks'), 'pad'), data: { path: join(dir, 'data'), whole: false, origins: ['normal/a.png', 'lesion/c.png'] } }), /no mask image for lesion\/c\.png/);
  writeFileSync(join(dir, 'bad.csv'), 'file,x,y,w,h\nlesion/b.png,0,0,-2,20\n');
  assert.throws(() => groundTruthMasks(ctx(join(dir, 'bad.csv'), 'pad')), /bad\.csv:2: expected 'file,x,y,w,h' with a positive width and height/);
  writeFileSync(join(dir, 'rows.csv'), 'row,x,y,w,h\n0,1,1,2,2\n');
  assert.throws(() => groundTruthMasks(ctx(join(dir, 'rows.csv'), 'pad')), /rows are numbered .* but the data .* have files/);
});
