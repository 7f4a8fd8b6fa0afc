/**
 * Attribution methods by name: the explainer, whether its map is signed, whether it takes a layer,
 * and the defaults it runs with (the explainers' own defaults, spelled out so front ends can show them).
 */
import type { Model } from '../runtime/model.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Attribution, ExplainOptions, Target } from './types.js';
import { gradient, saliency } from './saliency.js';
import { inputXGradient } from './input-x-gradient.js';
import { smoothGrad } from './smoothgrad.js';
import { integratedGradients } from './integrated-gradients.js';
import { gradCam } from './cam/gradcam.js';
import { gradCamPlusPlus } from './cam/gradcampp.js';
import { xGradCam } from './cam/xgradcam.js';
import { layerCam } from './cam/layercam.js';
import { hiResCam } from './cam/hirescam.js';
import { eigenCam } from './cam/eigencam.js';
import { gradCamElementWise } from './cam/gradcam-elementwise.js';
import { eigenGradCam } from './cam/eigengradcam.js';
import { kpcaCam } from './cam/kpcacam.js';
import { fem } from './cam/fem.js';
import { finerCam } from './cam/finercam.js';
import { fullGrad } from './cam/fullgrad.js';
import { deepFeatureFactorization } from './cam/dff.js';
import { shapleyCam } from './cam/shapleycam.js';
import { scoreCam } from './cam/scorecam.js';
import { ablationCam } from './cam/ablationcam.js';
import { occlusion } from './occlusion.js';
import { randomControl } from './controls/random.js';
import { sobelControl } from './controls/sobel.js';
import { constantControl } from './controls/constant.js';
import { expectedGradients, gradientShap } from './gradient-shap.js';
import { deconvolution, guidedBackprop } from './guided-backprop.js';
import { guidedGradCam } from './guided-gradcam.js';
import { featureAblation } from './feature-ablation.js';
import { rise } from './rise.js';
import { lime } from './lime.js';
import { shapleySampling } from './shapley-sampling.js';
import { lrp } from './lrp.js';
import { deepLift } from './deeplift.js';
import { deepLiftShap } from './deeplift-shap.js';
import { attentionRollout } from './attention/rollout.js';
import { attentionRelevance } from './attention/relevance.js';
import { notApplicable } from './applicability.js';

/** Options any registered method accepts: the shared ones, a CAM layer, and method-specific extras. */
export interface MethodOptions extends ExplainOptions {
  /** CAM layer(s) (ignored by the gradient family). */
  layer?: string | readonly string[];
  [option: string]: unknown;
}

export interface MethodInfo {
  name: string;
  /** One-line description (reference definition). */
  about: string;
  family: 'gradient' | 'cam' | 'perturbation' | 'attention' | 'control';
  /** Whether the map is signed (diverging colormap). */
  signed: boolean;
  /** Whether `layer` applies. */
  usesLayer: boolean;
  /** Options the method runs with unless overridden. */
  defaults: Readonly<Record<string, unknown>>;
  /** Method-specific options it accepts (name → one-line description), beyond batchSize/seed/layer. */
  options: Readonly<Record<string, string>>;
  /**
   * An image's result depends on the other images of the call (Expected Gradients draws its baselines
   * from them): callers that split a batch into chunks must pass it whole.
   */
  batchCoupled?: boolean;
  run: (model: Model, inputs: Tensor, target: Target, options: any) => Promise<Attribution>;
}

