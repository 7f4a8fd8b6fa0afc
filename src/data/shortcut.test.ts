import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { renderText, GLYPH_HEIGHT } from './font.js';
import {
  artifactMask, injectShortcut, injectShortcutDataset, parseShortcut, removeArtifact, tutorialShortcut,
} from './shortcut.js';

function noise(N: number, C: number, H: number, W: number, seed = 5): Tensor {
  const rng = new Rng(seed);
  return new Tensor(rng.fillUniform(new Float32Array(N * C * H * W), 0.1, 0.8), [N, C, H, W]);
}

/** The set of (y, x) where a H×W mask is 1, as "y,x" strings. */
function onPixels(m: ArrayLike<number>, W: number): Set<string> {
  const s = new Set<string>();
  for (let i = 0; i < m.length; i++) if (m[i]) s.add(`${Math.floor(i / W)},${i % W}`);
  return s;
}

function rectSet(y0: number, x0: number, h: number, w: number): Set<string> {
  const s = new Set<string>();
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) s.add(`${y},${x}`);
  return s;
}

test('tutorial corner squares: pneumonia top-left, normal bottom-right, 8 px at 64, white = image max', () => {
  const imgs = noise(4, 1, 64, 64);
  const labels = Int32Array.from([1, 0, 1, 0]);
  const r = injectShortcut(imgs, labels, { perClass: tutorialShortcut(64) });
  assert.deepEqual([...r.marked], [1, 1, 1, 1]);
  assert.deepEqual(r.mask.shape, [4, 64, 64]);
  const P = 64 * 64;
  for (let i = 0; i < 4; i++) {
    const want = labels[i] === 1 ? rectSet(0, 0, 8, 8) : rectSet(56, 56, 8, 8);
    assert.deepEqual(onPixels(r.mask.data.subarray(i * P, (i + 1) * P), 64), want, `image ${i}`);
    const orig = imgs.data.subarray(i * P, (i + 1) * P);
    const max = Math.max(...orig);
    for (let p = 0; p < P; p++) {
      const v = r.images.data[i * P + p]!;
      assert.equal(v, r.mask.data[i * P + p] ? max : orig[p]); // artifact = max, elsewhere untouched
    }
  }
  assert.equal(imgs.data[0], noise(1, 1, 64, 64).data[0]); // input not modified
  assert.deepEqual(tutorialShortcut(28)[1], { kind: 'square', size: 4, at: 'top-left' });
});

test('stripes, margins, explicit positions, and burned-in text cover exactly the stated pixels', () => {
  const H = 20, W = 30;
  assert.deepEqual(onPixels(artifactMask({ kind: 'stripe', side: 'top', width: 2 }, H, W), W), rectSet(0, 0, 2, W));
  assert.deepEqual(onPixels(artifactMask({ kind: 'stripe', side: 'right', width: 3, margin: 1 }, H, W), W), rectSet(0, 26, H, 3));
  assert.deepEqual(onPixels(artifactMask({ kind: 'stripe', side: 'bottom', width: 1 }, H, W), W), rectSet(19, 0, 1, W));
  assert.deepEqual(onPixels(artifactMask({ kind: 'square', size: 4, at: 'top-right', margin: 2 }, H, W), W), rectSet(2, 24, 4, 4));
  assert.deepEqual(onPixels(artifactMask({ kind: 'square', size: 3, at: { x: 5, y: 7 } }, H, W), W), rectSet(7, 5, 3, 3));
  // clipped at the border
  assert.deepEqual(onPixels(artifactMask({ kind: 'square', size: 4, at: { x: 28, y: -1 } }, H, W), W), rectSet(0, 28, 3, 2));
  assert.throws(() => artifactMask({ kind: 'square', size: 4, at: { x: 40, y: 0 } }, H, W), /falls outside/);

  // "L" at scale 2, bottom-left with margin 1: its vertical bar and its foot, as drawn in font.ts.
  const m = artifactMask({ kind: 'text', text: 'L', scale: 2, at: 'bottom-left', margin: 1 }, H, W);
  const top = H - 1 - GLYPH_HEIGHT * 2;
  const want = new Set([...rectSet(top, 1, 14, 2), ...rectSet(top + 12, 1, 2, 10)]);
  assert.deepEqual(onPixels(m, W), want);
  const ap = renderText('AP');
  assert.equal(ap.width, 11);
  assert.equal(ap.height, 7);
  assert.equal(ap.bits[0 * 11 + 6], 1); // P's top-left cell
  assert.equal(ap.bits[0 * 11 + 5], 0); // the gap column
  assert.throws(() => renderText('€'), /no glyph for '€'/);
});

