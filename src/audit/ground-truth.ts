/**
 * Ground-truth lesion masks for the localisation benchmark (`candor audit --masks SPEC`), one per sampled test
 * image at the model's input size:
 *  - what `--region` reads (sections/region.ts): `masks` (the data's own: `<split>_masks` of a .npz, or
 *    masks.csv of NIfTI segmentations beside a CSV of volumes), a mask .npy, or a box;
 *  - a folder of mask images (PNG/JPEG; non-zero = lesion) named as the data's images — the same relative path,
 *    or the same file name, with any image extension — each taken through the images' own resize policy
 *    (stretch, pad or crop: the mask lands where the lesion lands) and kept where it exceeds 0.5;
 *  - a CSV of boxes, one lesion per row, several rows for several lesions: `file,x,y,w,h` in pixels of the image
 *    file (matched like the mask images; the box is drawn at the file's size and resized with it), or for data
 *    without files (a .npz) `row,x,y,w,h` in pixels of the model input, `row` the test-split index.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { decodeImage } from '../io/image.js';
import { fitImage, type ResizePolicy } from '../data/preprocessing.js';
import { splitCsvLine } from '../io/csv.js';
import { readUtf8File } from '../io/text.js';
import { regionMasks } from './sections/region.js';

export interface GroundTruthContext {
  spec: string;
  testRows: Int32Array;
  testCount: number;
  spatial: readonly number[];
  data: { path: string; whole: boolean; origins?: readonly string[] };
  resize: ResizePolicy;
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** The data file an origin names (origins are relative to the data folder; '#…' marks a frame). */
function originFile(dataPath: string, origin: string): string {
  const f = origin.replace(/#.*$/, '');
  return isAbsolute(f) ? f : join(dataPath, f);
}

function stem(p: string): string {
  return basename(p, extname(p));
}

/** The mask file for an origin in a folder: same relative path, else same name, with any image extension. */
function maskFileFor(dir: string, origin: string, byStem: Map<string, string>): string | undefined {
  const rel = origin.replace(/#.*$/, '');
  for (const c of [join(dir, rel), ...['.png', '.jpg', '.jpeg'].map((e) => join(dir, rel.slice(0, rel.length - extname(rel).length) + e))]) if (existsSync(c) && statSync(c).isFile()) return c;
  return byStem.get(stem(rel));
}

/** A [1, h, w] mask (0/1) through the images' resize policy, then > 0.5, into out at offset. */
function fitMask(mask: Float32Array, h: number, w: number, ctx: GroundTruthContext, out: Uint8Array, offset: number): void {
  const [H, W] = ctx.spatial as [number, number];
  const fitted = fitImage(new Tensor(mask, [1, h, w]), [H, W], ctx.resize);
  for (let p = 0; p < H * W; p++) out[offset + p] = fitted.data[p]! > 0.5 ? 1 : 0;
}

export function groundTruthMasks(ctx: GroundTruthContext): { masks: Tensor<Uint8Array>; description: string } {
  const { spec } = ctx;
  const isDir = existsSync(spec) && statSync(spec).isDirectory();
  if (!isDir && !/\.csv$/i.test(spec)) return regionMasks(spec, ctx.testRows, ctx.testCount, ctx.spatial, ctx.data, '--masks');
  if (ctx.spatial.length !== 2) throw new Error(`--masks ${spec}: mask images and box CSVs are for 2-D images; for volumes use --masks masks (NIfTI segmentations listed in masks.csv) or a mask .npy`);
  const [H, W] = ctx.spatial as [number, number];
  const hw = H * W;
  const n = ctx.testRows.length;
  const out = new Uint8Array(n * hw);
  // image folders and CSVs record each image's file; a .npz's origins name rows, not files
  const origins = /\.npz$/i.test(ctx.data.path) ? undefined : ctx.data.origins;
  if (isDir) {
    if (!origins) throw new Error(`--masks ${spec}: a folder of mask images is matched to the images by file name, and the data ${ctx.data.path} have no files (use a mask .npy in test-split order, or the data's own masks)`);
    const byStem = new Map<string, string>();
    for (const f of readdirSync(spec)) if (IMAGE_EXT.test(f)) byStem.set(stem(f), join(spec, f));
    for (let i = 0; i < n; i++) {
      const origin = origins[ctx.testRows[i]!]!;
      const file = maskFileFor(spec, origin, byStem);
      if (!file) throw new Error(`--masks ${spec}: no mask image for ${origin} (looked for the same relative path or file name with .png/.jpg)`);
      const t = decodeImage(new Uint8Array(readFileSync(file)), file, { channels: 1 }).tensor;
      fitMask(Float32Array.from(t.data, (v) => (v > 0 ? 1 : 0)), t.shape[1]!, t.shape[2]!, ctx, out, i * hw);
    }
    return { masks: new Tensor(out, [n, H, W]), description: `mask images in ${spec}` };
  }
  if (!existsSync(spec)) throw new Error(`--masks ${spec}: no such file`);
  const rows = readUtf8File(spec).split(/\r?\n/).map((line, k) => ({ line, k, f: splitCsvLine(line) })).filter(({ line }) => line.trim() !== '');
  const header = rows[0] && !/^\d/.test(rows[0].f[1] ?? '') ? rows.shift()!.f.map((c) => c.trim().toLowerCase()) : undefined;
  const byRow = header?.[0] === 'row' || (!header && !origins);
  if (byRow && origins) throw new Error(`--masks ${spec}: rows are numbered ('row,x,y,w,h'), but the data ${ctx.data.path} have files: name them ('file,x,y,w,h', boxes in the file's pixels)`);
  if (!byRow && !origins) throw new Error(`--masks ${spec}: boxes name files, but the data ${ctx.data.path} have none: number the test-split rows instead ('row,x,y,w,h', boxes in model-input pixels)`);
  const boxes = new Map<string, [number, number, number, number][]>();
  for (const { line, k, f } of rows) {
    const v = f.slice(1, 5).map(Number);
    if (f.length < 5 || !f[0] || v.some((x) => !Number.isFinite(x)) || v[2]! <= 0 || v[3]! <= 0) throw new Error(`${spec}:${k + 1}: expected '${byRow ? 'row' : 'file'},x,y,w,h' with a positive width and height, got '${line}'`);
    const key = byRow ? String(Number(f[0])) : stem(f[0].trim());
    const list = boxes.get(key) ?? [];
    list.push(v as [number, number, number, number]);
    boxes.set(key, list);
  }
  for (let i = 0; i < n; i++) {
    const row = ctx.testRows[i]!;
    if (byRow) {
      for (const [x, y, w, h] of boxes.get(String(row)) ?? []) {
        for (let yy = Math.max(0, Math.floor(y)); yy < Math.min(H, Math.ceil(y + h)); yy++) for (let xx = Math.max(0, Math.floor(x)); xx < Math.min(W, Math.ceil(x + w)); xx++) out[i * hw + yy * W + xx] = 1;
      }
      continue;
    }
    const file = originFile(ctx.data.path, origins![row]!);
    const list = boxes.get(stem(file)) ?? [];
    if (!list.length) continue; // no lesion on this image: an empty mask, left out of the scores
    const [, ih, iw] = decodeImage(new Uint8Array(readFileSync(file)), file, { channels: 1 }).tensor.shape as [number, number, number];
    const m = new Float32Array(ih * iw);
    for (const [x, y, w, h] of list) {
      for (let yy = Math.max(0, Math.floor(y)); yy < Math.min(ih, Math.ceil(y + h)); yy++) for (let xx = Math.max(0, Math.floor(x)); xx < Math.min(iw, Math.ceil(x + w)); xx++) m[yy * iw + xx] = 1;
    }
    fitMask(m, ih, iw, ctx, out, i * hw);
  }
  return { masks: new Tensor(out, [n, H, W]), description: `boxes of ${spec}` };
}
