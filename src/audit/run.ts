/**
 * `candor audit`'s pipeline: the tests, in order, each producing a report section (and checklist
 * items); then the report (index.html, results.json, raw maps). A test that cannot run on the
 * given model or data becomes a 'not run' line with the reason, never a silent omission.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic, writeNpyFile } from '../io/files.js';
import { renderReport } from '../report/html.js';
import type { CheckItem, Section } from '../report/types.js';
import { candorVersion } from '../train/card.js';
import { formatDuration } from '../train/progress.js';
import { AuditContext, type AuditOptions } from './context.js';
import { personChecklist } from './checklist.js';
import { AUDIT_TESTS, type AuditTest } from './tests.js';
import { regionMasks } from './sections/region.js';

export interface AuditResult {
  sections: Section[];
  checklist: CheckItem[];
  seconds: number;
  cache: { hits: number; misses: number };
  out: string;
}

/** Refuse to replace a previous report unless forced; an empty or missing folder is fine. */
export function checkOutDir(out: string, force: boolean): void {
  if (existsSync(out) && readdirSync(out).length > 0 && !force) {
    throw new Error(`${out} already holds a report; use --force to replace it, or --out to write elsewhere`);
  }
}

export async function runAudit(opts: AuditOptions & { out: string; force: boolean }): Promise<AuditResult> {
  const out = resolve(opts.out);
  checkOutDir(out, opts.force);
  const version = candorVersion();
  const ctx = await AuditContext.create(opts, version);
  // A bad --region is a usage error before any work, not after minutes of it.
  if (opts.region && opts.tests.includes('region')) regionMasks(opts.region, ctx.sample.indices, ctx.data.test.images.shape[0]!, ctx.subject.size);
  const sections: Section[] = [];
  const checklist: CheckItem[] = [];
  const selected = AUDIT_TESTS.filter((t) => opts.tests.includes(t.id));
  for (const [i, t] of selected.entries()) {
    ctx.log(`[${i + 1}/${selected.length}] ${t.title}`);
    const t0 = performance.now();
    const s = await runOne(ctx, t);
    ctx.timings[t.id] = (performance.now() - t0) / 1000;
    sections.push(s);
    checklist.push(...(s.checks ?? []));
    ctx.log(`      ${t.id} done in ${formatDuration(ctx.timings[t.id]!)}`);
  }
  for (const t of AUDIT_TESTS.filter((t) => !opts.tests.includes(t.id))) {
    checklist.push({ id: t.id, question: t.question, verdict: 'not run', why: `left out by --tests (${opts.tests.join(',')})` });
  }
  checklist.push(...personChecklist());
  const seconds = (performance.now() - ctx.started) / 1000;
  await writeReport(ctx, out, sections, checklist, seconds);
  await ctx.subject.model.dispose();
  return { sections, checklist, seconds, cache: { hits: ctx.cache.hits, misses: ctx.cache.misses }, out };
}

async function runOne(ctx: AuditContext, t: AuditTest): Promise<Section> {
  const skip = t.skip?.(ctx);
  if (skip) return notRun(t, skip);
  return t.run(ctx);
}

function notRun(t: AuditTest, why: string): Section {
  return { id: t.id, title: t.title, summary: [`Not run: ${why}`], figures: [], tables: [], results: { notRun: why }, checks: [{ id: t.id, question: t.question, verdict: 'not run', why, section: t.id }] };
}

async function writeReport(ctx: AuditContext, out: string, sections: Section[], checklist: CheckItem[], seconds: number): Promise<void> {
  // Written into a fresh sibling folder, then swapped in: a failed write leaves the old report whole.
  const tmp = join(dirname(out), `.${out.split(/[\\/]/).pop()}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'maps'), { recursive: true });
  const s = ctx.subject;
  const meta = {
    title: `candor audit — ${s.path.split(/[\\/]/).pop()}`,
    facts: [
      ['Model', `${s.path}${s.architecture ? ` (${s.architecture})` : ''}, ${s.model.numClasses} classes: ${s.classes.join(', ')}`],
      ['Data', ctx.data.description],
      ['Sample', `${ctx.sample.indices.length} test images (stratified, seed ${ctx.opts.seed}); randomization on ${Math.min(ctx.opts.nRandomization, ctx.sample.indices.length)}, stability on ${Math.min(ctx.opts.nStability, ctx.sample.indices.length)}`],
      ['Methods', ctx.opts.methods.join(', ')],
      ['Run', `${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC, ${formatDuration(seconds)} (cache: ${ctx.cache.hits} reused, ${ctx.cache.misses} computed), candor ${ctx.cache.version}`],
    ] as [string, string][],
    intro: [
      'This report stress-tests the explanations (saliency maps) of an image classifier: do they depend on what the model learned, do they reveal a planted shortcut, do they point at the pixels the model actually uses, are they stable, and do the methods agree? The checklist gives a verdict per question with the measured value and the threshold used; each links to the section with the evidence. Verdicts are aids to judgement, not certificates.',
    ],
  };
  const html = await renderReport(meta, checklist, sections);
  await writeFileAtomic(join(tmp, 'index.html'), new TextEncoder().encode(html));
  const results = {
    candorVersion: ctx.cache.version,
    createdAt: new Date().toISOString(),
    options: { ...ctx.opts },
    model: { path: s.path, sha256_16: s.id, classes: s.classes, size: s.size, channels: s.channels, architecture: s.architecture ?? null },
    sample: { testRows: Array.from(ctx.sample.indices), labels: Array.from(ctx.sample.labels) },
    seconds,
    timings: ctx.timings,
    checklist,
    sections: Object.fromEntries(sections.map((x) => [x.id, x.results])),
  };
  await writeFileAtomic(join(tmp, 'results.json'), new TextEncoder().encode(JSON.stringify(results, null, 1)));
  for (const [name, t] of ctx.exports) {
    await writeNpyFile(join(tmp, 'maps', `${name}.npy`), t);
  }
  if (existsSync(out)) {
    const old = `${out}.old-${process.pid}`;
    renameSync(out, old);
    renameSync(tmp, out);
    rmSync(old, { recursive: true, force: true });
  } else {
    mkdirSync(dirname(out), { recursive: true });
    renameSync(tmp, out);
  }
}
