/**
 * The report part for a multi-label model (src/trust/multilabel.ts): a table per finding, summary sentences
 * that state only what the numbers show, and one check per finding in the same terms as the single-label
 * AUROC check (pass when DeLong's lower bound clears 0.80), "not meaningful" where a finding has too few
 * positives or negatives to measure.
 */
import { emptyPart, num, type Part } from './report-format.js';
import type { MultiLabelStats } from './multilabel.js';

const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)} %`);

export function multiLabelPart(s: MultiLabelStats, opts: { sectionId: string; source: string; minPositives: number }): Part {
  const part = emptyPart();
  const sid = opts.sectionId;
  part.results.multiLabel = s;
  part.tables.push({
    caption: `Per finding, at threshold ${s.threshold} (DeLong and Wilson 95 % intervals)`,
    columns: ['finding', 'positives', 'prevalence', 'AUROC', 'AUROC 95 % CI', 'sensitivity', 'sensitivity CI', 'specificity', 'specificity CI', 'PPV', 'NPV', 'ECE', 'Brier'],
    rows: s.labels.map((l) => {
      const m = l.atThreshold;
      const ci = (p: { wilson: { lower: number; upper: number } | null }) => (p.wilson ? `[${num(p.wilson.lower)}, ${num(p.wilson.upper)}]` : null);
      return [l.label, l.positives, +l.prevalence.toFixed(4), l.auroc ? +l.auroc.auc.toFixed(4) : null, l.auroc ? `[${num(l.auroc.ci.lower)}, ${num(l.auroc.ci.upper)}]` : null,
        m.sensitivity.value === null ? null : +m.sensitivity.value.toFixed(4), ci(m.sensitivity), m.specificity.value === null ? null : +m.specificity.value.toFixed(4), ci(m.specificity),
        m.ppv.value === null ? null : +m.ppv.value.toFixed(4), m.npv.value === null ? null : +m.npv.value.toFixed(4), +l.ece.toFixed(4), +l.brier.toFixed(4)];
    }),
  });
  const n = s.labels[0]?.n ?? 0;
  part.summary.push(`${opts.source}: ${s.labels.length} findings on ${n} cases, each scored by its own sigmoid.`);
  if (s.macroAuroc !== null) {
    part.summary.push(`Macro AUROC ${num(s.macroAuroc)} (the mean over the ${s.macroOver} findings with at least 2 positives and 2 negatives${s.undefinedAuroc.length ? `; left out: ${s.undefinedAuroc.join(', ')}` : ''}); micro AUROC ${s.microAuroc === null ? 'n/a' : num(s.microAuroc)} (all case–finding pairs pooled).`);
  } else part.summary.push('No finding has at least 2 positives and 2 negatives: no AUROC can be measured.');
  const measured = s.labels.filter((l) => l.auroc && !l.fewCases);
  if (measured.length > 1) {
    const best = measured.reduce((a, b) => (b.auroc!.auc > a.auroc!.auc ? b : a));
    const worst = measured.reduce((a, b) => (b.auroc!.auc < a.auroc!.auc ? b : a));
    part.summary.push(`Among findings with at least ${opts.minPositives} positives and negatives, AUROC ranges from ${num(worst.auroc!.auc)} (${worst.label}) to ${num(best.auroc!.auc)} (${best.label}).`);
  }
  for (const l of s.labels) {
    const base = { id: `trust.auroc.${l.label}`, question: `Does the model rank cases well for '${l.label}' (AUROC)?`, threshold: 'lower DeLong bound ≥ 0.80', section: sid };
    if (!l.auroc || l.fewCases) {
      part.checks.push({ ...base, verdict: 'not meaningful', value: `${l.positives} positives, ${l.n - l.positives} negatives`, why: `Fewer than ${opts.minPositives} positives or negatives: an AUROC from so few cases is not a finding. Evaluate on more cases with this finding.` });
      continue;
    }
    const a = l.auroc;
    part.checks.push({ ...base, verdict: a.ci.lower >= 0.8 ? 'pass' : a.auc >= 0.8 ? 'warn' : 'fail', value: `${num(a.auc)} [${num(a.ci.lower)}, ${num(a.ci.upper)}], prevalence ${pct(l.prevalence)}`, why: 'AUROC 0.8 is the conventional floor for "good" discrimination; the interval must clear it for a pass.' });
  }
  return part;
}
