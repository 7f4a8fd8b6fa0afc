/**
 * Charts: Vega-Lite specifications rendered to SVG strings by Vega, headless (no DOM, no canvas,
 * no network). The report inlines the SVG so it opens from disk and prints.
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { VegaLiteSpec } from './types.js';

/** Defaults shared by every chart: readable fonts, no actions, sizes that fit a printed page. */
const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 13 },
  view: { stroke: null },
};

/** Render a Vega-Lite spec to an SVG document string. Throws with the spec's title when Vega fails. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const full = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, ...spec } as Record<string, unknown>;
  if (spec.config) full.config = { ...CONFIG, ...(spec.config as object) };
  let view: vega.View | undefined;
  try {
    const compiled = compile(full as never).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    return await view.toSVG();
  } catch (e) {
    const title = typeof spec.title === 'string' ? spec.title : JSON.stringify(spec.title ?? '(untitled)');
    throw new Error(`chart '${title}' could not be rendered: ${(e as Error).message}`);
  } finally {
    view?.finalize();
  }
}
