/**
 * Datasets from image files on disk (Node only): PNG, JPEG, DICOM and NIfTI slices.
 *
 * - One sub-folder per class (`dir/normal/*.png`, `dir/pneumonia/IM0001`): class names are the folder
 *   names sorted by code point, labels their positions (torchvision's ImageFolder convention). Class
 *   folders are searched recursively (hidden files and folders skipped). PNG/JPEG are recognised by
 *   extension (`.png`, `.jpg`, `.jpeg`), DICOM by the Part 10 'DICM' marker whatever the extension (or
 *   none), or by a `.dcm`/`.dicom`/`.dic` extension for files without the marker; other files are
 *   ignored, except NIfTI volumes, which need a CSV saying which slices to take (with `volumes`, for 3-D models, each is one sample). DICOM objects without
 *   pixel data (DICOMDIR, reports) are ignored; any other unreadable file is an error naming it. A class
 *   folder without a readable image is an error.
 * - Or a CSV of `file,label` rows (optional header; a third column headed `group` (or `patient`,
 *   `subject`, `study`) groups rows that must stay in one split). Paths are relative to the CSV's folder.
 *   A file may carry a reference after `#` (see medical-folder.ts `parseImageRef`):
 *   `scan.nii.gz#slice=12`, `scan.nii.gz#slice=10-20&axis=k&t=0`, `cine.dcm#frame=3`, `cine.dcm#frame=all`.
 *   Labels are class names (sorted to indices, unless `classNames` fixes the order) or integer indices;
 *   errors name the CSV line.
 *
 * Values: PNG/JPEG as decoded by io/image.ts (alpha dropped, /255 or /65535); DICOM and NIfTI as
 * windowed/normalised by medical-folder.ts. All in [0, 1]. All images must share one size unless `size`
 * asks for a resize (bilinear, antialiased: resize.ts); gray images are repeated to RGB when any image is
 * colour, unless `channels` says otherwise.
 */
import { readUtf8File } from '../io/text.js';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { decodeImage } from '../io/image.js';
import { checkDataset, defaultClassNames, type ImageDataset, type MultiLabelDataset, type SingleLabelDataset } from './dataset.js';
import { resize } from './resize.js';
import { fitImage, matchChannels, PreprocessLog, type ResizePolicy } from './preprocessing.js';
import { DicomError } from '../io/dicom.js';
import { DecoderNotLoadedError, ImageRefError, MedicalReader, NIFTI_EXT, isDicomFileSync, medicalKind, parseImageRef, DICOM_EXT, type ImageRef, type MedicalReadOptions } from './medical-folder.js';
import { splitCsvLine } from '../io/csv.js';
import { readNifti } from '../io/nifti.js';
import { niftiVolumeSample, resampledAffine, resampleVolume, type VoxelOrder } from './volume.js';
import { nearDuplicates, normalizeLabel } from './label-text.js';

export interface ImageFolderOptions extends MedicalReadOptions {
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
  /** How images of another aspect ratio meet `size` (default 'stretch'; preprocessing.ts). */
  resize?: ResizePolicy;
  /** Counts what was done to the images (aspect changes, colour to grey). */
  log?: PreprocessLog;
  /**
   * Stop at the first unreadable file (default false: an unreadable file is skipped, counted and listed in
   * the notes and in `skipped`; only a collection with nothing readable is an error).
   */
  strict?: boolean;
  /**
   * Volumes (for 3-D models): every NIfTI file is one sample [1, D, H, W] — the whole volume in its voxel
   * order as stored ('ijk', as `candor explain` reads it; a `#t=N` reference picks a time point of 4-D data),
   * scaled to [0, 1] by the window, else cal_min–cal_max, else the volume's min–max, and resampled
   * trilinearly to `size`³ (data/volume.ts). Other files, and slice references, are errors naming the line.
   */
  volumes?: boolean;
  /** Volumes: which voxel axis is the first array axis (data/volume.ts VoxelOrder; default 'ijk', as `candor explain`). */
  voxelOrder?: VoxelOrder;
}