test('partial correlation: marking rate within a binomial band, seeded, only the listed classes', () => {
  const N = 2000;
  const imgs = new Tensor(new Float32Array(N * 8 * 8).fill(0.3), [N, 1, 8, 8]);
  const labels = Int32Array.from({ length: N }, (_, i) => i % 2);
  const opts = { perClass: { 1: { kind: 'square', size: 2 } as const }, probability: 0.7, seed: 11 };
  const r = injectShortcut(imgs, labels, opts);
  let marked1 = 0;
  for (let i = 0; i < N; i++) {
    if (labels[i] === 0) assert.equal(r.marked[i], 0);
    else marked1 += r.marked[i]!;
    const inMask = r.mask.data.subarray(i * 64, (i + 1) * 64).reduce((a, b) => a + b, 0);
    assert.equal(inMask, r.marked[i] ? 4 : 0);
  }
  const n1 = N / 2;
  const sd = Math.sqrt(n1 * 0.7 * 0.3);
  assert.ok(Math.abs(marked1 - 0.7 * n1) < 4 * sd, `marked ${marked1} of ${n1}`);
  assert.deepEqual(injectShortcut(imgs, labels, opts).marked, r.marked);
  assert.notDeepEqual(injectShortcut(imgs, labels, { ...opts, seed: 12 }).marked, r.marked);
  // per-class probabilities and fixed intensity
  const q = injectShortcut(imgs, labels, { perClass: tutorialShortcut(8, 16), probability: { 0: 0, 1: 1 }, intensity: 2 });
  assert.equal(q.marked.reduce((a, b) => a + b, 0), N / 2);
  assert.equal(q.images.data[64], 2);
  assert.throws(() => injectShortcut(imgs, labels, { ...opts, probability: 1.5 }), /must be in \[0,1\]/);
});

test('removeArtifact restores the original pixels exactly (RGB), or fills a constant', () => {
  const imgs = noise(6, 3, 16, 16, 9);
  const labels = Int32Array.from([0, 1, 2, 0, 1, 2]);
  const r = injectShortcut(imgs, labels, {
    perClass: { 0: { kind: 'text', text: 'R', at: 'top-right' }, 1: { kind: 'stripe', side: 'left', width: 2 } },
    intensity: 'image-min',
    seed: new Rng(1),
  });
  assert.deepEqual([...r.marked], [1, 1, 0, 1, 1, 0]);
  assert.notDeepEqual(r.images.data, imgs.data);
  assert.deepEqual(removeArtifact(r.images, r.mask, imgs).data, imgs.data);
  const filled = removeArtifact(r.images, r.mask, 0.5);
  const P = 256;
  for (let i = 0; i < 6; i++) for (let c = 0; c < 3; c++) for (let p = 0; p < P; p++) {
    const j = (i * 3 + c) * P + p;
    assert.equal(filled.data[j], r.mask.data[i * P + p] ? 0.5 : imgs.data[j]);
  }
  assert.throws(() => removeArtifact(r.images, r.mask, noise(1, 3, 16, 16)), /does not match/);
});

test('dataset wrapper and command-line specs', () => {
  const ds = { task: 'single' as const, images: noise(2, 1, 64, 64), labels: Int32Array.from([1, 0]), classNames: ['normal', 'pneumonia'], source: 'toy' };
  const out = injectShortcutDataset(ds, { perClass: tutorialShortcut() });
  assert.match(out.dataset.source, /\[shortcut\]/);
  assert.equal(out.mask.data[0], 1);
  assert.deepEqual(parseShortcut('corner:8').perClass, tutorialShortcut(64, 8));
  assert.deepEqual(parseShortcut('corner:8@0.9', 128), { perClass: tutorialShortcut(128, 8), probability: 0.9 });
  assert.equal((parseShortcut('stripe:3').perClass[1] as { width: number }).width, 3);
  assert.equal((parseShortcut('text:AP:2').perClass[0] as { text: string }).text, 'AP');
  assert.throws(() => parseShortcut('blob'), /unknown kind 'blob'/);
  assert.throws(() => parseShortcut('corner:x'), /not a positive integer/);
});
