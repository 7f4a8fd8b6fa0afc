// DICOM and NIfTI as training images, on real files: pydicom's test data (src/io/fixtures/dicom) and
// nibabel's (src/io/fixtures/nifti), plus a tiny synthetic NIfTI. Expected values were computed once
// with pydicom 2.3.1 / nibabel 5.0.0 by src/data/fixtures/make_medical_fixtures.py (see its docstring).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dicomParser from 'dicom-parser';
import { Tensor } from '../tensor/tensor.js';
import { encodePng } from '../io/image.js';
import { MedicalReader, parseImageRef } from './medical-folder.js';
import { loadImageCollection, loadImageFolder } from './image-folder.js';

const DICOM = fileURLToPath(new URL('../io/fixtures/dicom/', import.meta.url));
const NIFTI = fileURLToPath(new URL('../io/fixtures/nifti/', import.meta.url));
const MEDICAL = fileURLToPath(new URL('./fixtures/medical/', import.meta.url));
const TINY = MEDICAL + 'tiny_volume.nii.gz';

interface Summary { shape: [number, number]; sum: number; sumsq: number; pixels: [number, number, number][]; array?: number[] }
const EXPECTED = JSON.parse(readFileSync(MEDICAL + 'expected.json', 'utf8')) as Record<string, Summary>;
/** Patient names and IDs of the fixtures (sample-set labels): must never reach messages or notes. */
const PATIENT = /CompressedSamples|1CT1|4MR1|Lastname|Firstname|id11111|Synthetic\^Candor|SYNTH-0001/;

/** Compare one [1,H,W] (or [H,W] plane at `offset` of a bigger array) with pydicom/nibabel's numbers. */
function check(data: Float32Array, H: number, W: number, key: string, offset = 0) {
  const e = EXPECTED[key];
  assert.ok(e, key);
  assert.deepEqual([H, W], e.shape, key);
  let sum = 0;
  let sumsq = 0;
  for (let p = 0; p < H * W; p++) {
    const v = data[offset + p]!;
    sum += v;
    sumsq += v * v;
  }
  const tol = 1e-6 * H * W;
  assert.ok(Math.abs(sum - e.sum) < tol, `${key}: sum ${sum} vs ${e.sum}`);
  assert.ok(Math.abs(sumsq - e.sumsq) < tol, `${key}: sum of squares ${sumsq} vs ${e.sumsq}`);
  for (const [r, c, v] of e.pixels) assert.ok(Math.abs(data[offset + r * W + c]! - v) < 1e-6, `${key}: (${r},${c}) ${data[offset + r * W + c]} vs ${v}`);
  if (e.array) e.array.forEach((v, p) => assert.ok(Math.abs(data[offset + p]! - v) < 1e-6, `${key}: [${p}] ${data[offset + p]} vs ${v}`));
}
const checkImage = (t: Tensor, key: string) => {
  assert.equal(t.shape[0], 1);
  check(t.data as Float32Array, t.shape[1]!, t.shape[2]!, key);
};

/** MR_small.dcm cut just before its Pixel Data element (the last one): a DICOM object without pixels. */
function withoutPixels(): Uint8Array {
  const bytes = new Uint8Array(readFileSync(DICOM + 'MR_small.dcm'));
  const el = dicomParser.parseDicom(bytes).elements['x7fe00010']!;
  return bytes.slice(0, el.dataOffset - 12); // explicit VR OW header: tag 4 + VR 2 + reserved 2 + length 4
}

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'candor-medical-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
function put(path: string, from: string | Uint8Array): void {
  mkdirSync(join(path, '..'), { recursive: true });
  if (typeof from === 'string') copyFileSync(from, path);
  else writeFileSync(path, from);
}

