/** The audit's tests, in report order. Each yields one report section. */
import type { Section } from '../report/types.js';
import type { AuditContext } from './context.js';
import { modelRandomizationSection } from './sections/model-randomization.js';
import { overviewSection } from './sections/overview.js';
import { performanceSection } from './sections/performance.js';
import { dataRandomizationSection } from './sections/data-randomization.js';
import { shortcutSection } from './sections/shortcut.js';
import { faithfulnessSection } from './sections/faithfulness.js';
import { stabilitySection } from './sections/stability.js';
import { agreementSection } from './sections/agreement.js';
import { auditTrustSection } from './sections/trust.js';
import { regionSection } from './sections/region.js';
import { metricsSection } from './sections/metrics.js';
import { localisationSection } from './sections/localisation.js';

export interface AuditTest {
  id: string;
  title: string;
  /** The checklist question it answers (shown when it is not run). */
  question: string;
  /** A reason not to run on this model/data, or undefined. */
  skip?: (ctx: AuditContext) => string | undefined;
  run: (ctx: AuditContext) => Promise<Section>;
}

export const AUDIT_TESTS: readonly AuditTest[] = [
  { id: 'overview', title: 'The explanations', question: 'What do the explanations look like?', run: overviewSection },
  { id: 'performance', title: 'Clinical performance of the models', question: 'How well do the audited and the sanity-check models perform?', run: performanceSection },
  {
    id: 'model-randomization',
    title: 'Model randomization (Adebayo et al.)',
    question: 'Do the maps change when the model’s weights are replaced by random ones?',
    run: modelRandomizationSection,
  },
  { id: 'data-randomization', title: 'Data randomization (labels permuted)', question: 'Do the maps differ for a model trained on randomized labels?', run: dataRandomizationSection },
  { id: 'shortcut', title: 'Shortcut experiment: a planted marker', question: 'Do the explanations reveal a shortcut the model uses?', run: shortcutSection },
  { id: 'region', title: 'Attribution inside your region', question: 'How much attribution falls in a region you name (lesion, organ, confounder)?', skip: (ctx) => (ctx.opts.region ? undefined : 'no --region given (box:x,y,w,h or a mask .npy)'), run: regionSection },
  { id: 'localisation', title: 'Localisation against ground-truth lesions', question: 'Do the maps point at the lesions?', skip: (ctx) => (ctx.opts.masks ? undefined : 'no --masks given (lesion masks: the data’s own, a folder of mask images, a CSV of boxes, or a mask .npy)'), run: localisationSection },
  { id: 'faithfulness', title: 'Faithfulness: deletion, insertion and ROAD', question: 'Do the pixels the maps rank first actually drive the prediction?', run: faithfulnessSection },
  { id: 'stability', title: 'Stability under small noise', question: 'Are the maps stable under small noise that does not change the prediction?', run: stabilitySection },
  { id: 'metrics', title: 'Quantus metrics by family, against control maps', question: 'Do the methods score better than maps that know nothing about the model?', run: metricsSection },
  { id: 'agreement', title: 'Agreement between methods', question: 'Do the methods tell the same story about the same image?', run: agreementSection },
  { id: 'trust', title: 'Trust beyond heatmaps', question: 'Is the model accurate, calibrated and appropriately uncertain?', run: auditTrustSection },
];

export const AUDIT_TEST_IDS: readonly string[] = AUDIT_TESTS.map((t) => t.id);
