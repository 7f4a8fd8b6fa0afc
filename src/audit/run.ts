/**
 * `candor audit`'s pipeline: the tests, in order, each producing a report section (and checklist
 * items); then the report (index.html, results.json, raw maps). A test that cannot run on the
 * given model or data becomes a 'not run' line with the reason, never a silent omission.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic, writeNpyFile } from '../io/files.js';
import { checkOutputDir } from '../io/out-dir.js';
import { renderReport } from '../report/html.js';
import { renderSvg } from '../report/chart.js';
import { svgToPdf } from '../viz/pdf.js';
import type { CheckItem, Section } from '../report/types.js';
import { candorVersion } from '../train/card.js';
import { formatDuration } from '../train/progress.js';
import { AuditContext, BUNDLED_MODEL, type AuditOptions } from './context.js';
import { cardClasses, loadModel, readCardJson } from '../runtime/node.js';
import { prepareDataAsync, prepareEvaluationData } from '../train/prepare.js';
import { cardPreprocessing, describePreprocessing, mergePreprocessing, preprocessingRecord } from '../data/preprocessing.js';
import { personChecklist } from './checklist.js';
import { AUDIT_TESTS, type AuditTest } from './tests.js';
import { auditRegion } from './sections/region.js';
import { getSanityModel } from './sanity-models.js';
import { QueueExecutor } from '../queue/coordinator.js';
import { ContentStore, DEFAULT_STORE } from '../queue/store.js';

export interface AuditResult {
  sections: Section[];
  checklist: CheckItem[];
  seconds: number;
  cache: { hits: number; misses: number };
  out: string;
}

/** Refuse to replace a previous report unless forced; an empty or missing folder is fine. */
export function checkOutDir(out: string, force: boolean): void {
  checkOutputDir(out);
  if (existsSync(out) && readdirSync(out).length > 0 && !force) {
    throw new Error(`${out} already holds a report; use --force to replace it, or --out to write elsewhere`);
  }
}

/** The findings the audit of a multi-label model covers: --labels, else every one with enough cases. */
export async function auditedFindings(opts: AuditOptions): Promise<{ index: number; name: string; positives: number; negatives: number }[] | undefined> {
  const path = opts.model ?? BUNDLED_MODEL;
  if (!existsSync(path)) throw new Error(`${path}: no such model file`);
  const m = loadModel(path);
  const multi = m.multiLabel;
  const [c, h] = [m.inputShape[1], m.inputShape[2]];
  const volumes = m.inputShape.length === 5;
  await m.dispose();
  if (!multi) {
    if (opts.labels !== undefined) throw new Error(`--labels chooses findings of a multi-label model; ${path} has one class per image`);
    return undefined;
  }
  const { pre } = mergePreprocessing({ scale: opts.scale, window: opts.window, axis: opts.axis, resize: opts.resize }, cardPreprocessing(readCardJson(path)));
  const prep = { size: typeof h === 'number' ? h : 64, volumes, channels: typeof c === 'number' ? c : undefined, seed: opts.seed, ...pre, frames: opts.frames, classNames: cardClasses(path) };
  const data = opts.split === 'all' ? prepareEvaluationData(opts.data, prep) : await prepareDataAsync(opts.data, prep);
  if (data.test.task !== 'multi') throw new Error(`${path} is multi-label but ${opts.data} has one class per image; give data with a label matrix [N, K] (ChestMNIST's layout)`);
  const test = data.test;
  const names = test.classNames;
  const K = names.length;
  const n = test.labels.shape[0]!;
  const counts = names.map((name, index) => {
    let positives = 0;
    for (let i = 0; i < n; i++) positives += test.labels.data[i * K + index]!;
    return { index, name, positives, negatives: n - positives };
  });
  if (opts.labels !== undefined) {
    return opts.labels.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
      const k = /^\d+$/.test(s) ? Number(s) : names.findIndex((x) => x.toLowerCase() === s.toLowerCase());
      if (k < 0 || k >= K) throw new Error(`--labels: no finding '${s}' (findings: ${names.join(', ')})`);
      return counts[k]!;
    });
  }
  const enough = counts.filter((f) => f.positives >= MIN_FINDING_CASES && f.negatives >= MIN_FINDING_CASES);
  if (!enough.length) throw new Error(`${opts.data}: no finding has ${MIN_FINDING_CASES} positive and ${MIN_FINDING_CASES} negative test images (${counts.map((f) => `${f.name} ${f.positives}`).join(', ')}); choose findings with --labels`);
  return enough;
}