/** A loaded collection: the dataset, a split group per image, and notes for the data description. */
export interface ImageCollection {
  /** Single-label, or multi-label from a CSV with finding columns. */
  dataset: ImageDataset;
  /**
   * Group id per image: images of one group must go to one split. A group is one source file (the
   * frames of a multi-frame DICOM, the slices of a NIfTI volume) or, in a CSV with a group column, the
   * rows sharing a group value.
   */
  groups: Int32Array;
  /** What was done to DICOM/NIfTI data (counts; file paths only, never patient data). */
  notes: string[];
  /** Files (or CSV rows) skipped as unreadable, with why. */
  skipped: string[];
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

type Kind = 'image' | 'dicom' | 'nifti';

interface Item {
  path: string;
  label: string | number;
  /** Multi-label CSVs: 0/1 per finding. */
  findings?: Uint8Array;
  kind: Kind;
  /** CSV line (1-based) and file field, for messages. */
  line?: number;
  spec?: string;
  ref?: ImageRef;
  group?: string;
}

function walkFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => byCodePoint(a.name, b.name))) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walkFiles(p));
    else if (e.isFile() || (e.isSymbolicLink() && statSync(p, { throwIfNoEntry: false })?.isFile())) out.push(p);
  }
  return out;
}

function listFolders(dir: string, volumes = false): Item[] {
  const classes = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodePoint);
  if (classes.length === 0) throw new Error(`${dir}: no class sub-folders (and no csv given)`);
  const items: Item[] = [];
  for (const cls of classes) {
    let n = 0;
    for (const p of walkFiles(join(dir, cls))) {
      let kind: Kind | undefined;
      if (IMAGE_EXT.test(p)) kind = 'image';
      else if (NIFTI_EXT.test(p)) {
        if (volumes) kind = 'nifti'; // a 3-D model: each file is one volume
        else throw new Error(`${p}: NIfTI volumes are not read from class folders (which slices?); list them in a CSV of file,label rows such as 'scan.nii.gz#slice=12,${cls}'`);
      } else if (isDicomFileSync(p) || DICOM_EXT.test(p)) kind = 'dicom';
      if (!kind) continue;
      items.push({ path: p, label: cls, kind });
      n++;
    }
    if (n === 0) throw new Error(`${join(dir, cls)}: class folder '${cls}' holds no PNG, JPEG or DICOM files`);
  }
  return items;
}

const INTEGER = /^\d+(\.0*)?$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

const FILE_HEADER = /^(file(name)?|path|image|img)$/i;
const LABEL_HEADER = /^(label|class|target|y)$/i;
const GROUP_HEADER = /^(group|patient|patient_?id|subject|study)$/i;
/** A column of '|'-separated finding names, as NIH ChestX-ray14's "Finding Labels". */
const FINDINGS_HEADER = /^(labels|findings|finding[ _]labels)$/i;
const NO_FINDING = /^(no finding|none|normal)?$/i;

/**
 * A CSV of images and labels. Single label: `file,label[,group]` (header optional). Multi-label (a header
 * is required): `file,<finding 1>,…,<finding K>[,group]` with 0/1 cells, or `file,labels[,group]` whose
 * cells list the findings present, '|'-separated ("Effusion|Nodule"; empty or "No Finding": none).
 */
