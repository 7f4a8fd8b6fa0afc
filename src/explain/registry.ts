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
import { scoreCam } from './cam/scorecam.js';
import { ablationCam } from './cam/ablationcam.js';
import { occlusion } from './occlusion.js';

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
  family: 'gradient' | 'cam' | 'perturbation';
  /** Whether the map is signed (diverging colormap). */
  signed: boolean;
  /** Whether `layer` applies. */
  usesLayer: boolean;
  /** Options the method runs with unless overridden. */
  defaults: Readonly<Record<string, unknown>>;
  run: (model: Model, inputs: Tensor, target: Target, options: any) => Promise<Attribution>;
}

const cam = (name: string, about: string, run: MethodInfo['run']): MethodInfo => ({ name, about, family: 'cam', signed: false, usesLayer: true, defaults: { layer: 'auto (last 4-D activation before pooling)' }, run });

export const METHODS: Readonly<Record<string, MethodInfo>> = {
  saliency: { name: 'saliency', about: '|∂y/∂x|, max over channels (Captum Saliency)', family: 'gradient', signed: false, usesLayer: false, defaults: {}, run: saliency },
  gradient: { name: 'gradient', about: '∂y/∂x, summed over channels (Captum Saliency abs=False)', family: 'gradient', signed: true, usesLayer: false, defaults: {}, run: gradient },
  inputxgradient: { name: 'inputxgradient', about: 'x ⊙ ∂y/∂x, summed over channels (Captum InputXGradient)', family: 'gradient', signed: true, usesLayer: false, defaults: {}, run: inputXGradient },
  smoothgrad: {
    name: 'smoothgrad',
    about: 'gradients averaged over noisy copies (Captum NoiseTunnel over Saliency)',
    family: 'gradient',
    signed: false,
    usesLayer: false,
    defaults: { samples: 50, noiseLevel: 0.15, variant: 'smoothgrad', base: 'saliency', seed: 0 },
    run: smoothGrad,
  },
  ig: {
    name: 'ig',
    about: 'Integrated Gradients from a baseline (Captum IntegratedGradients)',
    family: 'gradient',
    signed: true,
    usesLayer: false,
    defaults: { steps: 50, method: 'gausslegendre', baseline: 'zeros' },
    run: integratedGradients,
  },
  gradcam: cam('gradcam', 'Grad-CAM (pytorch-grad-cam GradCAM)', gradCam),
  gradcampp: cam('gradcampp', 'Grad-CAM++ (pytorch-grad-cam GradCAMPlusPlus)', gradCamPlusPlus),
  xgradcam: cam('xgradcam', 'XGrad-CAM (pytorch-grad-cam XGradCAM)', xGradCam),
  layercam: cam('layercam', 'LayerCAM (pytorch-grad-cam LayerCAM)', layerCam),
  hirescam: cam('hirescam', 'HiResCAM (pytorch-grad-cam HiResCAM)', hiResCam),
  eigencam: cam('eigencam', 'Eigen-CAM, first principal component of the activations (pytorch-grad-cam EigenCAM)', eigenCam),
  scorecam: cam('scorecam', 'Score-CAM, channels weighted by the score of the input masked with them (pytorch-grad-cam ScoreCAM)', scoreCam),
  ablationcam: cam('ablationcam', 'Ablation-CAM, channels weighted by the score drop when zeroed (pytorch-grad-cam AblationCAM)', ablationCam),
  occlusion: {
    name: 'occlusion',
    about: 'score drop when a sliding window is filled, averaged per pixel (Captum Occlusion)',
    family: 'perturbation',
    signed: true,
    usesLayer: false,
    defaults: { window: 8, strides: 4, fill: 0 },
    run: occlusion,
  },
};

export const METHOD_NAMES: readonly string[] = Object.keys(METHODS);

/** A method by name (case-insensitive); an unknown name is an error listing the valid ones. */
export function getMethod(name: string): MethodInfo {
  const m = METHODS[name.trim().toLowerCase()];
  if (!m) throw new Error(`unknown method '${name}' (valid: ${METHOD_NAMES.join(', ')})`);
  return m;
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

/**
 * Run one method by name with its defaults, overridden by `options`. `layer` is passed only to the
 * CAM methods ('auto' or undefined: the default layer). The result's `method` is the registry name.
 */
export async function explain(model: Model, inputs: Tensor, method: string, target: Target, options: MethodOptions = {}): Promise<Attribution> {
  const m = getMethod(method);
  const { layer, ...rest } = options;
  const opts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m.defaults)) if (k !== 'layer') opts[k] = v;
  Object.assign(opts, rest);
  if (m.usesLayer && layer !== undefined && layer !== 'auto') opts.layer = layer;
  const a = await m.run(model, inputs, target, opts);
  return { ...a, method: m.name };
}
