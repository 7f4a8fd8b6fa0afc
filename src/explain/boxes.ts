/**
 * Axis-aligned boxes in an image or volume of any spatial rank: the windows of occlusion and the
 * cells of feature ablation, in 2-D (H×W) and 3-D (D×H×W) alike.
 */

/** A per-axis size from a number (the same on every axis) or one value per spatial axis. */
export function perAxis(v: number | readonly number[] | undefined, dflt: number, rank: number, what: string, method: string): number[] {
  const p = v === undefined ? Array(rank).fill(dflt) : typeof v === 'number' ? Array(rank).fill(v) : [...v];
  if (p.length !== rank) throw new Error(`${method}: ${what} [${p.join(', ')}] has ${p.length} values; the input has ${rank} spatial axes (give one number or ${rank})`);
  for (const x of p) if (!Number.isInteger(x) || x < 1) throw new Error(`${method}: ${what} must be positive integers, got [${p.join(', ')}]`);
  return p;
}

/** Every combination of per-axis values, first axis slowest (C order). */
export function product(lists: readonly (readonly number[])[]): number[][] {
  let out: number[][] = [[]];
  for (const l of lists) out = out.flatMap((pre) => l.map((v) => [...pre, v]));
  return out;
}

/**
 * Visit the box [origin, origin + extent) of an array of extent `spatial` (C order) as runs along the
 * last axis: `run(offset, length)` per run.
 */
export function forEachRun(spatial: readonly number[], origin: readonly number[], extent: readonly number[], run: (offset: number, length: number) => void): void {
  const r = spatial.length;
  const strides = new Array<number>(r);
  strides[r - 1] = 1;
  for (let a = r - 2; a >= 0; a--) strides[a] = strides[a + 1]! * spatial[a + 1]!;
  const idx = new Array<number>(r - 1).fill(0);
  const rows = extent.slice(0, r - 1).reduce((a, b) => a * b, 1);
  for (let q = 0; q < rows; q++) {
    let off = origin[r - 1]!;
    for (let a = 0; a < r - 1; a++) off += (origin[a]! + idx[a]!) * strides[a]!;
    run(off, extent[r - 1]!);
    for (let a = r - 2; a >= 0; a--) {
      if (++idx[a]! < extent[a]!) break;
      idx[a] = 0;
    }
  }
}
