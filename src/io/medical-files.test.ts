import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dicomParser from 'dicom-parser';
import { isDicomFile, readDicomFile, readDicomFolder, readDicomSeries, readNiftiFile } from './medical-files.js';

const DICOM = fileURLToPath(new URL('./fixtures/dicom/', import.meta.url));
const NIFTI = fileURLToPath(new URL('./fixtures/nifti/', import.meta.url));

/** MR_small.dcm with its InstanceNumber (an IS value, 2 bytes in this file) replaced. */
function mrWithInstance(n: number): Uint8Array {
  const bytes = new Uint8Array(readFileSync(DICOM + 'MR_small.dcm'));
  const el = dicomParser.parseDicom(bytes).elements['x00200013']!;
  const text = String(n).padEnd(el.length, ' ');
  assert.equal(text.length, el.length);
  for (let i = 0; i < text.length; i++) bytes[el.dataOffset + i] = text.charCodeAt(i);
  return bytes;
}

function withTempDir(fn: (dir: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'candor-dicom-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'readDicomFolder finds DICOM files by their DICM marker, sorts by instance, and lists what it skipped',
  withTempDir(async (dir) => {
    writeFileSync(join(dir, 'IM3'), mrWithInstance(3)); // no extension
    writeFileSync(join(dir, 'IM1.dcm'), mrWithInstance(1));
    writeFileSync(join(dir, 'z-IM2.DCM'), mrWithInstance(2));
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    writeFileSync(join(dir, 'broken.dcm'), readFileSync(DICOM + 'MR_small.dcm').subarray(0, 5000));
    copyFileSync(DICOM + 'MR_small_jpeg_ls_lossless.dcm', join(dir, 'jpegls.dcm'));
    mkdirSync(join(dir, 'sub'));
    copyFileSync(DICOM + 'CT_small.dcm', join(dir, 'sub', 'ct.dcm'));

    assert.equal(await isDicomFile(join(dir, 'IM3')), true);
    assert.equal(await isDicomFile(join(dir, 'notes.txt')), false);

    const folder = await readDicomFolder(dir);
    assert.deepEqual(folder.images.map((i) => i.meta.instanceNumber), [1, 2, 3]);
    assert.deepEqual(folder.images.map((i) => i.source), ['IM1.dcm', 'z-IM2.DCM', 'IM3'].map((f) => join(dir, f)));
    assert.deepEqual(folder.ignored, ['notes.txt']);
    assert.deepEqual(folder.skipped.map((s) => s.file), [join(dir, 'broken.dcm'), join(dir, 'jpegls.dcm')]);
    assert.match(folder.skipped[0]!.reason, /^truncated/);
    assert.match(folder.skipped[1]!.reason, /JPEG-LS Lossless Image Compression \(1\.2\.840\.10008\.1\.2\.4\.80\) is not supported/);
    for (const s of folder.skipped) assert.doesNotMatch(s.reason, /CompressedSamples|4MR1/);

    const recursive = await readDicomFolder(dir, { recursive: true });
    assert.equal(recursive.images.length, 4);

    await assert.rejects(readDicomFolder(dir, { onError: 'fail' }), (e: Error) => e.message.startsWith(`${join(dir, 'broken.dcm')}: truncated`));

    // a series stacks in instance order; the window options pass through
    const series = await readDicomSeries(dir, { windowCenter: 40, windowWidth: 400 });
    assert.deepEqual(series.volume.shape, [3, 64, 64]);
    assert.equal(series.images[0]!.window?.origin, 'options');
    // with the CT (another series) included, readDicomSeries refuses
    await assert.rejects(readDicomSeries(dir, { recursive: true }), /holds 2 series/);
  }),
);

test(
  'readDicomSeries on a folder without readable images names the folder and the reasons',
  withTempDir(async (dir) => {
    writeFileSync(join(dir, 'broken.dcm'), readFileSync(DICOM + 'MR_small.dcm').subarray(0, 5000));
    await assert.rejects(readDicomSeries(dir), (e: Error) => e.message.startsWith(`${dir}: no readable DICOM images; skipped: ${join(dir, 'broken.dcm')} (truncated`));
    await assert.rejects(readDicomFolder(join(dir, 'missing')), /missing: cannot list folder \(ENOENT\)/);
    await assert.rejects(readDicomFile(join(dir, 'missing.dcm')), /missing\.dcm: cannot read file \(ENOENT\)/);
  }),
);

test('readDicomFile decodes JPEG 2000 (the codec loads on demand)', async () => {
  const im = await readDicomFile(DICOM + 'MR_small_jp2klossless.dcm');
  assert.deepEqual(im.frames.shape, [1, 64, 64]);
  assert.equal(im.source, DICOM + 'MR_small_jp2klossless.dcm');
});

test(
  'readNiftiFile reads .nii, .nii.gz and .hdr/.img pairs, and names a pair with no image',
  withTempDir(async (dir) => {
    assert.deepEqual((await readNiftiFile(NIFTI + 'anatomical.nii')).volume.shape, [25, 41, 33]);
    assert.deepEqual((await readNiftiFile(NIFTI + 'example_nifti2.nii.gz')).volume.shape, [2, 12, 20, 32]);
    assert.deepEqual(Array.from((await readNiftiFile(NIFTI + 'pair.hdr')).volume.data), [-3, 11, 25, 4, 18, 32]);
    copyFileSync(NIFTI + 'pair.hdr', join(dir, 'lonely.hdr'));
    await assert.rejects(readNiftiFile(join(dir, 'lonely.hdr')), /lonely\.hdr: NIfTI pair header without its image file/);
  }),
);
