/**
 * The report page: one self-contained HTML file (inline CSS, charts as inline SVG, images as data
 * URLs, no script, no network) that opens from disk and prints. Verdicts first, then a section per
 * test with its plain-language reading, figures and tables.
 */
import { renderSvg } from './chart.js';
import type { CheckItem, Figure, Section, Table, Verdict } from './types.js';

export interface ReportMeta {
  title: string;
  /** Key facts shown under the title (model, data, sample size, date, candor version, run time). */
  facts: [string, string][];
  /** Paragraphs shown above the checklist. */
  intro?: string[];
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const VERDICT_LABEL: Record<Verdict, string> = { pass: 'pass', warn: 'warn', fail: 'fail', 'not run': 'not run', 'not meaningful': 'not meaningful', question: 'for you' };

const CSS = `
:root { --pass:#1a7f37; --warn:#9a6700; --fail:#cf222e; --muted:#57606a; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 15px/1.5 Helvetica, Arial, sans-serif; color:#1f2328; max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin-top: 40px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 6px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; color: var(--muted); margin: 8px 0 16px; }
.facts dt { font-weight: bold; } .facts dd { margin: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { display: inline-block; min-width: 64px; text-align: center; border-radius: 10px; padding: 0 8px; font-weight: bold; color: white; font-size: 13px; }
.v-pass { background: var(--pass); } .v-warn { background: var(--warn); } .v-fail { background: var(--fail); }
.v-not-run { background: #8c959f; } .v-not-meaningful { background: #6e7781; } .v-question { background: #0969da; }
figure { margin: 16px 0; page-break-inside: avoid; } figure svg, figure img { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
img.pixel { image-rendering: pixelated; }
nav ol { columns: 2; } .why { color: var(--muted); font-size: 13px; }
@media print { body { max-width: none; padding: 0; } h2 { page-break-before: auto; } nav { display: none; } }
`;

function verdictBadge(v: Verdict): string {
  return `<span class="verdict v-${v.replace(' ', '-')}">${VERDICT_LABEL[v]}</span>`;
}

function checklistHtml(items: readonly CheckItem[]): string {
  const rows = items.map(
    (c) =>
      `<tr><td>${verdictBadge(c.verdict)}</td><td>${c.section ? `<a href="#${escapeHtml(c.section)}">${escapeHtml(c.question)}</a>` : escapeHtml(c.question)}</td>` +
      `<td>${escapeHtml(c.value ?? '—')}</td><td>${escapeHtml(c.threshold ?? '—')}</td><td class="why">${escapeHtml(c.why)}</td></tr>`,
  );
  return `<table class="checklist"><thead><tr><th>Verdict</th><th>Question</th><th>Measured</th><th>Threshold</th><th>Why this threshold / what to look at</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function cell(v: string | number | null): string {
  if (v === null) return '<td>—</td>';
  if (typeof v === 'number') return `<td class="num">${Number.isInteger(v) ? v : Math.abs(v) >= 1000 || Math.abs(v) < 1e-3 ? v.toPrecision(3) : v.toFixed(3)}</td>`;
  return `<td>${escapeHtml(v)}</td>`;
}

export function tableHtml(t: Table): string {
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = t.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('');
  return `<table><caption style="caption-side:top;text-align:left;font-weight:bold;margin-bottom:4px">${escapeHtml(t.caption)}</caption><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Strip the XML prolog so an SVG document can be inlined. */
function inlineSvg(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}

async function figureHtml(f: Figure): Promise<string> {
  let body: string;
  if (f.spec) body = inlineSvg(await renderSvg(f.spec));
  else if (f.svg) body = inlineSvg(f.svg);
  else if (f.png) body = `<img class="pixel" alt="${escapeHtml(f.title)}" src="data:image/png;base64,${base64(f.png)}">`;
  else throw new Error(`figure '${f.id}' has no content (spec, svg or png)`);
  return `<figure id="fig-${escapeHtml(f.id)}"><h3>${escapeHtml(f.title)}</h3>${body}${f.caption ? `<figcaption>${escapeHtml(f.caption)}</figcaption>` : ''}</figure>`;
}

async function sectionHtml(s: Section): Promise<string> {
  const parts = [`<section id="${escapeHtml(s.id)}"><h2>${escapeHtml(s.title)}</h2>`];
  for (const p of s.summary) parts.push(`<p>${escapeHtml(p)}</p>`);
  for (const t of s.tables) parts.push(tableHtml(t));
  for (const f of s.figures) parts.push(await figureHtml(f));
  parts.push('</section>');
  return parts.join('\n');
}

/** The whole page. */
export async function renderReport(meta: ReportMeta, checklist: readonly CheckItem[], sections: readonly Section[]): Promise<string> {
  const facts = meta.facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  const toc = sections.map((s) => `<li><a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a></li>`).join('');
  const body = await Promise.all(sections.map(sectionHtml));
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(meta.title)}</title><style>${CSS}</style></head>
<body>
<header><h1>${escapeHtml(meta.title)}</h1><dl class="facts">${facts}</dl>${(meta.intro ?? []).map((p) => `<p>${escapeHtml(p)}</p>`).join('')}</header>
<h2 id="checklist">Checklist</h2>
${checklistHtml(checklist)}
<nav><h3>Sections</h3><ol>${toc}</ol></nav>
${body.join('\n')}
<footer><p class="why">Generated by candor. Every number in this page is in results.json beside it; raw attribution maps are in maps/ as .npy.</p></footer>
</body></html>
`;
}