/** Positive and negative test images a finding needs to be audited by default. */
export const MIN_FINDING_CASES = 10;

/**
 * The audit. A multi-label model is audited one finding at a time, each as the binary classifier
 * σ(z_k) on that finding's labels, into OUT/<finding>/ (OUT itself when there is one), with an index of
 * findings at OUT/index.html.
 */
export async function runAudit(opts: AuditOptions & { out: string; force: boolean }): Promise<AuditResult> {
  const out = resolve(opts.out);
  checkOutDir(out, opts.force);
  const findings = opts.label === undefined ? await auditedFindings(opts) : undefined;
  if (!findings) return runAuditOnce(opts, out);
  if (findings.length === 1) return runAuditOnce({ ...opts, label: findings[0]!.index }, out);
  const results: (AuditResult & { finding: string; slug: string })[] = [];
  mkdirSync(out, { recursive: true });
  const slugs = new Set<string>();
  for (const f of findings) {
    let slug = f.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || `finding-${f.index}`;
    while (slugs.has(slug)) slug += `-${f.index}`;
    slugs.add(slug);
    if (!opts.quiet) console.error(`== finding '${f.name}' (${f.positives} positive, ${f.negatives} negative test images) → ${join(out, slug)}`);
    const r = await runAuditOnce({ ...opts, label: f.index, force: true }, join(out, slug));
    results.push({ ...r, finding: f.name, slug });
  }
  await writeFileAtomic(join(out, 'index.html'), new TextEncoder().encode(findingsIndex(opts.model ?? BUNDLED_MODEL, results)));
  return {
    sections: results.flatMap((r) => r.sections),
    checklist: results.flatMap((r) => r.checklist.map((c) => ({ ...c, id: `${r.slug}/${c.id}`, question: `[${r.finding}] ${c.question}` }))),
    seconds: results.reduce((a, r) => a + r.seconds, 0),
    cache: { hits: results.reduce((a, r) => a + r.cache.hits, 0), misses: results.reduce((a, r) => a + r.cache.misses, 0) },
    out,
  };
}

