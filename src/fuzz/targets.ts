/**
 * What the fuzz campaigns feed: one target per reader, its seed files (fixtures in the repository), how
 * to run it on bytes, and a summary of what it returned (shape and a hash of the values), from which the
 * campaign tells a deterministic, right answer from a wrong one:
 *   - every reader must give the same summary twice for the same bytes (no uninitialised memory);
 *   - a checksummed format (PNG chunks, zip and gzip members) must either give the seed's own summary or
 *     refuse the file: a changed byte under a checksum accepted is "accepted but wrong".
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadPredictionFile } from '../trust/inputs.js';
import { join } from 'node:path';
import { parseNpy } from '../io/npy.js';
import { openNpz } from '../io/npz.js';
import { decodeImage } from '../io/image.js';
import { readDicomSync } from '../io/dicom.js';
import { applyWindow } from '../io/dicom.js';
import { niftiSlices, readNifti } from '../io/nifti.js';
import { niftiVolumeSample } from '../data/volume.js';
import { dicomSeriesVolume } from '../io/dicom-volume.js';
import { repoRoot } from '../testing/paths.js';
import { parseXgboostJson } from '../tabular/xgboost.js';
import { parseLightgbmText } from '../tabular/lightgbm.js';
import { predictMargin } from '../tabular/ensemble.js';
import { parseCsvTable } from '../tabular/csv.js';
import { decodeUtf8 } from '../io/text.js';
import { Tensor } from '../tensor/tensor.js';

/** The series fixture's slice files (src/io/fixtures/dicom-series/ct), in file-name order. */
const SERIES = readdirSync(join(repoRoot, 'src', 'io', 'fixtures', 'dicom-series', 'ct')).sort().map((f) => join('src', 'io', 'fixtures', 'dicom-series', 'ct', f));
import { modelFromBytes } from '../runtime/node.js';

export interface FuzzTarget {
  name: string;
  /** Seed files, relative to the repository. */
  seeds: string[];
  /** Whether every byte of a file is under a checksum (then any accepted change must leave the result as the seed's). */
  checksummed: boolean;
  run(bytes: Uint8Array, source: string): Promise<string> | string;
}

/** FNV-1a over the float32 bits of the values: equal summaries mean equal results. */
export function summarize(parts: readonly (Tensor | string | number)[]): string {
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    h ^= x & 0xff;
    h = Math.imul(h, 0x01000193);
    h ^= (x >>> 8) & 0xff;
    h = Math.imul(h, 0x01000193);
    h ^= (x >>> 16) & 0xff;
    h = Math.imul(h, 0x01000193);
    h ^= x >>> 24;
    h = Math.imul(h, 0x01000193);
  };
  const shapes: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string' || typeof p === 'number') {
      shapes.push(String(p));
      continue;
    }
    shapes.push(`[${p.shape.join(',')}]`);
    const d = p.data as ArrayLike<number | bigint>;
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let i = 0; i < d.length; i++) {
      f[0] = Number(d[i]);
      mix(u[0]!);
    }
  }
  return `${shapes.join(' ')} #${(h >>> 0).toString(16)}`;
}

const FIX = (p: string) => join('src', 'io', 'fixtures', p);