function readCsv(csvPath: string): { items: Item[]; findings?: string[] } {
  if (!existsSync(csvPath)) throw new Error(`${csvPath}: CSV file not found`);
  const base = dirname(csvPath);
  const lines = readUtf8File(csvPath).replace(/^\uFEFF/, '').split(/\r?\n/);
  const items: Item[] = [];
  const firstRow = lines.findIndex((l) => l.trim() !== '');
  let groupColumn = -1;
  let findings: string[] | undefined;
  let findingColumns: number[] = [];
  let namedFindings: Set<string> | undefined;
  const firstRowOf = new Map<string, Item>();
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const at = `${csvPath}:${i + 1}`;
    const f = splitCsvLine(line);
    if (i === firstRow && f.length >= 2 && FILE_HEADER.test(f[0]!)) {
      const last = f.length - 1;
      groupColumn = f.length >= 3 && GROUP_HEADER.test(f[last]!) ? last : -1;
      const labelCols = f.slice(1, groupColumn >= 0 ? last : undefined);
      if (labelCols.length === 1 && FINDINGS_HEADER.test(labelCols[0]!)) namedFindings = new Set();
      else if (labelCols.length >= 2 || (labelCols.length === 1 && !LABEL_HEADER.test(labelCols[0]!))) {
        findings = labelCols.map((c) => c.trim());
        findingColumns = labelCols.map((_, k) => k + 1);
        if (findings.some((c) => c === '')) throw new Error(`${at}: an empty finding name in the header`);
      }
      return; // header
    }
    if (f.length < 2 || f[0] === '' || (f[1] === '' && !namedFindings)) throw new Error(`${at}: expected 'file,label', got '${line}'`);
    const file = f[0]!;
    const label = normalizeLabel(f[1]!);
    if (label === '' && !namedFindings) throw new Error(`${at}: the label of '${file}' is empty (a blank or invisible characters only)`);
    const whole = isAbsolute(file) ? file : join(base, file);
    let path = whole;
    let ref: ImageRef | undefined;
    if (!existsSync(whole) && file.includes('#')) {
      let parsed;
      try {
        parsed = parseImageRef(file);
      } catch (err) {
        throw new Error(`${at}: ${(err as Error).message}`);
      }
      path = isAbsolute(parsed.file) ? parsed.file : join(base, parsed.file);
      ref = parsed.ref;
    }
    if (!existsSync(path)) throw new Error(`${at}: image '${file}' not found (looked for ${path})`);
    if (statSync(path).isDirectory()) throw new Error(`${at}: '${file}' is a folder, not an image file`);
    let kind: Kind | undefined = IMAGE_EXT.test(path) ? 'image' : medicalKind(path);
    if (!kind) throw new Error(`${at}: '${file}' is not a PNG, JPEG, DICOM (no 'DICM' marker) or NIfTI (.nii, .nii.gz, .hdr) file`);
    if (kind === 'image' && ref) throw new Error(`${at}: '${file}': '#' references are for DICOM frames and NIfTI slices`);
    const item: Item = { path, label: 0, kind, line: i + 1, spec: file };
    if (findings) {
      if (f.length < 1 + findings.length) throw new Error(`${at}: ${f.length - 1} label cells for ${findings.length} findings (${findings.join(', ')})`);
      item.findings = Uint8Array.from(findingColumns, (c, k) => {
        const v = f[c]!.trim();
        if (v !== '0' && v !== '1') throw new Error(`${at}: finding '${findings![k]}' is '${v}'; multi-label cells are 0 or 1`);
        return Number(v);
      });
    } else if (namedFindings) {
      const present = label.split('|').map(normalizeLabel).filter((x) => !NO_FINDING.test(x));
      for (const x of present) namedFindings.add(x);
      item.label = present.join('|');
    } else {
      if (NUMBER.test(label) && !INTEGER.test(label)) {
        throw new Error(`${at}: label '${label}' is neither a class index (a non-negative integer) nor a class name`);
      }
      item.label = INTEGER.test(label) ? Math.round(Number(label)) : label;
    }
    if (ref) item.ref = ref;
    if (groupColumn >= 0 && f[groupColumn]) item.group = f[groupColumn];
    // The same image listed twice must not carry two labels.
    const key = `${path}#${JSON.stringify(ref ?? {})}`;
    const seen = firstRowOf.get(key);
    const labelOf = (it: Item) => (it.findings ? Array.from(it.findings).join('') : String(it.label));
    if (seen && labelOf(seen) !== labelOf(item)) throw new Error(`${at}: '${file}' is listed again with another label ('${labelOf(item)}'; line ${seen.line}: '${labelOf(seen)}')`);
    if (!seen) firstRowOf.set(key, item);
    items.push(item);
  });
  if (items.length === 0) throw new Error(`${csvPath}: no rows`);
  if (namedFindings) {
    findings = [...namedFindings].sort(byCodePoint);
    if (findings.length < 2) throw new Error(`${csvPath}: the labels column names ${findings.length} finding(s); a multi-label set needs at least 2`);
    const index = new Map(findings.map((n, k) => [n, k]));
    for (const it of items) {
      const v = new Uint8Array(findings.length);
      for (const x of String(it.label).split('|').filter(Boolean)) v[index.get(x)!] = 1;
      it.findings = v;
      it.label = 0;
    }
  }
  return { items, findings };
}