test('DICOM windowing matches pydicom: min–max without a window, the option window, the file window, MONOCHROME1 inverted', () => {
  const plain = new MedicalReader();
  checkImage(plain.read(DICOM + 'CT_small.dcm', 'dicom')[0]!, 'CT_small, no window: min-max');
  checkImage(plain.read(DICOM + 'MR_small.dcm', 'dicom')[0]!, 'MR_small, window from file 600/1600');
  checkImage(plain.read(DICOM + 'MR_small_mono1.dcm', 'dicom')[0]!, 'MR_small_mono1, window from file, inverted');
  assert.deepEqual(plain.stats.windowFrom, { options: 0, file: 2, range: 1, colour: 0 });
  assert.equal(plain.stats.inverted, 1);
  const windowed = new MedicalReader({ window: [40, 400] });
  checkImage(windowed.read(DICOM + 'CT_small.dcm', 'dicom')[0]!, 'CT_small, window option [40, 400]');
  assert.deepEqual(windowed.stats.windowFrom, { options: 1, file: 0, range: 0, colour: 0 });
  // colour DICOM: RGB / 255, not windowed
  const rgb = plain.read(DICOM + 'SC_rgb_small_odd.dcm', 'dicom')[0]!;
  assert.deepEqual(rgb.shape, [3, 3, 3]);
  assert.ok(rgb.data.every((v) => v >= 0 && v <= 1));
});

test('multi-frame DICOM: first frame by default, all frames on request, #frame= picks', () => {
  const r = new MedicalReader();
  const first = r.read(DICOM + 'rtdose.dcm', 'dicom');
  assert.equal(first.length, 1);
  checkImage(first[0]!, 'rtdose frame 0 (min-max over all frames)');
  assert.equal(r.stats.multiFrameFirstOnly, 1);
  checkImage(r.read(DICOM + 'rtdose.dcm', 'dicom', { frames: [3] })[0]!, 'rtdose frame 3');
  const all = new MedicalReader({ frames: 'all' }).read(DICOM + 'rtdose.dcm', 'dicom');
  assert.equal(all.length, 15);
  checkImage(all[3]!, 'rtdose frame 3');
  assert.throws(() => r.read(DICOM + 'rtdose.dcm', 'dicom', { frames: [15] }), /rtdose\.dcm: frame 15 is out of range \(the file has 15; indices start at 0\)/);
  assert.throws(() => r.read(DICOM + 'rtdose.dcm', 'dicom', { slices: [1] }), /rtdose\.dcm: slice\/axis\/t references are for NIfTI/);
});

test('NIfTI slices match nibabel: flipud(data[:, :, k].T), min–max of the volume, axis and t references', () => {
  const r = new MedicalReader();
  checkImage(r.read(TINY, 'nifti', parseImageRef('x#slice=2&t=1').ref)[0]!, 'tiny_volume#slice=2&t=1');
  checkImage(r.read(TINY, 'nifti', parseImageRef('x#slice=3').ref)[0]!, 'tiny_volume#slice=3 (t=0)');
  checkImage(r.read(TINY, 'nifti', parseImageRef('x#axis=j&slice=1').ref)[0]!, 'tiny_volume#axis=j&slice=1');
  checkImage(r.read(NIFTI + 'anatomical.nii', 'nifti', { slices: [12] })[0]!, 'anatomical.nii#slice=12');
  assert.equal(r.stats.niftiVolumes, 2); // the tiny volume was decoded once for three references
  const range = r.read(TINY, 'nifti', parseImageRef('x#slice=0-1+3').ref);
  assert.equal(range.length, 3);
  checkImage(range[2]!, 'tiny_volume#slice=3 (t=0)');
  assert.equal(r.read(TINY, 'nifti', { slices: 'all' }).length, 4);
  assert.throws(() => r.read(TINY, 'nifti'), /tiny_volume\.nii\.gz: which slice\? The volume has 4 along axis k: write e\.g\. 'tiny_volume\.nii\.gz#slice=2'/);
  assert.throws(() => r.read(TINY, 'nifti', { slices: [4] }), /tiny_volume\.nii\.gz: slice \(axis k\) 4 is out of range/);
  assert.throws(() => r.read(TINY, 'nifti', { slices: [0], t: 2 }), /tiny_volume\.nii\.gz: volume index t = 2 is out of range/);
  assert.throws(() => parseImageRef('v.nii#slice=3-1'), /runs backwards/);
  assert.throws(() => parseImageRef('v.nii#plane=3'), /unknown key 'plane'/);
  assert.throws(() => parseImageRef('v.nii#axis=up'), /axis must be one of/);
  assert.deepEqual(parseImageRef('a/b.nii.gz#slice=4&axis=axial&t=1'), { file: 'a/b.nii.gz', ref: { slices: [4], axis: 'axial', t: 1 } });
});

