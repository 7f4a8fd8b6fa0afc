/**
 * Messages between the workbench page and its Web Worker. Every request carries an id; the worker
 * answers with one `done` or `error` for it, and may send `progress` messages before that.
 * Large arrays travel as transferable Float32Arrays.
 */
import type { LayerInfo } from '../runtime/layers.js';
import type { InputScale } from '../data/transforms.js';
import type { ResizePolicy } from '../data/preprocessing.js';
import type { SliceAxis } from '../io/nifti.js';

export interface MethodSummary {
  name: string;
  about: string;
  family: 'gradient' | 'cam' | 'perturbation' | 'attention' | 'control';
  signed: boolean;
  usesLayer: boolean;
}

/** The subset of a candor model card the workbench reads. */
export interface ModelCard {
  input?: { channels?: number; size?: number; normalization?: string };
  /** The preprocessing a candor-trained model records (data/preprocessing.ts). */
  preprocessing?: unknown;
  classes?: string[];
}

export interface ModelSummary {
  name: string;
  /** The engine as it runs once a session exists (onnxruntime-web may fall back to one thread). */
  engine: string;
  numClasses: number;
  classNames: string[];
  /** Model input [C,H,W] the images are resized to ([C,D,H,W] volumes for a 3-D model). */
  channels: number;
  /** Depth of a 3-D model's input [N,C,D,H,W]: it explains volumes (a NIfTI volume, a DICOM series). */
  depth?: number;
  height: number;
  width: number;
  /** Pixel scale and resize policy: the card's, else candor's defaults (as every command). */
  scale: InputScale;
  resize: ResizePolicy;
  /** The card's DICOM/NIfTI window and NIfTI axis, applied to images as they open (and to those already open). */
  window?: [number, number];
  axis: SliceAxis;
  /** Images already open whose window or axis the card changed. */
  reopened?: ImageSummary[];
  layers: LayerInfo[];
  /** Tensor name the CAMs use when no layer is chosen. */
  defaultLayer?: string;
  /** Learnable parameter groups the sanity check re-initialises. */
  parameterGroups: number;
  warnings: string[];
}

/** The window (centre/width, in the file's units) an image is shown and fed to the model through. */
export interface WindowSummary {
  center: number;
  width: number;
  /** Value range the sliders span (DICOM: all frames; NIfTI: the volume at t). */
  min: number;
  max: number;
}

export interface DicomSummary extends WindowSummary {
  modality?: string;
  photometric: string;
  frames: number;
  /** The frame shown (0-based). */
  frame: number;
}

export interface NiftiSummary extends WindowSummary {
  /** Image dimensions in file order (x, y, z[, t]). */
  dims: number[];
  /** The slice axis: k (the third voxel axis, as stored; the default of every command), i, j or a plane. */
  axis: SliceAxis;
  /** Slices along the axis. */
  slices: number;
  /** The slice shown (0-based). */
  slice: number;
  /** Volumes along t; the workbench shows t = 0. */
  volumes: number;
  t: number;
  /** Where the opening window came from: the header's cal_min/cal_max, else the volume's min–max. */
  windowFrom: 'cal' | 'range';
  /** Voxel axis codes (e.g. L, A, S) of i, j, k. */
  axes: string;
  notes: string[];
}

/** A DICOM series read as one volume (files sorted by position along the slice normal). */
export interface SeriesSummary extends WindowSummary {
  files: number;
  /** Voxels i × j × k (k: slices). */
  dims: number[];
  /** Voxel size (mm) along i, j, k. */
  spacing: number[];
  /** Voxel axis codes (e.g. L, P, S) of i, j, k. */
  axes: string;
}

export interface ImageSummary {
  id: number;
  name: string;
  kind: 'png' | 'jpeg' | 'dicom' | 'nifti' | 'image' | 'series';
  /** Size of the file's image (for NIfTI: of one slice). */
  width: number;
  height: number;
  dicom?: DicomSummary;
  nifti?: NiftiSummary;
  series?: SeriesSummary;
}