/** Map the items' labels to indices and names. */
function resolveLabels(items: Item[], where: string, given?: readonly string[]): { labels: Int32Array; classNames: string[] } {
  const at = (it: Item) => (it.line !== undefined ? `${where}:${it.line}` : where);
  const names = items.filter((it) => typeof it.label === 'string').map((it) => it.label as string);
  let classNames: string[];
  if (given) classNames = [...given];
  else if (names.length === 0) classNames = defaultClassNames(Math.max(...items.map((it) => it.label as number)) + 1);
  else if (names.length === items.length) classNames = [...new Set(names)].sort(byCodePoint);
  else {
    const first = items[0]!;
    const other = items.find((it) => typeof it.label !== typeof first.label)!;
    const kind = (it: Item) => (typeof it.label === 'number' ? 'an index' : 'a class name');
    throw new Error(
      `${at(other)}: label '${other.label}' is ${kind(other)} but ${first.line !== undefined ? `line ${first.line}` : 'the first'} has ${kind(first)} ('${first.label}'): ` +
        'labels mix class names and indices; pass classNames to say which index is which name',
    );
  }
  const near = nearDuplicates(names);
  if (near.length) {
    const rows = (n: string) => items.filter((it) => it.label === n).slice(0, 3).map(at).join(', ');
    throw new Error(`${where}: labels that differ only in case, accents, spaces or invisible characters: ${near.map((g) => g.map((n) => `'${n}' (${rows(n)})`).join(' vs ')).join('; ')} — spell each class one way`);
  }
  const index = new Map(classNames.map((n, k) => [n, k]));
  const labels = new Int32Array(items.length);
  items.forEach((it, i) => {
    const k = typeof it.label === 'number' ? it.label : index.get(it.label);
    if (k === undefined || k >= classNames.length) {
      throw new Error(`${at(it)}: label '${it.label}' of ${it.path} is not one of ${classNames.length} classes (${classNames.join(', ')})`);
    }
    labels[i] = k;
  });
  return { labels, classNames };
}