test('class folders of DICOM (any extension or none) and PNG: labels, values and notes, no patient data', () => {
  withDir((dir) => {
    put(join(dir, 'normal', 'IM0001'), DICOM + 'MR_small.dcm'); // no extension: found by the DICM marker
    put(join(dir, 'normal', 'notes.txt'), new TextEncoder().encode('not an image'));
    put(join(dir, 'pneumonia', 'study', 'series', 'mono1.DCM'), DICOM + 'MR_small_mono1.dcm'); // nested
    put(join(dir, 'pneumonia', 'b.png'), encodePng(new Tensor(new Float32Array(64 * 64).fill(0.5), [64, 64])));
    const { dataset: ds, groups, notes } = loadImageCollection(dir);
    assert.deepEqual(ds.classNames, ['normal', 'pneumonia']);
    assert.deepEqual([...(ds.labels as Int32Array)], [0, 1, 1]);
    assert.deepEqual(ds.images.shape, [3, 1, 64, 64]);
    assert.deepEqual([...groups], [0, 1, 2]);
    const d = ds.images.data;
    check(d, 64, 64, 'MR_small, window from file 600/1600', 0);
    check(d, 64, 64, 'MR_small_mono1, window from file, inverted', 64 * 64 * 2); // b.png sorts before study/
    assert.ok(Math.abs(d[64 * 64]! - 128 / 255) < 1e-6);
    assert.deepEqual(notes, ['DICOM: 2 images from 2 files (window from file: 2, MONOCHROME1 inverted: 1)']);
    assert.doesNotMatch(notes.join(' ') + ds.source, PATIENT);

    // all frames of a multi-frame file, kept in one group; resized on load
    put(join(dir, 'normal', 'dose.dcm'), DICOM + 'rtdose.dcm');
    const all = loadImageCollection(dir, { frames: 'all', size: 32, window: [600, 1600] });
    assert.deepEqual(all.dataset.images.shape, [18, 1, 32, 32]);
    assert.deepEqual([...all.groups], [0, ...new Array(15).fill(1), 2, 3]);
    assert.match(all.notes[0]!, /^DICOM: 17 images from 3 files \(window from options: 3, MONOCHROME1 inverted: 1\)/);
    const first = loadImageCollection(dir, { size: 32 });
    assert.equal(first.dataset.images.shape[0], 4);
    assert.match(first.notes[0]!, /multi-frame, first frame only: 1/);
  });
});

test('folder errors: unreadable DICOM names the file and the problem; a class without readable images says so', () => {
  withDir((dir) => {
    put(join(dir, 'a', 'ok.dcm'), DICOM + 'MR_small.dcm');
    put(join(dir, 'b', 'broken'), readFileSync(DICOM + 'MR_small.dcm').subarray(0, 5000));
    assert.throws(() => loadImageFolder(dir, { strict: true }), (e: Error) => e.message.startsWith(`${join(dir, 'b', 'broken')}: truncated`) && !PATIENT.test(e.message));
    // Without strict: the damaged file is skipped and listed; class b then has no readable image, which is an error.
    assert.throws(() => loadImageFolder(dir), new RegExp(`class folder 'b' holds no readable images`));
    put(join(dir, 'b', 'ok.dcm'), DICOM + 'MR_small.dcm');
    const c = loadImageCollection(dir);
    assert.equal(c.dataset.images.shape[0], 2);
    assert.deepEqual(c.skipped.map((x) => x.split(': ')[0]), [join(dir, 'b', 'broken')]);
    rmSync(join(dir, 'b', 'ok.dcm'));
    rmSync(join(dir, 'b', 'broken'));
    put(join(dir, 'b', 'jpegls.dcm'), DICOM + 'MR_small_jpeg_ls_lossless.dcm');
    assert.throws(() => loadImageFolder(dir, { strict: true }), (e: Error) =>
      e.message.startsWith(`${join(dir, 'b', 'jpegls.dcm')}: JPEG-LS Lossless Image Compression (1.2.840.10008.1.2.4.80) is not supported`) && !PATIENT.test(e.message));
    rmSync(join(dir, 'b', 'jpegls.dcm'));
    put(join(dir, 'b', 'fake.dcm'), new TextEncoder().encode('plain text named .dcm'));
    assert.throws(() => loadImageFolder(dir, { strict: true }), (e: Error) => e.message.startsWith(`${join(dir, 'b', 'fake.dcm')}: `));
    rmSync(join(dir, 'b', 'fake.dcm'));
    put(join(dir, 'b', 'readme.txt'), new TextEncoder().encode('no images here'));
    assert.throws(() => loadImageFolder(dir), new RegExp(`${join(dir, 'b')}: class folder 'b' holds no PNG, JPEG or DICOM files`));
    put(join(dir, 'b', 'DICOMDIR'), withoutPixels());
    assert.throws(() => loadImageFolder(dir), new RegExp(`${join(dir, 'b')}: class folder 'b' holds no readable images \\(1 DICOM object\\(s\\) without pixel data\\)`));
    put(join(dir, 'b', 'ok.dcm'), DICOM + 'MR_small.dcm');
    assert.deepEqual(loadImageCollection(dir).notes, ['DICOM: 2 images from 2 files (window from file: 2)', '1 DICOM object(s) without pixel data ignored']);
    put(join(dir, 'b', 'scan.nii.gz'), TINY);
    assert.throws(() => loadImageFolder(dir), /scan\.nii\.gz: NIfTI volumes are not read from class folders .* 'scan\.nii\.gz#slice=12,b'/);
  });
});

