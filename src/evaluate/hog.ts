/**
 * Histogram of oriented gradients exactly as scikit-image 0.19's `skimage.feature.hog` computes it
 * for a 2-D float64 image with `transform_sqrt=False, feature_vector=True` (Dalal & Triggs 2005):
 *
 *  1. gradients by central differences, zero on the first/last row (g_row) and column (g_col);
 *  2. magnitude = hypot(g_col, g_row), orientation = degrees(atan2(g_row, g_col)) mod 180;
 *  3. per cell (cells tile the image from the top-left; a partial last row/column of pixels is
 *     dropped) and per orientation bin [k·180/B, (k+1)·180/B): the sum of magnitudes / cell area.
 *     skimage's Cython accumulates this sum in single precision; so does this port (Math.fround),
 *     which is why it matches to float32 rounding rather than float64;
 *  4. blocks of cells_per_block cells, sliding by one cell, normalised ('L2-Hys' by default:
 *     v/√(‖v‖² + ε²), clipped at 0.2, renormalised; ε = 1e-5), concatenated in (block row,
 *     block col, cell row, cell col, bin) order.
 */

export type BlockNorm = 'L1' | 'L1-sqrt' | 'L2' | 'L2-Hys';

export interface HogOptions {
  /** Bins over 0–180° (default 9). */
  orientations?: number;
  /** Cell size [rows, cols] in pixels (default [8, 8], skimage's default). */
  pixelsPerCell?: readonly [number, number];
  /** Block size [rows, cols] in cells (default [3, 3]). */
  cellsPerBlock?: readonly [number, number];
  blockNorm?: BlockNorm;
}

function mod180(x: number): number {
  // numpy's float remainder: result takes the sign of the divisor
  let m = x % 180;
  if (m !== 0 && m < 0) m += 180;
  return m === 0 ? 0 : m;
}

/** HOG feature vector of an [h,w] image (flat row-major). */
export function hog(img: ArrayLike<number>, h: number, w: number, options: HogOptions = {}): Float64Array {
  const orientations = options.orientations ?? 9;
  const [cr, cc] = options.pixelsPerCell ?? [8, 8];
  const [br, bc] = options.cellsPerBlock ?? [3, 3];
  const norm = options.blockNorm ?? 'L2-Hys';
  if (img.length !== h * w) throw new Error(`hog: image must have ${h}×${w} = ${h * w} values, got ${img.length}`);
  for (const [v, what] of [[orientations, 'orientations'], [cr, 'pixelsPerCell'], [cc, 'pixelsPerCell'], [br, 'cellsPerBlock'], [bc, 'cellsPerBlock']] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`hog: ${what} must be positive integers, got ${v}`);
  }
  const ncr = Math.floor(h / cr);
  const ncc = Math.floor(w / cc);
  const nbr = ncr - br + 1;
  const nbc = ncc - bc + 1;
  if (nbr < 1 || nbc < 1) {
    throw new Error(`hog: a ${h}×${w} image is too small for pixelsPerCell [${cr}, ${cc}] and cellsPerBlock [${br}, ${bc}] (needs at least ${cr * br}×${cc * bc})`);
  }
  const mag = new Float64Array(h * w);
  const ori = new Float64Array(h * w);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const gr = i === 0 || i === h - 1 ? 0 : img[(i + 1) * w + j]! - img[(i - 1) * w + j]!;
      const gc = j === 0 || j === w - 1 ? 0 : img[i * w + j + 1]! - img[i * w + j - 1]!;
      mag[i * w + j] = Math.hypot(gc, gr);
      ori[i * w + j] = mod180(Math.atan2(gr, gc) * (180 / Math.PI));
    }
  }
  // orientation histogram [ncr, ncc, orientations], float32 accumulation as skimage's cell_hog. One pass
  // over each cell's pixels (skimage makes one per bin): each bin still sums its pixels in row-major order,
  // so every float32 sum is the same.
  const per180 = Math.fround(180 / orientations);
  const edges = Float64Array.from({ length: orientations + 1 }, (_, o) => Math.fround(per180 * o));
  const hist = new Float64Array(ncr * ncc * orientations);
  const area = cr * cc;
  const totals = new Float64Array(orientations);
  for (let ri = 0; ri < ncr; ri++) {
    for (let ci = 0; ci < ncc; ci++) {
      totals.fill(0);
      for (let y = ri * cr; y < (ri + 1) * cr; y++) {
        for (let x = ci * cc; x < (ci + 1) * cc; x++) {
          const t = ori[y * w + x]!;
          // the bin o with edges[o] ≤ t < edges[o + 1] (skimage's test), if any
          let o = Math.min(orientations - 1, Math.max(0, Math.floor(t / per180)));
          while (o > 0 && t < edges[o]!) o--;
          while (o < orientations - 1 && t >= edges[o + 1]!) o++;
          if (t < edges[o]! || t >= edges[o + 1]!) continue;
          totals[o] = Math.fround(totals[o]! + mag[y * w + x]!);
        }
      }
      for (let o = 0; o < orientations; o++) hist[(ri * ncc + ci) * orientations + o] = Math.fround(totals[o]! / area);
    }
  }
  const blockLen = br * bc * orientations;
  const out = new Float64Array(nbr * nbc * blockLen);
  const eps = 1e-5;
  const block = new Float64Array(blockLen);
  for (let r = 0; r < nbr; r++) {
    for (let c = 0; c < nbc; c++) {
      let k = 0;
      for (let i = 0; i < br; i++) for (let j = 0; j < bc; j++) for (let o = 0; o < orientations; o++) block[k++] = hist[((r + i) * ncc + (c + j)) * orientations + o]!;
      normalizeBlock(block, norm, eps);
      out.set(block, (r * nbc + c) * blockLen);
    }
  }
  return out;
}

function normalizeBlock(v: Float64Array, norm: BlockNorm, eps: number): void {
  const l1 = () => v.reduce((s, x) => s + Math.abs(x), 0);
  const l2 = () => Math.sqrt(v.reduce((s, x) => s + x * x, 0) + eps * eps);
  if (norm === 'L1' || norm === 'L1-sqrt') {
    const d = l1() + eps;
    for (let i = 0; i < v.length; i++) v[i] = norm === 'L1' ? v[i]! / d : Math.sqrt(v[i]! / d);
  } else if (norm === 'L2' || norm === 'L2-Hys') {
    let d = l2();
    for (let i = 0; i < v.length; i++) v[i] = v[i]! / d;
    if (norm === 'L2-Hys') {
      for (let i = 0; i < v.length; i++) v[i] = Math.min(v[i]!, 0.2);
      d = l2();
      for (let i = 0; i < v.length; i++) v[i] = v[i]! / d;
    }
  } else throw new Error(`hog: unknown blockNorm '${norm as string}' (L1, L1-sqrt, L2, L2-Hys)`);
}
