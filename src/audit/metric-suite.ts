/**
 * The audit's selection of Quantus' metrics (src/evaluate/quantus), with settings scaled to the image and a
 * direction ("higher is better" or lower) for each, computed per image for one method's maps. Settings are
 * chosen so that the whole suite stays within about a minute on the bundled model (cached afterwards):
 * removals in steps of 1/32–1/64 of the image, patches of 1/8 of its side, 5 noise samples for robustness.
 * Metrics defined on 2-D images only (patches, superpixels, translations) are left out on volumes.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import {
  complexity, effectiveComplexity, efficientMprt, faithfulnessEstimate, infidelity, irof, localLipschitzEstimate,
  monotonicityCorrelation, pixelFlipping, quantusSensitivity, randomLogit, regionPerturbation, selectivity,
  sensitivityN, sparseness,
} from '../evaluate/quantus/index.js';

/** The control maps scored beside the methods: they know nothing about the model. */
export const CONTROLS = ['random', 'sobel', 'constant'] as const;

/** The metrics the workbench scores for one image (cheap: no re-explaining beyond one other class). */
export const WORKBENCH_METRICS: readonly string[] = ['faithfulness-estimate', 'pixel-flipping', 'region-perturbation', 'selectivity', 'random-logit', 'sparseness', 'complexity'];

export type Family = 'faithfulness' | 'robustness' | 'randomisation' | 'complexity';

export interface MetricDef {
  id: string;
  name: string;
  family: Family;
  /** Whether larger values are better. */
  higherIsBetter: boolean;
  /** One line: what it measures and with which settings. */
  about: string;
  /** Only on 2-D images. */
  imagesOnly?: boolean;
  /** A score of the whole batch rather than of each image (no interval). */
  batchLevel?: boolean;
}

export const METRICS: readonly MetricDef[] = [
  { id: 'faithfulness-estimate', name: 'faithfulness estimate', family: 'faithfulness', higherIsBetter: true, about: 'Pearson correlation of each removed group’s attribution with the probability drop (Alvarez-Melis & Jaakkola 2018), groups of 1/64 of the image' },
  { id: 'pixel-flipping', name: 'pixel-flipping AUC', family: 'faithfulness', higherIsBetter: false, about: 'area under the probability curve as the top-ranked pixels are set to the image minimum, 32 steps (Bach et al. 2015)' },
  { id: 'region-perturbation', name: 'region perturbation AUC', family: 'faithfulness', higherIsBetter: true, about: 'area under the probability drop as the top-ranked patches (1/8 of the side) are removed (Samek et al. 2015)', imagesOnly: true },
  { id: 'selectivity', name: 'selectivity AUC', family: 'faithfulness', higherIsBetter: false, about: 'area under the probability as the top-ranked patches are removed (Montavon et al. 2018)', imagesOnly: true },
  { id: 'irof', name: 'IROF', family: 'faithfulness', higherIsBetter: true, about: 'area over the relative probability as superpixels (~100, candor’s SLIC) are removed in the map’s order (Rieger & Hansen 2020)', imagesOnly: true },
  { id: 'infidelity', name: 'infidelity', family: 'faithfulness', higherIsBetter: false, about: 'mean squared gap between the logit drop and Σ a·Δx as patches (1/8 of the side) are blacked out (Yeh et al. 2019, Quantus’ form)', imagesOnly: true },
  { id: 'monotonicity-correlation', name: 'monotonicity correlation', family: 'faithfulness', higherIsBetter: true, about: 'Spearman correlation of a group’s attribution with the output variance when it is randomised, 16 groups × 5 draws (Nguyen & Rodríguez Martínez 2020)' },
  { id: 'sensitivity-n', name: 'sensitivity-N', family: 'faithfulness', higherIsBetter: true, about: 'correlation, across the images, of the probability drop with the removed attribution, mean over n (Ancona et al. 2018); one value for the batch', batchLevel: true },
  { id: 'avg-sensitivity', name: 'average sensitivity', family: 'robustness', higherIsBetter: false, about: 'mean ‖a − a′‖/‖a‖ over 5 inputs with U[−0.05, 0.05] noise (Yeh et al. 2019)' },
  { id: 'local-lipschitz', name: 'local Lipschitz estimate', family: 'robustness', higherIsBetter: false, about: 'largest ‖a − a′‖/‖x − x′‖ over 5 inputs with N(0, 0.05²) noise (Alvarez-Melis & Jaakkola 2018)' },
  { id: 'random-logit', name: 'random logit SSIM', family: 'randomisation', higherIsBetter: false, about: 'SSIM between the map of the predicted class and of another class (Sixt et al. 2020); high = the map ignores the class' },
  { id: 'emprt', name: 'eMPRT', family: 'randomisation', higherIsBetter: true, about: 'relative rise of the map’s histogram entropy when every layer is randomised (Hedström et al. 2023)' },
  { id: 'sparseness', name: 'sparseness (Gini)', family: 'complexity', higherIsBetter: true, about: 'Gini index of |a| (Chalasani et al. 2020)' },
  { id: 'complexity', name: 'complexity (entropy)', family: 'complexity', higherIsBetter: false, about: 'entropy of |a| as a distribution (Bhatt et al. 2020)' },
  { id: 'effective-complexity', name: 'effective complexity', family: 'complexity', higherIsBetter: false, about: 'share of |a| above 1e-5 after normalising (Nguyen & Rodríguez Martínez 2020)' },
];

