/**
 * `candor/trust`: clinical metrics with intervals, calibration, uncertainty and conformal prediction.
 *
 * @packageDocumentation
 */
export * from './clinical.js';
export * from './curves.js';
export * from './delong.js';
export * from './calibration.js';
export * from './recalibrate.js';
export * from './uncertainty.js';
export * from './conformal.js';
export * from './multilabel.js';