test('CSV of DICOM files and NIfTI slices: references, groups, values; errors name the row', () => {
  withDir((dir) => {
    put(join(dir, 'dcm', 'mr.dcm'), DICOM + 'MR_small.dcm');
    put(join(dir, 'dcm', 'dose'), DICOM + 'rtdose.dcm');
    put(join(dir, 'vol', 'tiny.nii.gz'), TINY);
    put(join(dir, 'vol', 'anat.nii'), NIFTI + 'anatomical.nii');
    writeFileSync(
      join(dir, 'labels.csv'),
      'file,label\n"vol/tiny.nii.gz#slice=2&t=1",effusion\nvol/tiny.nii.gz#slice=3,normal\nvol/tiny.nii.gz#axis=j&slice=1,normal\n' +
        'vol/anat.nii#slice=12,effusion\ndcm/dose#frame=3,normal\ndcm/mr.dcm,effusion\n',
    );
    assert.throws(() => loadImageFolder(dir, { csv: 'labels.csv' }), /labels\.csv: images differ in size: vol\/tiny\.nii\.gz#slice=2&t=1 \(line 2\) is 6×5 but vol\/tiny\.nii\.gz#axis=j&slice=1 \(line 4\) is 6×4/);
    const { dataset: ds, groups, notes } = loadImageCollection(dir, { csv: 'labels.csv', size: 16 });
    assert.deepEqual(ds.images.shape, [6, 1, 16, 16]);
    assert.deepEqual(ds.classNames, ['effusion', 'normal']);
    assert.deepEqual([...(ds.labels as Int32Array)], [0, 1, 1, 0, 1, 0]);
    assert.deepEqual([...groups], [0, 0, 0, 1, 2, 3]); // one group per file
    assert.match(notes.join('; '), /DICOM: 2 images from 2 files.*NIfTI: 4 slices from 2 volumes \(axis k\/j, min–max per volume\)/);
    // same-size images can be compared without resizing: use two CSVs
    writeFileSync(join(dir, 'small.csv'), 'vol/tiny.nii.gz#slice=2&t=1,0\nvol/tiny.nii.gz#slice=3,1\n');
    const small = loadImageFolder(dir, { csv: 'small.csv' });
    check(small.images.data, 5, 6, 'tiny_volume#slice=2&t=1', 0);
    check(small.images.data, 5, 6, 'tiny_volume#slice=3 (t=0)', 30);
    writeFileSync(join(dir, 'dose.csv'), 'dcm/dose#frame=3,a\n');
    check(loadImageFolder(dir, { csv: 'dose.csv' }).images.data, 10, 10, 'rtdose frame 3');
    // a CSV group column keeps rows of one patient together
    writeFileSync(join(dir, 'grouped.csv'), 'image,class,patient\nvol/tiny.nii.gz#slice=0,a,p1\ndcm/mr.dcm,a,p1\nvol/anat.nii#slice=3,b,p2\n');
    assert.deepEqual([...loadImageCollection(dir, { csv: 'grouped.csv', size: 8 }).groups], [0, 0, 1]);

    const fails = (csv: string, re: RegExp) => {
      writeFileSync(join(dir, 'bad.csv'), csv);
      assert.throws(() => loadImageFolder(dir, { csv: 'bad.csv', size: 8 }), (e: Error) => re.test(e.message) && !PATIENT.test(e.message), re.source);
    };
    fails('dcm/mr.dcm,0\nvol/gone.nii.gz#slice=1,1\n', /bad\.csv:2: image 'vol\/gone\.nii\.gz#slice=1' not found/);
    fails('dcm/mr.dcm,0\ndcm/mr.dcm,1.5\n', /bad\.csv:2: label '1\.5' is neither a class index \(a non-negative integer\) nor a class name/);
    fails('dcm/mr.dcm,0\ndcm/mr.dcm,-1\n', /bad\.csv:2: label '-1' is neither/);
    fails('dcm/mr.dcm,0\n\nvol/tiny.nii.gz#slice=1,normal\n', /bad\.csv:3: label 'normal' is a class name but line 1 has an index \('0'\): labels mix class names and indices/);
    fails('dcm/mr.dcm,0\n\ndcm/mr.dcm,1\n', /bad\.csv:3: 'dcm\/mr\.dcm' is listed again with another label \('1'; line 1: '0'\)/);
    fails('dcm/mr.dcm,1.0\nvol/tiny.nii.gz#slice=9,0\n', /bad\.csv:2: .*tiny\.nii\.gz: slice \(axis k\) 9 is out of range/);
    fails('vol/tiny.nii.gz,0\n', /bad\.csv:1: .*tiny\.nii\.gz: which slice\?/);
    fails('vol/tiny.nii.gz#frame=1,0\n', /bad\.csv:1: .*#frame= is for DICOM files/);
    fails('dcm/mr.dcm#slice=1,0\n', /bad\.csv:1: .*mr\.dcm: slice\/axis\/t references are for NIfTI volumes/);
    fails('vol/tiny.nii.gz#slices=,0\n', /bad\.csv:1: 'vol\/tiny\.nii\.gz#slices=': 'slices' needs a value/);
    writeFileSync(join(dir, 'vol', 'corrupt.nii'), new Uint8Array(400));
    fails('vol/corrupt.nii#slice=0,0\n', /bad\.csv:1: .*corrupt\.nii: not a NIfTI file/);
    writeFileSync(join(dir, 'notes.txt'), 'x');
    fails('notes.txt,0\n', /bad\.csv:1: 'notes\.txt' is not a PNG, JPEG, DICOM \(no 'DICM' marker\) or NIfTI/);
    writeFileSync(join(dir, 'names.csv'), 'dcm/mr.dcm,effusion\nvol/tiny.nii.gz#slice=1,cardiomegaly\n');
    assert.throws(() => loadImageFolder(dir, { csv: 'names.csv', classNames: ['effusion', 'normal'] }), /names\.csv:2: label 'cardiomegaly' of .*tiny\.nii\.gz is not one of 2 classes \(effusion, normal\)/);
  });
});

test('raw DICOM data sets without the Part 10 preamble are found in class folders (any name) and read like the file they came from', () => {
  withDir((dir) => {
    const full = readFileSync(DICOM + 'MR_small.dcm');
    put(join(dir, 'a', 'IM0001'), full.subarray(132)); // no preamble, no 'DICM', no extension
    put(join(dir, 'b', 'ok.dcm'), DICOM + 'MR_small.dcm');
    put(join(dir, 'b', 'notes'), new TextEncoder().encode('plain text'));
    const c = loadImageCollection(dir);
    assert.equal(c.dataset.images.shape[0], 2);
    const [, , h, w] = c.dataset.images.shape as number[];
    const plane = h! * w!;
    assert.deepEqual(c.dataset.images.data.subarray(0, plane), c.dataset.images.data.subarray(plane, 2 * plane));
    assert.deepEqual(c.skipped, []);
  });
});