export const TARGETS: Record<string, FuzzTarget> = {
  npy: {
    name: 'npy',
    seeds: ['f4_bigendian.npy', 'f8_fortran.npy', 'i2.npy', 'u4.npy', 'v2_u1.npy', 'small_ints.npy', 'bool.npy', 'scalar_f8.npy'].map(FIX),
    checksummed: false,
    run: (b, s) => summarize([parseNpy(b, s)]),
  },
  npz: {
    name: 'npz',
    seeds: ['savez.npz', 'savez_compressed.npz', 'zip64-infozip.npz', 'descriptor-zip64.npz'].map(FIX),
    checksummed: true,
    run: (b, s) => {
      const z = openNpz(b, s);
      return summarize(z.keys.flatMap((k) => [k, z.get(k)]));
    },
  },
  image: {
    name: 'image',
    seeds: ['gray8.png', 'gray16.png', 'rgb.png', 'rgba.png', 'palette.png', 'gray1.png', 'rgb.jpg', 'gray.jpg'].map((p) => join('src', 'data', 'fixtures', p)),
    // PNG: every chunk is under a CRC and the image data under zlib's Adler-32; JPEG has no checksum.
    checksummed: false,
    run: (b, s) => summarize([decodeImage(b, s).tensor]),
  },
  dicom: {
    name: 'dicom',
    seeds: ['CT_small.dcm', 'MR_small.dcm', 'MR_small_RLE.dcm', 'MR_small_bigendian.dcm', 'MR_small_implicit.dcm', 'MR_small_jpeg_lossless.dcm', 'MR_small_mono1.dcm'].map((p) => FIX(join('dicom', p))),
    checksummed: false,
    run: (b, s) => {
      const img = readDicomSync(b, s);
      return summarize([img.frames, img.meta.samplesPerPixel === 3 ? 'rgb' : applyWindow(img)]);
    },
  },
  onnx: {
    name: 'onnx',
    seeds: ['keras_nhwc.onnx', 'squeezenet.onnx', 'inception.onnx', 'densenet.onnx'].map((p) => join('src', 'autodiff', 'fixtures', 'zoo', p)),
    checksummed: false,
    run: async (b, s) => {
      const m = modelFromBytes(b, { source: s, threads: 1 });
      try {
        const shape = m.inputShape.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 1 : 16));
        const x = new Tensor(new Float32Array(shape.reduce((a, c) => a * c, 1)).fill(0.5), shape);
        return summarize([await m.forward(x)]);
      } finally {
        await m.dispose();
      }
    },
  },
  trees: {
    name: 'trees',
    seeds: ['xgb_binary_d3.model.json', 'xgb_regression_d6.model.json', 'xgb_multiclass.model.json', 'lightgbm_small.txt'].map((p) => join('src', 'tabular', 'fixtures', p)),
    checksummed: false,
    run: (b, s) => {
      const e = s.endsWith('.txt') ? parseLightgbmText(new TextDecoder().decode(b), { source: s }) : parseXgboostJson(b, { source: s });
      const X = Float64Array.from({ length: 4 * e.nFeatures }, (_, i) => (i % 7) - 3);
      return summarize([new Tensor(Float32Array.from(predictMargin(e, X, 4)), [4]), e.trees.length]);
    },
  },
  table: {
    name: 'table',
    seeds: [join('src', 'fuzz', 'seeds', 'table.csv')],
    checksummed: false,
    run: (b, s) => {
      const t = parseCsvTable(decodeUtf8(b, s), { source: s, target: 'malignant' });
      return summarize([new Tensor(Float32Array.from(t.X), [t.n, t.d]), t.featureNames.join(',')]);
    },
  },
  predictions: {
    name: 'predictions',
    seeds: [join('src', 'fuzz', 'seeds', 'predictions.csv')],
    checksummed: false,
    run: (b, s) => {
      // The reader takes a path: the bytes go to a private temporary file named like the input.
      const dir = mkdtempSync(join(tmpdir(), 'candor-fuzz-'));
      const file = join(dir, s.replace(/[\\/]/g, '_'));
      try {
        writeFileSync(file, b);
        const p = loadPredictionFile(file, { groupColumn: 'site' });
        return summarize([new Tensor(Float32Array.from(p.probs), [p.labels.length, p.k]), new Tensor(Float32Array.from(p.labels), [p.labels.length]), (p.ids ?? []).join(',')]);
      } catch (e) {
        throw e instanceof Error ? new Error(e.message.replaceAll(file, s)) : e;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  'dicom-series': {
    name: 'dicom-series',
    // one slice of a 12-slice series mutated, the other 11 intact: the series reader (sorting, geometry checks)
    seeds: SERIES.slice(5, 6),
    checksummed: false,
    run: (b, s) => {
      const files = SERIES.map((p, k) => (k === 5 ? { path: s, bytes: b } : { path: p, bytes: seedBytes(p) }));
      const v = dicomSeriesVolume(files, 'series/');
      return summarize([v.volume.volume, v.volume.affine.flat().map((x) => x.toFixed(6)).join(','), niftiVolumeSample(v.volume, 'ijk').data.length]);
    },
  },
  nifti: {
    name: 'nifti',
    seeds: ['anatomical.nii', 'standard.nii.gz', 'dtype_float32.nii', 'dtype_int16.nii', 'scaled_int16.nii.gz', 'qform_only.nii', 'example_nifti2.nii.gz'].map((p) => FIX(join('nifti', p))),
    checksummed: false,
    run: (b, s) => {
      const v = readNifti(b, s);
      // the 3-D models' path too: the whole volume (first time point), reoriented, scaled to [0, 1]
      const sample = niftiVolumeSample(v, 'ras', undefined, (v.dims[3] ?? 1) > 1 ? 0 : undefined);
      return summarize([v.volume, v.dims.join('x'), niftiSlices(v, 'axial', [0]), new Tensor(sample.data, sample.spatial)]);
    },
  },
};

/** Whether a seed is itself under a checksum end to end (a gzip file, a PNG). */
export function seedChecksummed(target: FuzzTarget, seed: string): boolean {
  return target.checksummed || /\.(png|gz)$/i.test(seed);
}

export function seedBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(join(repoRoot, path)));
}