const CAM_OPTIONS = {
  eigenSmooth: "true: the map is the first principal component of the weighted activations (pytorch-grad-cam eigen_smooth)",
  augSmooth: "true: mean over horizontal flips × multiplications by 0.9, 1, 1.1 (pytorch-grad-cam aug_smooth)",
} as const;
const cam = (name: string, about: string, run: MethodInfo['run'], options: Record<string, string> = {}, defaults: Record<string, unknown> = {}): MethodInfo => ({
  name,
  about,
  family: 'cam',
  signed: false,
  usesLayer: true,
  defaults: { layer: 'auto (last 4-D activation before pooling)', ...defaults },
  options: { ...CAM_OPTIONS, ...options },
  run,
});
const IG_OPTIONS = {
  steps: 'integration steps',
  method: 'riemann_left | riemann_right | riemann_middle | riemann_trapezoid | gausslegendre',
  baseline: 'zeros | black | gray | blur | uniform | a .npy file',
  dataRange: 'min,max of the data (black, gray, uniform baselines)',
  blurSigma: "Gaussian σ in pixels for the 'blur' baseline",
  trapezoid: 'captum | exact',
  tolerance: 'converge instead: refine until |delta| ≤ tolerance·|f(x) − f(x′)| per image (e.g. 0.01); steps and method then unused',
  panels: 'adaptive mode: panels to start with (default 2)',
  maxSteps: 'adaptive mode: most gradient evaluations per image (default 256)',
};
const SHAP_OPTIONS = {
  samples: 'draws per image (n_samples)',
  stdev: 'σ of the Gaussian noise added to the input (stdevs)',
  baselines: 'zeros | black | gray | uniform | batch | a .npy file [B,C,H,W]',
  baselineCount: "images in the 'uniform' baseline distribution",
  dataRange: 'min,max of the data',
  tolerance: "stop each image when the SE of its mean attribution ≤ tolerance × its variation (rounds of 8 draws; samples is then the cap, default 256); extra.relativeSE reports it",
};

