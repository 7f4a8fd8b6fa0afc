/**
 * `candor/explain`: every attribution method, by name through `explain` (registry.ts) or as its own
 * function, and the types they share.
 *
 * @packageDocumentation
 */
export { explain, METHODS, METHOD_NAMES, getMethod, parseMethods, NotApplicableError, type MethodInfo, type MethodOptions } from './registry.js';
export type { Attribution, ExplainOptions, Target } from './types.js';
export { saliency, gradient } from './saliency.js';
export { inputXGradient } from './input-x-gradient.js';
export { smoothGrad } from './smoothgrad.js';
export { integratedGradients } from './integrated-gradients.js';
export { gradientShap, expectedGradients } from './gradient-shap.js';
export { guidedBackprop, deconvolution } from './guided-backprop.js';
export { guidedGradCam } from './guided-gradcam.js';
export { deepLift } from './deeplift.js';
export { deepLiftShap } from './deeplift-shap.js';
export { lrp } from './lrp.js';
export { attentionRollout } from './attention/rollout.js';
export { attentionRelevance } from './attention/relevance.js';
export { occlusion } from './occlusion.js';
export { featureAblation } from './feature-ablation.js';
export { rise } from './rise.js';
export { gradCam } from './cam/gradcam.js';
export { gradCamPlusPlus } from './cam/gradcampp.js';
export { xGradCam } from './cam/xgradcam.js';
export { layerCam } from './cam/layercam.js';
export { hiResCam } from './cam/hirescam.js';
export { eigenCam } from './cam/eigencam.js';
export { gradCamElementWise } from './cam/gradcam-elementwise.js';
export { eigenGradCam } from './cam/eigengradcam.js';
export { kpcaCam } from './cam/kpcacam.js';
export { fem } from './cam/fem.js';
export { finerCam } from './cam/finercam.js';
export { fullGrad, biasLayers } from './cam/fullgrad.js';
export { deepFeatureFactorization } from './cam/dff.js';
export { shapleyCam, hessianVectorProduct } from './cam/shapleycam.js';
export { lime } from './lime.js';
export { shapleySampling } from './shapley-sampling.js';
export { scoreCam } from './cam/scorecam.js';
export { ablationCam } from './cam/ablationcam.js';
export { IncrementalForward } from './incremental/run.js';
