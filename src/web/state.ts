/** The page's state: what is loaded, what has been computed, and how it is displayed. */
import type { ImageSummary, MapResult, MethodSummary, ModelSummary, Prediction, PreparedImage, Variant } from './protocol.js';
import type { NormMode } from './render.js';

export interface DisplayOptions {
  alpha: number;
  colormap: string;
  diverging: string;
  norm: NormMode;
}

export interface WorkbenchState {
  methods: MethodSummary[];
  model?: ModelSummary;
  images: ImageSummary[];
  current?: number;
  prepared?: PreparedImage;
  predictions: Partial<Record<Variant, Prediction>>;
  /** Maps of the current image, keyed `${variant}/${method}`, in the order computed. */
  results: Map<string, MapResult>;
  /** Milliseconds from clicking Explain to each method's overlay being on screen. */
  shownAfterMs: Record<string, number>;
  randomizedGroups?: string[];
  display: DisplayOptions;
  /** Volumes (3-D models): the voxel [d, h, w] the three planes go through, and the map shown (a result key). */
  cursor?: number[];
  volumeMap?: string;
  /** True labels of images that come with one (the bundled samples), by image id. */
  trueLabels: Map<number, string>;
  /** Rows kept for comparison (another image, another model), shown above the current ones until removed. */
  pinned: PinnedRow[];
}

/** A row of results kept as it was: its own input image, maps and captions, labelled with its model and image. */
export interface PinnedRow {
  id: number;
  label: string;
  prepared: PreparedImage;
  inputCaption: string;
  maps: MapResult[];
  /** Each map's caption when it was kept (the comparison it names is with its own row's model). */
  captions: string[];
}

/** Every map on screen, pinned rows first (the display ranges of 'method' and 'shared' span them all). */
export function shownMaps(state: WorkbenchState): MapResult[] {
  return [...state.pinned.flatMap((p) => p.maps), ...resultRows(state).flatMap((r) => r.maps)];
}

export const resultKey = (variant: Variant, method: string) => `${variant}/${method}`;

export function newState(): WorkbenchState {
  return {
    methods: [],
    images: [],
    predictions: {},
    results: new Map(),
    shownAfterMs: {},
    trueLabels: new Map(),
    pinned: [],
    display: { alpha: 0.5, colormap: 'jet', diverging: 'rdbu_r', norm: 'map' },
  };
}

/** Results in display order: rows by variant (original first), columns by method. */
export function resultRows(state: WorkbenchState): { variant: Variant; maps: MapResult[] }[] {
  const rows: { variant: Variant; maps: MapResult[] }[] = [];
  for (const variant of ['original', 'randomized'] as const) {
    const maps = [...state.results.values()].filter((r) => r.variant === variant);
    if (maps.length) rows.push({ variant, maps });
  }
  return rows;
}