/** The image as the model sees it, for display: [C,H,W] ([C,D,H,W] for volumes) in [0,1] at the model's input size. */
export interface PreparedImage {
  display: Float32Array;
  channels: number;
  /** Volumes: depth of the model grid, its voxel size (mm) and voxel → world affine (RAS+ mm) per array axis. */
  depth?: number;
  spacing?: number[];
  affine?: number[][];
  height: number;
  width: number;
  /** What preprocessing did beyond a plain resize (aspect ratio changed, colour to grey), as every command says it. */
  notes: string[];
}

export interface Prediction {
  logits: number[];
  probabilities: number[];
  predicted: number;
}

export type Variant = 'original' | 'randomized';

export interface MapResult {
  method: string;
  variant: Variant;
  /** Raw map [H,W] ([D,H,W] for volumes; float32, not normalised). */
  map: Float32Array;
  depth?: number;
  height: number;
  width: number;
  signed: boolean;
  target: number;
  /** Milliseconds spent in the worker (includes compiling the gradient graph on first use). */
  ms: number;
  /** Scalar diagnostics, e.g. Integrated Gradients' convergence delta. */
  extra: Record<string, number>;
}

export type Request =
  | { type: 'init'; wasmBase: string; threads: number; backend?: 'auto' | 'wasm' | 'webgpu' }
  /** Choose the execution provider; the open model is reopened on it. */
  | { type: 'setBackend'; backend: 'auto' | 'wasm' | 'webgpu' }
  | { type: 'loadModel'; bytes: ArrayBuffer; name: string; card?: ModelCard }
  | { type: 'loadImage'; bytes: ArrayBuffer; name: string }
  /** Several DICOM files of one series, read as one volume (for 3-D models). */
  | { type: 'loadSeries'; files: { bytes: ArrayBuffer; name: string }[]; name: string }
  /** A volume's map back on the source grid as NIfTI (.nii.gz) with the source's affine. */
  | { type: 'exportNifti'; image: number; map: Float32Array; description: string }
  | { type: 'setWindow'; image: number; center: number; width: number }
  /** Choose the NIfTI slice (and axis) or the DICOM frame. */
  | { type: 'setPosition'; image: number; slice?: number; frame?: number; axis?: SliceAxis }
  | { type: 'setPreprocessing'; scale?: InputScale; resize?: ResizePolicy }
  | { type: 'prepare'; image: number }
  | { type: 'predict'; image: number; variant: Variant }
  | { type: 'explain'; image: number; method: string; target: number | 'pred'; layer?: string; variant: Variant }
  | { type: 'randomize'; seed: number }
  /** Quantus metrics of the methods' maps of one image, beside the control maps (audit/metric-suite.ts). */
  | { type: 'score'; image: number; methods: string[]; target: number | 'pred'; layer?: string };

export interface Responses {
  init: { methods: MethodSummary[]; backend: string };
  setBackend: { backend: string; model?: ModelSummary & { reopened?: ImageSummary[] } };
  loadModel: ModelSummary;
  loadImage: ImageSummary;
  loadSeries: ImageSummary;
  exportNifti: { bytes: Uint8Array };
  setWindow: ImageSummary;
  setPosition: ImageSummary;
  setPreprocessing: { scale: InputScale; resize: ResizePolicy };
  prepare: PreparedImage;
  predict: Prediction;
  explain: MapResult;
  randomize: { groups: string[]; seed: number };
  score: Scores;
}

export interface Scores {
  metrics: { id: string; name: string; family: string; higherIsBetter: boolean; about: string }[];
  /** Per method and control map, one value per metric (NaN where undefined, e.g. a constant map's correlation). */
  values: Record<string, number[]>;
  controls: string[];
}

export type RequestOf<T extends Request['type']> = Extract<Request, { type: T }>;

export type WorkerMessage =
  | { id: number; kind: 'done'; result: unknown }
  | { id: number; kind: 'error'; error: string }
  | { id: number; kind: 'progress'; done: number; total: number };