export const METHODS: Readonly<Record<string, MethodInfo>> = {
  saliency: { name: 'saliency', about: '|∂y/∂x|, max over channels (Captum Saliency)', family: 'gradient', signed: false, usesLayer: false, defaults: {}, options: {}, run: saliency },
  gradient: { name: 'gradient', about: '∂y/∂x, summed over channels (Captum Saliency abs=False)', family: 'gradient', signed: true, usesLayer: false, defaults: {}, options: {}, run: gradient },
  inputxgradient: { name: 'inputxgradient', about: 'x ⊙ ∂y/∂x, summed over channels (Captum InputXGradient)', family: 'gradient', signed: true, usesLayer: false, defaults: {}, options: {}, run: inputXGradient },
  smoothgrad: {
    name: 'smoothgrad',
    about: 'gradients averaged over noisy copies (Captum NoiseTunnel over Saliency)',
    family: 'gradient',
    signed: false,
    usesLayer: false,
    defaults: { samples: 50, noiseLevel: 0.15, variant: 'smoothgrad', base: 'saliency', seed: 0 },
    options: { samples: 'noisy copies per image', noiseLevel: "σ as a fraction of each image's range", stdev: 'absolute σ (Captum stdevs)', variant: 'smoothgrad | smoothgrad_sq | vargrad', base: 'saliency | gradient | input_x_gradient', tolerance: 'stop each image when ‖SE of the mean map‖ ≤ tolerance·‖its variation around its average‖ (samples is then the cap, default 256; extra.relativeSE reports it either way)' },
    run: smoothGrad,
  },
  ig: {
    name: 'ig',
    about: 'Integrated Gradients from a baseline (Captum IntegratedGradients)',
    family: 'gradient',
    signed: true,
    usesLayer: false,
    defaults: { steps: 50, method: 'gausslegendre', baseline: 'zeros' },
    options: IG_OPTIONS,
    run: integratedGradients,
  },
  gradientshap: {
    name: 'gradientshap',
    about: 'gradients at random points between the input (+ noise) and baselines drawn from a distribution, × (input − baseline) (Captum GradientShap)',
    family: 'gradient',
    signed: true,
    usesLayer: false,
    defaults: { samples: 50, stdev: 0, baselines: 'uniform', baselineCount: 16, seed: 0 },
    options: SHAP_OPTIONS,
    run: gradientShap,
  },
  expectedgradients: {
    name: 'expectedgradients',
    about: 'Expected Gradients: GradientSHAP with reference images as baselines, no noise (Erion et al.)',
    family: 'gradient',
    signed: true,
    usesLayer: false,
    defaults: { samples: 50, stdev: 0, baselines: 'batch', seed: 0 },
    options: SHAP_OPTIONS,
    batchCoupled: true,
    run: expectedGradients,
  },
  guidedbackprop: { name: 'guidedbackprop', about: 'gradient with ReLUs passing only positive gradients of positive inputs (Captum GuidedBackprop)', family: 'gradient', signed: true, usesLayer: false, defaults: {}, options: {}, run: guidedBackprop },
  deconvolution: { name: 'deconvolution', about: 'gradient with ReLUs passing the positive part of the gradient (Captum Deconvolution)', family: 'gradient', signed: true, usesLayer: false, defaults: {}, options: {}, run: deconvolution },
  guidedgradcam: {
    name: 'guidedgradcam',
    about: 'Guided Backprop × upsampled Grad-CAM (Captum GuidedGradCam)',
    family: 'gradient',
    signed: true,
    usesLayer: true,
    defaults: { layer: 'auto (last 4-D activation before pooling)', cam: 'captum' },
    options: { cam: "captum (ReLU'd Grad-CAM, nearest upsampling) | pytorch-grad-cam (scaled, bilinear)" },
    run: guidedGradCam,
  },
  lrp: {
    name: 'lrp',
    about: 'Layer-wise Relevance Propagation: x ⊙ the gradient with g ← g·z/(z + ε·sign z) at every Conv/Gemm/MatMul/pool/BatchNorm output, summed over channels (Captum LRP, EpsilonRule; γ rule on Conv optional)',
    family: 'gradient',
    signed: true,
    usesLayer: false,
    defaults: { epsilon: 1e-9, rule: 'epsilon', gamma: 0.25, maxPool: 'epsilon' },
    options: {
      epsilon: 'stabiliser ε of the ε rule (0: LRP-0 = gradient × input)',
      rule: "epsilon (LRP-ε everywhere) | gamma (LRP-γ on every Conv, ε elsewhere)",
      gamma: 'γ of the γ rule: W + γ·max(W, 0)',
      maxPool: 'epsilon (Captum) | winner (plain winner-take-all gradient)',
    },
    run: lrp,
  },
  deeplift: {
    name: 'deeplift',
    about: 'DeepLIFT, Rescale rule: (x − baseline) ⊙ multipliers Δy/Δx at every ReLU/Sigmoid/Tanh/ELU and MaxPool, summed over channels (Captum DeepLift)',
    family: 'gradient',
    signed: true,
    usesLayer: false,
    defaults: { baseline: 'zeros', eps: 1e-10, maxPool: 'captum' },
    options: {
      baseline: IG_OPTIONS.baseline,
      dataRange: IG_OPTIONS.dataRange,
      blurSigma: IG_OPTIONS.blurSigma,
      eps: '|x − baseline| below which a unit keeps its ordinary gradient',
      maxPool: "captum (Captum's maxpool rule) | conservative (sums to f(x) − f(baseline) through MaxPool)",
    },
    run: deepLift,
  },
  deepliftshap: {
    name: 'deepliftshap',
    about: 'DeepLIFT-Rescale attributions averaged over baselines drawn from a distribution: Σ = f(x) − mean f(baseline), summed over channels (Captum DeepLiftShap)',
    family: 'gradient',
    signed: true,
    usesLayer: false,
    defaults: { baselines: 'uniform', baselineCount: 16, eps: 1e-10, maxPool: 'captum', seed: 0 },
    options: {
      baselines: SHAP_OPTIONS.baselines,
      baselineCount: SHAP_OPTIONS.baselineCount,
      dataRange: SHAP_OPTIONS.dataRange,
      eps: '|x − baseline| below which a unit keeps its ordinary gradient',
      maxPool: "captum (Captum's maxpool rule) | conservative (sums to f(x) − mean f(baseline) through MaxPool)",
    },
    run: deepLiftShap,
  },
  gradcam: cam('gradcam', 'Grad-CAM (pytorch-grad-cam GradCAM)', gradCam),
  gradcampp: cam('gradcampp', 'Grad-CAM++ (pytorch-grad-cam GradCAMPlusPlus)', gradCamPlusPlus),
  xgradcam: cam('xgradcam', 'XGrad-CAM (pytorch-grad-cam XGradCAM)', xGradCam),
  layercam: cam('layercam', 'LayerCAM (pytorch-grad-cam LayerCAM)', layerCam),
  hirescam: cam('hirescam', 'HiResCAM (pytorch-grad-cam HiResCAM)', hiResCam),
  eigencam: cam('eigencam', 'Eigen-CAM, first principal component of the activations (pytorch-grad-cam EigenCAM)', eigenCam),
  gradcamelementwise: cam('gradcamelementwise', 'Grad-CAM element-wise, Σ_k ReLU(G_k ⊙ A_k) (pytorch-grad-cam GradCAMElementWise)', gradCamElementWise),
  eigengradcam: cam('eigengradcam', 'EigenGrad-CAM, first principal component of G ⊙ A (pytorch-grad-cam EigenGradCAM)', eigenGradCam),
  kpcacam: cam('kpcacam', 'KPCA-CAM, first kernel principal component of the activations (pytorch-grad-cam KPCA_CAM)', kpcaCam, {
    kernel: 'sigmoid | rbf | poly | linear | cosine (scikit-learn kernels)',
    gamma: 'kernel coefficient (default 1/channels)',
    coef0: 'sigmoid/poly offset',
    degree: 'poly degree',
  }, { kernel: 'sigmoid', coef0: 1, degree: 3 }),
  fem: cam('fem', 'FEM, channels weighted by the share of positions above mean + k·σ (pytorch-grad-cam FEM)', fem, { k: 'threshold in standard deviations' }, { k: 2 }),
  finercam: cam('finercam', 'FinerCAM, Grad-CAM of the target against its most similar classes (pytorch-grad-cam FinerCAM)', finerCam, {
    alpha: 'weight of the comparison classes',
    comparisons: 'ranks of the comparison classes by |logit − target logit| (1 = closest), comma-separated (default 1,2,3, or as many as the model has other classes)',
  }, { alpha: 1 }),
  shapleycam: cam('shapleycam', 'ShapleyCAM, Grad-CAM with the gradient corrected by ½ of the Hessian-vector product H·A (pytorch-grad-cam ShapleyCAM)', shapleyCam, {
    score: "rest (the paper's ReST, logit − cross-entropy) | logit (the raw logit: equal to Grad-CAM after a ReLU/max-pool/linear tail)",
  }, { score: 'rest' }),
  dff: {
    ...cam('dff', 'Deep Feature Factorization: NMF concepts of the layer’s activations, the target class’s best concept (pytorch-grad-cam DeepFeatureFactorization)', deepFeatureFactorization),
    options: { components: 'number of NMF concepts (default 5, or the layer’s channels if fewer)' },
    batchCoupled: true,
  },
  fullgrad: { ...cam('fullgrad', 'FullGrad, input-gradient plus bias-gradient terms of every Conv/BatchNorm layer (pytorch-grad-cam FullGrad)', fullGrad), usesLayer: false, defaults: {}, options: {} },
  scorecam: cam('scorecam', 'Score-CAM, channels weighted by the score of the input masked with them (pytorch-grad-cam ScoreCAM)', scoreCam, {
    variant: 'pytorch-grad-cam (logits, softmax over channels) | paper (probability increase over a baseline) | tf-keras-vis (probabilities, no softmax)',
    topChannels: 'Faster-Score-CAM: score only the N channels of largest activation variance',
    baseline: "fill value of the 'paper' variant's baseline image",
  }, { variant: 'pytorch-grad-cam' }),
  ablationcam: cam('ablationcam', 'Ablation-CAM, channels weighted by the score drop when zeroed (pytorch-grad-cam AblationCAM)', ablationCam, { ablation: 'pytorch-grad-cam | zero' }),
  occlusion: {
    name: 'occlusion',
    about: 'score drop when a sliding window is filled, averaged per pixel (Captum Occlusion)',
    family: 'perturbation',
    signed: true,
    usesLayer: false,
    defaults: { window: 8, strides: 4, fill: 0 },
    options: {
      window: 'window size (K, KH,KW, or KD,KH,KW for volumes)',
      strides: 'strides (S, SH,SW, or SD,SH,SW)',
      fill: 'value written into the window',
      incremental: "auto | true | false: incremental inference — each layer computes only what the window changes (same map to float32 rounding); auto where it is expected to be faster; extra.passes says which ran",
    },
    run: occlusion,
  },
  featureablation: {
    name: 'featureablation',
    about: 'score drop when each feature (grid cell, superpixel or mask id) is set to a baseline (Captum FeatureAblation)',
    family: 'perturbation',
    signed: true,
    usesLayer: false,
    defaults: { mask: 'grid', cell: 8, baseline: 0 },
    options: { mask: 'grid | slic (2-D only) | a .npy file of integer feature ids of the spatial extent ([H,W] or [D,H,W]) or [N|1,C|1,...spatial]', cell: 'grid cell size in pixels (voxels per axis for volumes; C or CD,CH,CW)', segments: 'SLIC: approximate number of superpixels', compactness: 'SLIC: spatial weight', baseline: 'value written into an ablated feature', incremental: 'grid masks: auto | true | false, as for occlusion' },
    run: featureAblation,
  },
  lime: {
    name: 'lime',
    about: 'LIME: weighted Lasso of the target logit on random subsets of superpixels (Captum Lime)',
    family: 'perturbation',
    signed: true,
    usesLayer: false,
    defaults: { samples: 50, segments: 64, baseline: 0, alpha: 0.01, kernelWidth: 1, distance: 'cosine', seed: 0 },
    options: { samples: 'perturbed samples per image', mask: 'slic (default in 2-D) | grid (default in 3-D) | a .npy file of integer feature ids, as featureablation', cell: 'grid cell size', segments: 'SLIC: approximate number of superpixels', compactness: 'SLIC: spatial weight', baseline: 'value of a removed feature', alpha: 'Lasso regularisation', kernelWidth: 'width of the exponential similarity kernel', distance: 'cosine | euclidean distance between the input and a perturbed image' },
    run: lime,
  },
  shapley: {
    name: 'shapley',
    about: 'Shapley values of superpixels: mean marginal contribution over random orderings (Captum ShapleyValueSampling; exact: ShapleyValues)',
    family: 'perturbation',
    signed: true,
    usesLayer: false,
    defaults: { samples: 25, exact: false, segments: 64, baseline: 0, seed: 0 },
    options: { samples: 'random orderings per image', exact: 'true: every coalition (2^F passes, F ≤ 16 features)', mask: 'slic (default in 2-D) | grid (default in 3-D) | a .npy file of integer feature ids, as featureablation', cell: 'grid cell size', segments: 'SLIC: approximate number of superpixels', compactness: 'SLIC: spatial weight', baseline: 'value of a removed feature' },
    run: shapleySampling,
  },
  rise: {
    name: 'rise',
    about: 'mean of random upsampled binary masks weighted by the masked score (Petsiuk et al. 2018)',
    family: 'perturbation',
    signed: false,
    usesLayer: false,
    defaults: { masks: 2000, cells: 8, p: 0.5, score: 'probability', seed: 0 },
    options: { masks: 'number of random masks', cells: 'grid cells per side (per axis: s×s, or s×s×s for volumes)', p: 'probability of keeping a cell', score: 'probability | logit', tolerance: "stop each image when the SE of its map ≤ tolerance × the map's variation (rounds of 250 masks; masks is then the cap, default 8000); extra.relativeSE reports it" },
    run: rise,
  },
  rollout: {
    name: 'rollout',
    about: 'attention rollout: product of (attention + I)/2 over blocks, class token row (Abnar & Zuidema 2020; vit-explain)',
    family: 'attention',
    signed: false,
    usesLayer: false,
    defaults: { headFusion: 'mean', discardRatio: 0, normalize: 'rows' },
    options: { headFusion: 'mean | max | min over heads', discardRatio: 'fraction of the lowest attention entries dropped per block', normalize: "rows (the paper) | vit-explain (its column-wise division)" },
    run: attentionRollout,
  },
  attnrelevance: {
    name: 'attnrelevance',
    about: 'gradient-weighted attention relevance, R += mean_h(max(∇A⊙A, 0))·R (Chefer, Gur & Wolf 2021)',
    family: 'attention',
    signed: false,
    usesLayer: false,
    defaults: {},
    options: {},
    run: attentionRelevance,
  },
  random: {
    name: 'random',
    about: 'control: uniform random values, mean over channels — knows nothing of the model (Quantus Control Var. Random Uniform)',
    family: 'control',
    signed: false,
    usesLayer: false,
    defaults: { seed: 0 },
    options: {},
    run: randomControl,
  },
  sobel: {
    name: 'sobel',
    about: 'control: the image\'s rising edges, clip(scipy.ndimage.sobel(x), 0, 1), mean over channels (Quantus Control Var. Sobel Filter)',
    family: 'control',
    signed: false,
    usesLayer: false,
    defaults: {},
    options: {},
    run: sobelControl,
  },
  constant: {
    name: 'constant',
    about: 'control: the same value everywhere (Quantus Control Var. Constant)',
    family: 'control',
    signed: false,
    usesLayer: false,
    defaults: { value: 1 },
    options: { value: "a number, or per image 'black' (min), 'white' (max) or 'mean'" },
    run: constantControl,
  },
};

