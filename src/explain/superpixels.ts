/**
 * Feature masks for feature ablation: a regular grid, or SLIC superpixels (Achanta et al. 2012).
 *
 * SLIC here is the plain algorithm on one image [C,H,W] (channels as the colour vector, each image
 * min–max scaled to [0,1] first; no Lab conversion): K centres on a regular grid of step
 * S = √(HW/K), then `iterations` (10) rounds of assigning each pixel, within a 2S × 2S window of each
 * centre, to the centre minimising d² = ‖c_p − c_k‖² + (d_xy/S)²·m² (m = `compactness`, default 0.1
 * for [0,1] intensities), and moving the centres to the means. Then connectivity is enforced as
 * skimage does in spirit: every 4-connected component becomes its own segment, and components
 * smaller than S²/4 pixels are merged into the neighbouring segment met first in raster order.
 * Labels are 0..L−1 in raster order of first appearance. Differences from skimage's `slic`: no Lab
 * conversion, no centre perturbation to the lowest-gradient position, no Gaussian pre-smoothing.
 */

/** A grid of cells of `cell` × `cell` pixels (the last row / column of cells may be smaller): ids in raster order. */
export function gridMask(h: number, w: number, cell: number | readonly [number, number]): Int32Array {
  return gridMaskNd([h, w], typeof cell === 'number' ? cell : [...cell]);
}

/**
 * Cells of `cell` voxels per axis over an extent of any rank (the last cells may be smaller), ids in C
 * order of the cell grid: supervoxels on a grid for volumes.
 */
