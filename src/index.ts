/**
 * candor as a library (Node): load a classifier, explain its predictions, test the explanations, measure
 * what a clinician needs beside them. The sub-paths hold each layer whole:
 *   candor/explain   every attribution method          candor/evaluate  tests of explanations, Quantus' metrics
 *   candor/audit     the audit as a function           candor/trust     clinical metrics, calibration, conformal
 *   candor/data      datasets, transforms, shortcuts   candor/io        .npy/.npz, images, DICOM, NIfTI, CSV
 *   candor/tabular   tree ensembles, TreeSHAP, KernelSHAP
 *
 * @packageDocumentation
 */
export { loadModel, modelFromBytes, defaultThreads } from './runtime/node.js';
export { Model, type ModelOptions } from './runtime/model.js';
export { Tensor } from './tensor/tensor.js';
export { explain, METHOD_NAMES, getMethod, NotApplicableError, type Attribution, type Target, type MethodOptions } from './explain/index.js';
export { runAudit, type AuditOptions, type AuditResult } from './audit/index.js';
export { loadMedMnist } from './data/medmnist.js';
export { readNpyFile, writeNpyFile } from './io/files.js';