export interface SuiteInputs {
  model: Model;
  /** A copy of the model with every layer randomised (for eMPRT). */
  randomized: Model;
  images: Tensor;
  targets: readonly number[];
  /** The method's maps of the images [N, ...spatial]. */
  maps: Tensor;
  /** The method's maps of other inputs / models, for the same targets. */
  explainOn: (model: Model, images: Tensor, targets: readonly number[]) => Promise<Tensor>;
  seed: number;
  /** IROF's superpixels of the images (they do not depend on the method: computed once, irofSegments). */
  segments?: Tensor;
}

/** Per-image values (or one value for a batch-level metric) of one metric. */
export async function computeMetric(def: MetricDef, s: SuiteInputs): Promise<number[]> {
  const { model, images: x, targets, maps: a, seed } = s;
  const n = x.shape[0]!;
  const spatial = x.shape.slice(2);
  const hw = spatial.reduce((p, q) => p * q, 1);
  const side = spatial[spatial.length - 1]!;
  const patch = Math.max(1, Math.floor(side / 8));
  const group = (k: number) => Math.max(1, Math.floor(hw / k));
  const explain = (inputs: Tensor, t: readonly number[]) => s.explainOn(model, inputs, t);
  switch (def.id) {
    case 'faithfulness-estimate': return faithfulnessEstimate(model, x, targets, a.data, { featuresInStep: group(64) });
    case 'pixel-flipping': return (await pixelFlipping(model, x, targets, a.data, { featuresInStep: group(32) })).auc;
    case 'region-perturbation': return (await regionPerturbation(model, x, targets, a.data, { patchSize: patch })).auc;
    case 'selectivity': return (await selectivity(model, x, targets, a.data, { patchSize: patch })).auc;
    case 'irof': return irof(model, x, targets, a.data, { segments: s.segments });
    case 'infidelity': return infidelity(model, x, targets, a.data, { patchSizes: [side % patch === 0 ? patch : 1] });
    case 'monotonicity-correlation': return monotonicityCorrelation(model, x, targets, a.data, { featuresInStep: group(16), samples: 5, seed });
    case 'sensitivity-n': return [(await sensitivityN(model, x, targets, a.data, { featuresInStep: group(32) })).mean];
    case 'avg-sensitivity': return quantusSensitivity('avg', model, x, a, targets, explain, { samples: 5, lowerBound: 0.05, seed });
    case 'local-lipschitz': return localLipschitzEstimate(model, x, a, targets, explain, { samples: 5, std: 0.05, seed });
    case 'random-logit': return (await randomLogit(model, x, a, targets, explain, { seed })).scores;
    case 'emprt': return (await efficientMprt(model, x, targets, s.explainOn, [{ layer: 'all', model: s.randomized }])).scores;
    case 'sparseness': return sparseness(a.data, n);
    case 'complexity': return complexity(a.data, n);
    case 'effective-complexity': return effectiveComplexity(a.data, n);
    default: throw new Error(`unknown audit metric '${def.id}'`);
  }
}
