/** The audit's tests, in report order. Each yields one report section. */
import type { Section } from '../report/types.js';
import type { AuditContext } from './context.js';
import { modelRandomizationSection } from './sections/model-randomization.js';

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
  {
    id: 'model-randomization',
    title: 'Model randomization (Adebayo et al.)',
    question: 'Do the maps change when the model’s weights are replaced by random ones?',
    run: modelRandomizationSection,
  },
];

export const AUDIT_TEST_IDS: readonly string[] = AUDIT_TESTS.map((t) => t.id);
