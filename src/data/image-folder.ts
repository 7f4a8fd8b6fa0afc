/**
 * Datasets from PNG/JPEG files on disk (Node only):
 * - one sub-folder per class (`dir/normal/*.png`, `dir/pneumonia/*.jpg`): class names are the folder
 *   names sorted by code point, labels their positions (torchvision's ImageFolder convention);
 * - or a CSV of `file,label` rows (optional header), paths relative to the CSV's folder, labels given as
 *   class names (sorted to indices, unless `classNames` fixes the order) or as integer indices.
 *
 * Images are decoded by io/image.ts (alpha dropped). All must share one size unless `size` asks for a
 * resize (bilinear, antialiased: resize.ts); gray images are repeated to RGB when any image is colour,
 * unless `channels` says otherwise.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { decodeImage } from '../io/image.js';
import { checkDataset, defaultClassNames, type SingleLabelDataset } from './dataset.js';
import { resize } from './resize.js';

export interface ImageFolderOptions {
  /** A CSV of `file,label` (relative to `dir` unless absolute). Without it, sub-folders are classes. */
  csv?: string;
  /** Resize every image to `[H,W]` (a number: square). Without it, all images must have one size. */
  size?: number | readonly [number, number];
  /** Colour channels of the result; default 3 if any image is colour, else 1. */
  channels?: 1 | 3;
  /** Class names: fixes the label order for CSV names and names CSV indices. */
  classNames?: readonly string[];
  /** Antialias when downsampling (default true). */
  antialias?: boolean;
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Item {
  path: string;
  label: string | number;
}

function listFolders(dir: string): Item[] {
  const classes = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodePoint);
  if (classes.length === 0) throw new Error(`${dir}: no class sub-folders (and no csv given)`);
  const items: Item[] = [];
  for (const cls of classes) {
    const files = readdirSync(join(dir, cls)).filter((f) => IMAGE_EXT.test(f) && !f.startsWith('.')).sort(byCodePoint);
    for (const f of files) items.push({ path: join(dir, cls, f), label: cls });
  }
  if (items.length === 0) throw new Error(`${dir}: no PNG or JPEG files in the class folders (${classes.join(', ')})`);
  return items;
}

/** Split one CSV line (double-quoted fields may hold commas and "" escapes). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur.trim()); cur = ''; }
    else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

function readCsv(csvPath: string): Item[] {
  if (!existsSync(csvPath)) throw new Error(`${csvPath}: CSV file not found`);
  const base = dirname(csvPath);
  const lines = readFileSync(csvPath, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/);
  const items: Item[] = [];
  const firstRow = lines.findIndex((l) => l.trim() !== '');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const f = splitCsvLine(line);
    if (f.length < 2 || f[0] === '' || f[1] === '') throw new Error(`${csvPath}:${i + 1}: expected 'file,label', got '${line}'`);
    const [file, label] = f as [string, string];
    if (i === firstRow && /^(file(name)?|path|image|img)$/i.test(file) && /^(label|class|target|y)$/i.test(label)) return; // header
    const path = isAbsolute(file) ? file : join(base, file);
    if (!existsSync(path)) throw new Error(`${csvPath}:${i + 1}: image '${file}' not found (looked for ${path})`);
    items.push({ path, label: /^\d+$/.test(label) ? Number(label) : label });
  });
  if (items.length === 0) throw new Error(`${csvPath}: no rows`);
  return items;
}

/** Map the items' labels to indices and names. */
function resolveLabels(items: Item[], where: string, given?: readonly string[]): { labels: Int32Array; classNames: string[] } {
  const names = items.filter((it) => typeof it.label === 'string').map((it) => it.label as string);
  let classNames: string[];
  if (given) classNames = [...given];
  else if (names.length === 0) classNames = defaultClassNames(Math.max(...items.map((it) => it.label as number)) + 1);
  else if (names.length === items.length) classNames = [...new Set(names)].sort(byCodePoint);
  else throw new Error(`${where}: labels mix class names and indices; pass classNames to say which index is which name`);
  const index = new Map(classNames.map((n, k) => [n, k]));
  const labels = new Int32Array(items.length);
  items.forEach((it, i) => {
    const k = typeof it.label === 'number' ? it.label : index.get(it.label);
    if (k === undefined || k >= classNames.length) {
      throw new Error(`${where}: label '${it.label}' of ${it.path} is not one of ${classNames.length} classes (${classNames.join(', ')})`);
    }
    labels[i] = k;
  });
  return { labels, classNames };
}

/** Load a folder-per-class tree or a `file,label` CSV into memory. */
export function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): SingleLabelDataset {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: not a directory`);
  const csvPath = opts.csv === undefined ? null : isAbsolute(opts.csv) ? opts.csv : join(dir, opts.csv);
  const where = csvPath ?? dir;
  const items = csvPath ? readCsv(csvPath) : listFolders(dir);
  const { labels, classNames } = resolveLabels(items, where, opts.classNames);
  const size = opts.size === undefined ? null : typeof opts.size === 'number' ? [opts.size, opts.size] as const : opts.size;
  const decoded = items.map((it) => decodeImage(new Uint8Array(readFileSync(it.path)), it.path).tensor);
  const C = opts.channels ?? (decoded.some((t) => t.shape[0] === 3) ? 3 : 1);
  const first = decoded[0]!;
  const [H, W] = size ?? [first.shape[1]!, first.shape[2]!];
  if (!size) {
    const bad = decoded.findIndex((t) => t.shape[1] !== H || t.shape[2] !== W);
    if (bad >= 0) {
      const t = decoded[bad]!;
      throw new Error(
        `${where}: images differ in size: ${relative(dir, items[0]!.path)} is ${W}×${H} but ` +
          `${relative(dir, items[bad]!.path)} is ${t.shape[2]}×${t.shape[1]} (width×height); pass size to resize them`,
      );
    }
  }
  const plane = H * W;
  const px = new Float32Array(items.length * C * plane);
  decoded.forEach((t0, i) => {
    let t = t0;
    if (t.shape[1] !== H || t.shape[2] !== W) t = resize(t, [H, W], { antialias: opts.antialias ?? true });
    const c0 = t.shape[0]!;
    const d = t.data;
    const off = i * C * plane;
    if (c0 === C) px.set(d, off);
    else if (c0 === 1) for (let c = 0; c < C; c++) px.set(d, off + c * plane);
    else for (let p = 0; p < plane; p++) px[off + p] = 0.299 * d[p]! + 0.587 * d[plane + p]! + 0.114 * d[2 * plane + p]!;
  });
  return checkDataset({ task: 'single', images: new Tensor(px, [items.length, C, H, W]), labels, classNames, source: where });
}