/** Load a folder-per-class tree or a `file,label` CSV into memory, with split groups and notes. */
export function loadImageCollection(dir: string, opts: ImageFolderOptions = {}): ImageCollection {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: not a directory`);
  const csvPath = opts.csv === undefined ? null : isAbsolute(opts.csv) ? opts.csv : join(dir, opts.csv);
  const where = csvPath ?? dir;
  const csv = csvPath ? readCsv(csvPath) : undefined;
  const items = csv ? csv.items : listFolders(dir, opts.volumes);
  const findings = csv?.findings;
  const { labels: itemLabels, classNames } = findings ? { labels: new Int32Array(items.length), classNames: findings } : resolveLabels(items, where, opts.classNames);
  const size = opts.size === undefined ? null : typeof opts.size === 'number' ? [opts.size, opts.size] as const : opts.size;
  const antialias = opts.antialias ?? true;
  const reader = new MedicalReader({ window: opts.window, frames: opts.frames, axis: opts.axis });
  const log = opts.log ?? new PreprocessLog();

  const images: Tensor[] = [];
  const affines: (number[][] | null)[] = []; // volumes: per image
  const owner: number[] = []; // item index per image
  const origins: string[] = [];
  const skipped: string[] = [];
  const perClass = new Array<number>(classNames.length).fill(0);
  items.forEach((it, i) => {
    let decoded: Tensor[];
    const refs: string[] = [];
    try {
      if (opts.volumes) {
        const v = readVolumeItem(it, opts, log);
        decoded = [v.volume];
        affines.push(v.affine);
      }
      else if (it.kind === 'image') decoded = [decodeImage(new Uint8Array(readFileSync(it.path)), it.path).tensor];
      else decoded = reader.read(it.path, it.kind, it.ref, refs);
    } catch (err) {
      const msg = (err as Error).message;
      if (!csvPath && err instanceof DicomError && /no Pixel Data/.test(msg)) {
        reader.stats.noPixelData.push(it.path);
        return;
      }
      const located = it.line !== undefined ? `${where}:${it.line}: ${msg}` : msg;
      // A reference that does not fit its file, or a decoder not loaded, is never skipped: only damaged files are.
      if (opts.strict || err instanceof ImageRefError || err instanceof DecoderNotLoadedError) throw it.line !== undefined ? new Error(located) : err;
      skipped.push(located.startsWith(it.path) || it.line !== undefined ? located : `${it.path}: ${located}`);
      return;
    }
    const file = relative(dir, it.path) || it.path;
    decoded.forEach((_, j) => origins.push(`${file}${refs[j] ?? ''}`));
    for (const t0 of decoded) {
      const t = !size || opts.volumes ? t0 : antialias ? fitImage(t0, size, opts.resize ?? 'stretch', log) : resize(t0, size, { antialias });
      images.push(t);
      owner.push(i);
    }
    if (!findings) perClass[itemLabels[i]!] += decoded.length;
  });
  if (!csvPath) {
    const empty = perClass.findIndex((c) => c === 0);
    if (empty >= 0) {
      const cls = classNames[empty]!;
      const skipped = reader.stats.noPixelData.filter((p) => relative(join(dir, cls), p).split(/[\\/]/)[0] !== '..').length;
      throw new Error(`${join(dir, cls)}: class folder '${cls}' holds no readable images${skipped ? ` (${skipped} DICOM object(s) without pixel data)` : ''}`);
    }
  }
  if (images.length === 0) throw new Error(`${where}: no readable images${skipped.length ? ` (${skipped.length} unreadable: ${skipped.slice(0, 3).join('; ')}${skipped.length > 3 ? '; …' : ''})` : ''}`);
  const skipNote = skipped.length ? [`${skipped.length} unreadable file(s) skipped (--strict stops at the first): ${skipped.slice(0, 10).join('; ')}${skipped.length > 10 ? `; and ${skipped.length - 10} more` : ''}`] : [];

  const C = opts.channels ?? (images.some((t) => t.shape[0] === 3) ? 3 : 1);
  const first = images[0]!;
  const [H, W] = size ?? [first.shape[1]!, first.shape[2]!];
  if (opts.volumes && !size) throw new Error(`${where}: volumes are read at the model's size: give size`);
  const spatial = opts.volumes ? [H, H, H] : [H, W];
  if (!size) {
    const bad = images.findIndex((t) => t.shape[1] !== H || t.shape[2] !== W);
    if (bad >= 0) {
      const t = images[bad]!;
      const name = (it: Item) => (it.line !== undefined ? `${it.spec} (line ${it.line})` : relative(dir, it.path));
      throw new Error(
        `${where}: images differ in size: ${name(items[owner[0]!]!)} is ${W}×${H} but ` +
          `${name(items[owner[bad]!]!)} is ${t.shape[2]}×${t.shape[1]} (width×height); pass size to resize them`,
      );
    }
  }
  const n = images.length;
  const plane = spatial.reduce((a, b) => a * b, 1);
  const px = new Float32Array(n * C * plane);
  images.forEach((t, i) => {
    const c0 = t.shape[0]!;
    const off = i * C * plane;
    if (c0 === C) px.set(t.data, off);
    else px.set(matchChannels(t, C, log, where).data, off);
  });
  const labels = Int32Array.from(owner, (i) => itemLabels[i]!);
  const groupIds = new Map<string, number>();
  const groups = Int32Array.from(owner, (i) => {
    const it = items[i]!;
    const key = it.group !== undefined ? `g:${it.group}` : `f:${it.path}`;
    let g = groupIds.get(key);
    if (g === undefined) groupIds.set(key, (g = groupIds.size));
    return g;
  });
  const imagesT = new Tensor(px, [n, C, ...spatial]);
  if (findings) {
    const K = findings.length;
    const m = new Uint8Array(n * K);
    owner.forEach((it, i) => m.set(items[it]!.findings!, i * K));
    const multi = checkDataset<MultiLabelDataset>({ task: 'multi', images: imagesT, labels: new Tensor(m, [n, K]), classNames: findings, source: where, origins, ...(opts.volumes ? { affines } : {}) });
    return { dataset: multi, groups, notes: [...reader.stats.notes(), ...skipNote, ...(opts.log ? [] : log.notes())], skipped };
  }
  const dataset = checkDataset<SingleLabelDataset>({ task: 'single', images: imagesT, labels, classNames, source: where, origins, ...(opts.volumes ? { affines } : {}) });
  return { dataset, groups, notes: [...reader.stats.notes(), ...skipNote, ...(opts.log ? [] : log.notes())], skipped };
}

