/**
 * The parts an audit report is made of. Every analysis (randomization, shortcut, faithfulness,
 * trust statistics, tabular SHAP…) returns Sections; `html.ts` renders them into one
 * self-contained page and `results.json` keeps every number.
 */

/** A Vega-Lite specification (plain JSON), rendered to inline SVG by `chart.ts`. */
export type VegaLiteSpec = Record<string, unknown>;

export interface Figure {
  /** Unique within the report; used for file names and anchors. */
  id: string;
  title: string;
  /** One or two sentences under the figure: what is drawn and how to read it. */
  caption?: string;
  /** A chart (rendered to SVG by vega), or … */
  spec?: VegaLiteSpec;
  /** … a ready SVG document, or … */
  svg?: string;
  /** … a PNG image (heatmap grids), embedded as a data URL. */
  png?: Uint8Array;
}

export interface Table {
  caption: string;
  columns: string[];
  rows: (string | number | null)[][];
}

/** 'not meaningful': the check ran but its precondition failed (too few cases, a model that learned nothing). */
export type Verdict = 'pass' | 'warn' | 'fail' | 'not run' | 'not meaningful' | 'question';

/** One line of the checklist at the top of the report. */
export interface CheckItem {
  id: string;
  /** The question, as a reader would ask it ("Do the maps change when the weights are randomized?"). */
  question: string;
  verdict: Verdict;
  /** The measured value, formatted ("Spearman 0.12 [0.08, 0.16]"). */
  value?: string;
  /** The threshold the verdict used ("< 0.5"). */
  threshold?: string;
  /** Why that threshold, or what a person must look at when the verdict is 'question'. */
  why: string;
  /** Id of the section holding the evidence. */
  section?: string;
}

export interface Section {
  id: string;
  title: string;
  /** Plain-language reading of the results, one string per paragraph. */
  summary: string[];
  figures: Figure[];
  tables: Table[];
  /** Every number of this section, JSON-serialisable; goes to results.json under the section id. */
  results: Record<string, unknown>;
  /** Checklist items this section decides. */
  checks?: CheckItem[];
}