export function gridMaskNd(spatial: readonly number[], cell: number | readonly number[]): Int32Array {
  const cs = typeof cell === 'number' ? spatial.map(() => cell) : [...cell];
  if (cs.length !== spatial.length || !cs.every((c) => Number.isInteger(c) && c >= 1)) throw new Error(`feature mask: grid cell must be a positive integer (or one per spatial axis: ${spatial.length}), got ${String(cell)}`);
  const cells = spatial.map((len, a) => Math.ceil(len / cs[a]!));
  const total = spatial.reduce((a, b) => a * b, 1);
  const out = new Int32Array(total);
  const idx = new Array<number>(spatial.length).fill(0);
  for (let p = 0; p < total; p++) {
    let id = 0;
    for (let a = 0; a < spatial.length; a++) id = id * cells[a]! + Math.floor(idx[a]! / cs[a]!);
    out[p] = id;
    for (let a = spatial.length - 1; a >= 0; a--) {
      if (++idx[a]! < spatial[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

export interface SlicOptions {
  /** Approximate number of superpixels (default 64). */
  segments?: number;
  /** Spatial weight m (default 0.1). */
  compactness?: number;
  iterations?: number;
}

/** SLIC superpixels of one image (data [C,H,W], channel-major): labels [H·W]. */
export function slic(img: ArrayLike<number>, c: number, h: number, w: number, options: SlicOptions = {}): Int32Array {
  const K = options.segments ?? 64;
  const m = options.compactness ?? 0.1;
  const iters = options.iterations ?? 10;
  if (!(Number.isInteger(K) && K >= 1)) throw new Error(`slic: segments must be a positive integer, got ${K}`);
  if (!(m >= 0)) throw new Error(`slic: compactness must be ≥ 0, got ${m}`);
  const hw = h * w;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < c * hw; i++) {
    lo = Math.min(lo, img[i]!);
    hi = Math.max(hi, img[i]!);
  }
  const scale = hi > lo ? 1 / (hi - lo) : 0;
  const col = new Float64Array(c * hw);
  for (let i = 0; i < c * hw; i++) col[i] = (img[i]! - lo) * scale;
  const S = Math.max(1, Math.sqrt(hw / K));
  // centres: [y, x, colour...]
  const ny = Math.max(1, Math.round(h / S));
  const nx = Math.max(1, Math.round(w / S));
  const centres: number[][] = [];
  for (let i = 0; i < ny; i++) {
    for (let j = 0; j < nx; j++) {
      const y = Math.min(h - 1, Math.floor(((i + 0.5) * h) / ny));
      const x = Math.min(w - 1, Math.floor(((j + 0.5) * w) / nx));
      centres.push([y, x, ...Array.from({ length: c }, (_, ch) => col[ch * hw + y * w + x]!)]);
    }
  }
  const label = new Int32Array(hw).fill(-1);
  const dist = new Float64Array(hw);
  const R = Math.ceil(S);
  const m2 = (m * m) / (S * S);
  for (let it = 0; it < iters; it++) {
    dist.fill(Infinity);
    centres.forEach((ctr, k) => {
      const cy = ctr[0]!, cx = ctr[1]!;
      for (let y = Math.max(0, Math.floor(cy - R)); y <= Math.min(h - 1, Math.ceil(cy + R)); y++) {
        for (let x = Math.max(0, Math.floor(cx - R)); x <= Math.min(w - 1, Math.ceil(cx + R)); x++) {
          const p = y * w + x;
          let dc = 0;
          for (let ch = 0; ch < c; ch++) dc += (col[ch * hw + p]! - ctr[2 + ch]!) ** 2;
          const d = dc + ((y - cy) ** 2 + (x - cx) ** 2) * m2;
          if (d < dist[p]!) {
            dist[p] = d;
            label[p] = k;
          }
        }
      }
    });
    const acc = centres.map(() => new Float64Array(3 + c));
    for (let p = 0; p < hw; p++) {
      const k = label[p]!;
      if (k < 0) continue;
      const a = acc[k]!;
      a[0]! += 1;
      a[1]! += Math.floor(p / w);
      a[2]! += p % w;
      for (let ch = 0; ch < c; ch++) a[3 + ch]! += col[ch * hw + p]!;
    }
    acc.forEach((a, k) => {
      if (a[0]! > 0) centres[k] = Array.from({ length: 2 + c }, (_, j) => a[1 + j]! / a[0]!);
    });
  }
  // Pixels no window reached (possible only for tiny S rounding): nearest centre in space.
  for (let p = 0; p < hw; p++) {
    if (label[p]! >= 0) continue;
    let best = 0;
    let bd = Infinity;
    centres.forEach((ctr, k) => {
      const d = (Math.floor(p / w) - ctr[0]!) ** 2 + ((p % w) - ctr[1]!) ** 2;
      if (d < bd) (bd = d), (best = k);
    });
    label[p] = best;
  }
  return enforceConnectivity(label, h, w, Math.max(1, Math.floor((S * S) / 4)));
}

/** Split labels into 4-connected components, merge components below `minSize` into a neighbour, relabel 0..L−1. */
export function enforceConnectivity(label: Int32Array, h: number, w: number, minSize: number): Int32Array {
  const hw = h * w;
  const comp = new Int32Array(hw).fill(-1);
  const sizes: number[] = [];
  const stack: number[] = [];
  for (let p0 = 0; p0 < hw; p0++) {
    if (comp[p0]! >= 0) continue;
    const id = sizes.length;
    let size = 0;
    comp[p0] = id;
    stack.push(p0);
    while (stack.length) {
      const p = stack.pop()!;
      size++;
      const y = Math.floor(p / w), x = p % w;
      for (const q of [y > 0 ? p - w : -1, y < h - 1 ? p + w : -1, x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1]) {
        if (q >= 0 && comp[q]! < 0 && label[q] === label[p]) {
          comp[q] = id;
          stack.push(q);
        }
      }
    }
    sizes.push(size);
  }
  // Merge small components into the first neighbouring component (raster order) that is not itself being merged into it.
  const parent = sizes.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let p = 0; p < hw; p++) {
    const a = find(comp[p]!);
    if (sizes[a]! >= minSize) continue;
    const y = Math.floor(p / w), x = p % w;
    for (const q of [y > 0 ? p - w : -1, x > 0 ? p - 1 : -1, y < h - 1 ? p + w : -1, x < w - 1 ? p + 1 : -1]) {
      if (q < 0) continue;
      const b = find(comp[q]!);
      if (b !== a) {
        parent[a] = b;
        sizes[b]! += sizes[a]!;
        break;
      }
    }
  }
  const out = new Int32Array(hw);
  const ids = new Map<number, number>();
  for (let p = 0; p < hw; p++) {
    const r = find(comp[p]!);
    let id = ids.get(r);
    if (id === undefined) ids.set(r, (id = ids.size));
    out[p] = id;
  }
  return out;
}
