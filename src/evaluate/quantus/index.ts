/** Quantus' metrics (Quantus 0.6 definitions), each equal to Quantus on the same inputs (quantus.test.ts). */
export * from './sparseness.js';
export * from './complexity.js';
export * from './effective-complexity.js';
export * from './top-k-intersection.js';
export * from './attribution-localisation.js';
export * from './localisation-auc.js';
export * from './pixel-flipping.js';
export * from './faithfulness-estimate.js';
export * from './region-perturbation.js';
export * from './selectivity.js';
export { paddingFor } from './patch-removal.js';
export * from './non-sensitivity.js';
export * from './sufficiency.js';
export * from './robustness.js';
export * from './random-logit.js';
