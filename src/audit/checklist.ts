/**
 * Checklist questions no measurement can settle: the tutorial's closing checklist and the
 * clinician checklist of the interpretability chapter that seeded candor, left to a person.
 */
import type { CheckItem } from '../report/types.js';

export function personChecklist(): CheckItem[] {
  const q = (id: string, question: string, why: string): CheckItem => ({ id, question, verdict: 'question', why });
  return [
    q('clinical-plausibility', 'Do the highlighted regions make clinical sense to a radiologist for these images?', 'No metric knows the anatomy; look at the heatmap grids with a clinician, on correct and wrong predictions alike.'),
    q('population', 'Does the test population match the patients the model will see (age, sex, scanner, site, disease mix)?', 'Explanations and metrics are only as representative as the sample; a shift can bring back shortcuts this audit did not plant.'),
    q('known-confounders', 'Are there known confounders in the images (text, markers, devices, positioning) that the shortcut test did not cover?', 'The shortcut test plants one artifact; real ones (laterality markers, tubes, portable-scanner labels) need their own masks: pass them with --region.'),
    q('decision-use', 'Will the heatmap be used to support a decision, and does the user know its limits?', 'A map shows sensitivity of a score, not a diagnosis or a causal reason; say so where it is shown.'),
  ];
}