export const METHOD_NAMES: readonly string[] = Object.keys(METHODS);

/** A method by name (case-insensitive); an unknown name is an error listing the valid ones. */
export function getMethod(name: string): MethodInfo {
  const m = METHODS[name.trim().toLowerCase()];
  if (!m) throw new Error(`unknown method '${name}' (valid: ${METHOD_NAMES.join(', ')})`);
  return m;
}

/** Every option name a method accepts (shared ones first). */
export function optionNames(m: MethodInfo): string[] {
  const shared = ['batchSize', 'seed', 'onProgress', ...(m.usesLayer ? ['layer'] : [])];
  return [...new Set([...shared, ...Object.keys(m.options), ...Object.keys(m.defaults).filter((k) => k !== 'layer')])];
}

/** A comma-separated list of methods, validated and de-duplicated, in the order given. */
export function parseMethods(list: string): string[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new Error(`no methods given (valid: ${METHOD_NAMES.join(', ')})`);
  const out: string[] = [];
  for (const n of names) {
    const m = getMethod(n).name;
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

/** A method whose definition does not hold on this model (the message says why in one line). */
export class NotApplicableError extends Error {
  override name = 'NotApplicableError';
}

/**
 * Run one method by name with its defaults, overridden by `options`. `layer` is passed only to the
 * CAM methods ('auto' or undefined: the default layer). The result's `method` is the registry name.
 */
export async function explain(model: Model, inputs: Tensor, method: string, target: Target, options: MethodOptions = {}): Promise<Attribution> {
  const m = getMethod(method);
  const { layer, ...rest } = options;
  const valid = optionNames(m);
  for (const k of Object.keys(rest)) {
    if (!valid.includes(k)) throw new Error(`${m.name}: unknown option '${k}' (valid: ${valid.join(', ')})`);
  }
  const opts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m.defaults)) if (k !== 'layer') opts[k] = v;
  Object.assign(opts, rest);
  if (m.usesLayer && layer !== undefined && layer !== 'auto') opts.layer = layer;
  await model.learnShapes(inputs.shape.slice(1));
  const why = notApplicable(model, m.name);
  if (why) throw new NotApplicableError(`${model.source}: ${why}`);
  const a = await m.run(model, inputs, target, opts);
  return { ...a, method: m.name };
}
