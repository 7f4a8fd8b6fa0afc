/**
 * `candor/evaluate`: tests of explanations — deletion/insertion and faithfulness correlation, ROAD (and
 * pytorch-grad-cam's ROADCombined and ARCC),
 * robustness, localisation against masks, map similarity, and Quantus' metrics.
 *
 * @packageDocumentation
 */
export * from './faithfulness.js';
export * from './road.js';
export * from './road-combined.js';
export * from './robustness.js';
export * from './localization.js';
export * from './similarity.js';
export * from './quantus/index.js';
