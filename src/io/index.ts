/**
 * `candor/io`: the readers and writers — .npy/.npz, PNG/JPEG, DICOM (files and series), NIfTI, CSV.
 *
 * @packageDocumentation
 */
export * from './npy.js';
export * from './npz.js';
export * from './files.js';
export * from './image.js';
export * from './dicom.js';
export * from './dicom-volume.js';
export * from './nifti.js';
export * from './nifti-write.js';
export * from './csv.js';
