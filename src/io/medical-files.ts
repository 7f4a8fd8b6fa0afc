/**
 * Node file helpers for DICOM and NIfTI (the decoders themselves, in `dicom.ts` and `nifti.ts`, are
 * browser-safe). Error messages name the file.
 */
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import {
  DicomError,
  hasDicomPreamble,
  readDicom,
  sortDicomImages,
  stackDicomFrames,
  type DicomImage,
  type ReadDicomOptions,
} from './dicom.js';
import { NiftiError, readNifti, type NiftiVolume, type ReadNiftiOptions } from './nifti.js';

const u8 = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return u8(await readFile(path));
  } catch (err) {
    throw new Error(`${path}: cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Reads one DICOM file. */
export async function readDicomFile(path: string, opts: ReadDicomOptions = {}): Promise<DicomImage> {
  return readDicom(await readBytes(path), path, opts);
}

/** True when the file starts with a 128-byte preamble and 'DICM' (reads 132 bytes only). */
export async function isDicomFile(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(132);
    const { bytesRead } = await fh.read(buf, 0, 132, 0);
    return bytesRead === 132 && hasDicomPreamble(u8(buf));
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

export interface ReadDicomFolderOptions extends ReadDicomOptions {
  /** Also descend into sub-folders (default false). */
  recursive?: boolean;
  /**
   * What to do with a DICOM file that cannot be decoded (truncated, unsupported compression…):
   * 'skip' (default) lists it in `skipped` with the reason; 'fail' throws the first such error.
   * DICOM objects without pixel data (DICOMDIR, reports, RT plans) are always listed in `skipped`.
   */
  onError?: 'skip' | 'fail';
}

export interface DicomFolder {
  /** Decoded images in series order (see `sortDicomImages`): series by SeriesNumber, then InstanceNumber, then position along the slice normal. */
  images: DicomImage[];
  /** Files with the DICOM marker that were not read, with the reason (never patient data). */
  skipped: { file: string; reason: string }[];
  /** Files without the 'DICM' marker, ignored (relative to the folder). */
  ignored: string[];
}

async function listFiles(dir: string, recursive: boolean): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`${dir}: cannot list folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...(await listFiles(p, true)));
    } else if (e.isFile() || (e.isSymbolicLink() && (await stat(p).catch(() => undefined))?.isFile())) {
      out.push(p);
    }
  }
  return out;
}

/**
 * Reads all DICOM files of a folder, recognised by the Part 10 'DICM' marker (not by extension), in
 * series order. Files without pixel data are skipped; undecodable ones are skipped or fatal by option.
 */
export async function readDicomFolder(dir: string, opts: ReadDicomFolderOptions = {}): Promise<DicomFolder> {
  const { recursive = false, onError = 'skip', ...readOpts } = opts;
  const files = await listFiles(dir, recursive);
  const images: DicomImage[] = [];
  const skipped: DicomFolder['skipped'] = [];
  const ignored: string[] = [];
  for (const file of files) {
    if (!(await isDicomFile(file))) {
      ignored.push(relative(dir, file));
      continue;
    }
    try {
      images.push(await readDicom(await readBytes(file), file, readOpts));
    } catch (err) {
      const msg = (err as Error).message;
      const noPixels = err instanceof DicomError && /no Pixel Data/.test(msg);
      if (onError === 'fail' && !noPixels) throw err;
      skipped.push({ file, reason: msg.startsWith(`${file}: `) ? msg.slice(file.length + 2) : msg });
    }
  }
  return { images: sortDicomImages(images), skipped, ignored };
}

/**
 * Reads a folder holding one series and stacks it into `[N, H, W]` (or `[N, 3, H, W]`), in series order.
 * Fails if the folder holds several series (by SeriesInstanceUID) or images of different sizes.
 */
export async function readDicomSeries(dir: string, opts: ReadDicomFolderOptions = {}): Promise<{ volume: DicomImage['frames']; images: DicomImage[]; skipped: DicomFolder['skipped'] }> {
  const folder = await readDicomFolder(dir, opts);
  if (folder.images.length === 0) {
    const why = folder.skipped.length ? `; skipped: ${folder.skipped.map((s) => `${s.file} (${s.reason})`).join('; ')}` : '';
    throw new Error(`${dir}: no readable DICOM images${why}`);
  }
  const keys = new Set(folder.images.map((i) => i.meta.seriesKey ?? ''));
  if (keys.size > 1) throw new Error(`${dir}: holds ${keys.size} series; read it with readDicomFolder and pick one (group by meta.seriesKey)`);
  return { volume: stackDicomFrames(folder.images), images: folder.images, skipped: folder.skipped };
}

/**
 * Reads a NIfTI file: `.nii`, `.nii.gz`, or a pair given by its `.hdr` (the `.img`/`.img.gz` beside it
 * is read too).
 */
export async function readNiftiFile(path: string, opts: Omit<ReadNiftiOptions, 'image'> = {}): Promise<NiftiVolume> {
  const bytes = await readBytes(path);
  const lower = path.toLowerCase();
  if (lower.endsWith('.hdr') || lower.endsWith('.hdr.gz')) {
    const stem = path.slice(0, lower.endsWith('.gz') ? -7 : -4);
    const candidates = [`${stem}.img`, `${stem}.img.gz`, `${stem}.IMG`];
    for (const img of candidates) {
      const exists = await stat(img).then((s) => s.isFile(), () => false);
      if (exists) return readNifti(bytes, path, { ...opts, image: await readBytes(img) });
    }
    throw new NiftiError(path, `NIfTI pair header without its image file (looked for ${candidates.join(', ')})`);
  }
  return readNifti(bytes, path, opts);
}