/** One NIfTI file as a volume [1, size, size, size] in [0, 1] (see ImageFolderOptions.volumes). */
function readVolumeItem(it: Item, opts: ImageFolderOptions, log: PreprocessLog): { volume: Tensor; affine: number[][] } {
  if (it.kind !== 'nifti') throw new ImageRefError(`${it.spec ?? it.path}: a 3-D model reads NIfTI volumes (.nii, .nii.gz), not ${it.kind === 'image' ? 'PNG/JPEG images' : 'single DICOM files'}`);
  if (it.ref && (it.ref.slices !== undefined || it.ref.axis !== undefined)) throw new ImageRefError(`${it.spec}: a slice reference, but a 3-D model takes the whole volume (only #t=N, a time point, applies)`);
  const vol = readNifti(new Uint8Array(readFileSync(it.path)), it.path);
  const nt = vol.dims[3] ?? 1;
  if (nt > 1 && it.ref?.t === undefined) throw new ImageRefError(`${it.spec ?? it.path}: a 4-D NIfTI with ${nt} volumes (dims ${vol.dims.join('×')}); choose one time point in the CSV row: ${it.spec ?? 'scan.nii.gz'}#t=N (0..${nt - 1})`);
  const s = niftiVolumeSample(vol, opts.voxelOrder ?? 'ijk', opts.window, it.ref?.t);
  if (s.spatial.some((d) => d < 2)) throw new ImageRefError(`${it.spec ?? it.path}: a volume of ${s.spatial.join('×')} voxels is too small for a 3-D model (every axis needs at least 2 voxels)`);
  const size = typeof opts.size === 'number' ? opts.size : opts.size![0];
  const r = resampleVolume(new Tensor(s.data, [1, ...s.spatial]), [size, size, size], s.spacing);
  if (r.note) log.windows.add(`volumes ${r.note.replace(/^resampled [\d×]+ → /, 'resampled to ')}`);
  return { volume: r.out, affine: resampledAffine(s.affine, s.spatial, [size, size, size]) };
}

/** Load a folder-per-class tree or a `file,label` CSV into memory. */
export function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): SingleLabelDataset {
  const ds = loadImageCollection(dir, opts).dataset;
  if (ds.task !== 'single') throw new Error(`${ds.source}: a multi-label CSV (finding columns); read it with loadImageCollection`);
  return ds;
}