/** OUT/index.html for a multi-label audit: one line per finding with its verdict counts and a link. */
function findingsIndex(model: string, results: { finding: string; slug: string; checklist: CheckItem[] }[]): string {
  const esc = (t: string) => t.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
  const rows = results.map((r) => {
    const counts = new Map<string, number>();
    for (const c of r.checklist) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
    return `<tr><td><a href="${esc(r.slug)}/index.html">${esc(r.finding)}</a></td><td>${esc([...counts].map(([k, n]) => `${n} ${k}`).join(', '))}</td></tr>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>candor audit — ${esc(model.split(/[\\/]/).pop()!)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:900px;margin:24px auto;padding:0 16px}table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left}</style></head>
<body><h1>candor audit — ${esc(model)}</h1><p>A multi-label model: each finding is audited on its own, as the binary classifier σ(z<sub>k</sub>) of that finding (present / absent), with its own random-label and shortcut models. One report per finding:</p>
<table><tr><th>finding</th><th>checklist</th></tr>${rows.join('')}</table></body></html>
`;
}

async function runAuditOnce(opts: AuditOptions & { out: string; force: boolean }, out: string): Promise<AuditResult> {
  const version = candorVersion();
  const ctx = await AuditContext.create(opts, version);
  try {
    if (opts.queue) ctx.executor = await QueueExecutor.connect({ url: opts.queue, store: await ContentStore.open(opts.store ?? DEFAULT_STORE), version, log: (l) => ctx.log(l) });
    return await runTests(ctx, opts, out);
  } finally {
    await ctx.executor?.close();
    await ctx.subject.model.dispose();
  }
}

async function runTests(ctx: AuditContext, opts: AuditOptions & { out: string; force: boolean }, out: string): Promise<AuditResult> {
  // A bad --region is a usage error before any work, not after minutes of it.
  if (opts.region && opts.tests.includes('region')) auditRegion(ctx);
  if (ctx.executor) {
    // On a queue the two sanity-check models train at once, each a unit of its own, while the tests start.
    const needs = (ids: string[]) => ids.some((t) => opts.tests.includes(t));
    if (needs(['performance', 'data-randomization'])) getSanityModel(ctx, 'random-labels').catch(() => {});
    if (needs(['performance', 'shortcut'])) getSanityModel(ctx, 'shortcut').catch(() => {});
  }
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
      ...(ctx.opts.label !== undefined ? [['Finding', `multi-label model: this report audits finding '${s.classes[1]}' alone, as the binary classifier σ(z_k) (its logit z_k read as the two logits [−z_k/2, z_k/2]), with random-label and shortcut models trained on that finding's labels`] as [string, string]] : []),
      ['Data', ctx.data.description],
      ['Preprocessing', `${describePreprocessing({ scale: ctx.opts.scale ?? 'pm1', window: ctx.opts.window, axis: ctx.opts.axis ?? 'k', resize: ctx.opts.resize ?? 'stretch' }, ctx.volumes ? (ctx.opts.voxelOrder ?? 'ijk') : undefined)}${ctx.data.log.notes().length ? `; ${ctx.data.log.notes().join('; ')}` : ''}`],
      ['Sample', `${ctx.sample.indices.length} test ${ctx.volumes ? `volumes of ${s.spatial.join('×')} voxels` : 'images'} (stratified, seed ${ctx.opts.seed}); randomization on ${Math.min(ctx.opts.nRandomization, ctx.sample.indices.length)}, stability on ${Math.min(ctx.opts.nStability, ctx.sample.indices.length)}`],
      ['Methods', ctx.opts.methods.join(', ')],
      ['Run', `${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC, ${formatDuration(seconds)} (cache: ${ctx.cache.hits} reused, ${ctx.cache.misses} computed), candor ${ctx.cache.version}`],
    ] as [string, string][],
    intro: [
      'This report stress-tests the explanations (saliency maps) of an image classifier: do they depend on what the model learned, do they reveal a planted shortcut, do they point at the pixels the model actually uses, are they stable, and do the methods agree? The checklist gives a verdict per question with the measured value and the threshold used; each links to the section with the evidence. Verdicts are aids to judgement, not certificates.',
      ...(ctx.volumes
        ? [`The model takes volumes (${s.spatial.join('×')} voxels): "pixels" below are voxels, and each figure shows a volume's map as its three orthogonal planes through the map's maximum and its maximum-intensity projection${ctx.sample.affines?.some(Boolean) ? ', in the radiological convention (patient right on the left), with the edges labelled' : ' along the array axes (the data carry no affine, so no anatomical directions are claimed)'}.`]
        : []),
    ],
  };
  const html = await renderReport(meta, checklist, sections);
  await writeFileAtomic(join(tmp, 'index.html'), new TextEncoder().encode(html));
  if (ctx.opts.figures) await writeFigureFiles(join(tmp, 'figures'), sections);
  const results = {
    candorVersion: ctx.cache.version,
    createdAt: new Date().toISOString(),
    options: { ...ctx.opts },
    model: { path: s.path, sha256_16: s.id, classes: s.classes, size: s.size, spatial: s.spatial, channels: s.channels, architecture: s.architecture ?? null },
    preprocessing: { ...preprocessingRecord({ scale: ctx.opts.scale ?? 'pm1', window: ctx.opts.window, axis: ctx.opts.axis ?? 'k', resize: ctx.opts.resize ?? 'stretch' }), ...(ctx.volumes ? { voxelOrder: ctx.opts.voxelOrder ?? 'ijk' } : {}), notes: ctx.data.log.notes() },
    // Every sampled image back to its place in the data: test-split row, file (and slice/frame) or archive row.
    sample: {
      testRows: Array.from(ctx.sample.indices),
      labels: Array.from(ctx.sample.labels),
      images: Array.from(ctx.sample.indices, (row, i) => ({ sampleIndex: i, testRow: row, origin: ctx.data.test.origins?.[row] ?? null, label: s.classes[ctx.sample.labels[i]!] ?? ctx.sample.labels[i] })),
    },
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

/** Every figure of the report as <id>.svg and <id>.pdf (bitmap-only figures as <id>.png), for papers. */
async function writeFigureFiles(dir: string, sections: readonly Section[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const f of sections.flatMap((s) => s.figures)) {
    const svg = f.spec ? await renderSvg(f.spec) : f.svg;
    if (svg) {
      await writeFileAtomic(join(dir, `${f.id}.svg`), new TextEncoder().encode(svg));
      await writeFileAtomic(join(dir, `${f.id}.pdf`), await svgToPdf(svg, { title: f.title }));
    } else if (f.png) await writeFileAtomic(join(dir, `${f.id}.png`), f.png);
  }
}
