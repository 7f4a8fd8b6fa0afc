/** The text of `candor explain --help` (kept apart from the command: it lists every method's options). */
import { METHOD_NAMES, METHODS } from '../explain/registry.js';
import { PREPROCESS_HELP } from './preprocess-args.js';
import { DEFAULT_COUNT } from './explain-input.js';

const methodList = (names: readonly string[], width = 96): string => {
  const lines: string[] = [];
  let cur = '';
  for (const n of names) {
    if (cur && cur.length + n.length + 2 > width) (lines.push(cur + ','), (cur = ''));
    cur += (cur ? ', ' : '') + n;
  }
  lines.push(cur);
  return lines.join('\n              ');
};

const optionHelp = (): string =>
  METHOD_NAMES.map((n) => {
    const m = METHODS[n]!;
    const keys = Object.keys(m.options).filter((k) => m.family !== 'cam' || (k !== 'eigenSmooth' && k !== 'augSmooth'));
    if (!keys.length) return '';
    const d = (k: string) => (k in m.defaults ? ` [${String(m.defaults[k])}]` : '');
    return `    ${n}: ${keys.map((k) => `${k}${d(k)}`).join(', ')}`;
  })
    .filter(Boolean)
    .join('\n');

export const EXPLAIN_USAGE = `usage: candor explain --methods M1,M2,... --out DIR [--model m.onnx] [--input SPEC]
       [--scale pm1] [--window C,W] [--axis k] [--resize stretch|pad|crop]
       [--layer L[,L2]] [--target pred|K|NAME|all] [--opt method.key=value ...] [--keep-channels]
       [--colormap jet] [--diverging-colormap rdbu_r] [--opacity 0.5] [--normalize each|shared|none] [--clip 99] [--panel-size 256] [--pdf]
       [--batch-size N] [--threads N] [--force]
       [--queue redis://HOST:PORT] [--store .candor-store|s3://BUCKET/PREFIX]

  --methods   comma-separated: ${methodList(METHOD_NAMES)}
  --model     ONNX classifier (default: the bundled baseline models/baseline/small_cnn_pneumoniamnist64.onnx)
  --input     x.npy            a preprocessed float batch [N,C,H,W] of the model's shape, used as is;
                               [H,W], [N,H,W] or integer [N,1|3,H,W] arrays are raw images (min–max per image)
              data.npz[:split[:range]] or pneumoniamnist[:split[:range]]
                               MedMNIST images (split train|val|test, default test; range K or A-B,
                               end exclusive, default 0-${DEFAULT_COUNT})
              a.png[,b.jpg,...]  PNG/JPEG files
              scan.dcm[:range]   DICOM frames, windowed (--window, else the file's window, else full range)
              For a 3-D model ([N,C,D,H,W]) each volume is one sample: vol.nii[.gz][:t=N][,more.nii.gz]
                               (whole volumes, voxels ordered by --voxel-order), a folder holding one
                               DICOM series (sorted by ImagePositionPatient), volumes.npy ([N,C,D,H,W]
                               ready, or raw [D,H,W] / [N,D,H,W]), or a MedMNIST 3-D data.npz[:split[:range]]
              vol.nii[.gz][:axis[:range]]  NIfTI slices along axis (default --axis: k, the third voxel axis
                               as stored, as training data and the workbench), j, i, or axial, coronal,
                               sagittal (RAS+); default ${DEFAULT_COUNT} slices around the middle
              All but a ready .npy are read as training data are: channels repeated (1 → 3) or converted
              (RGB → grey, BT.601 luma), resized by --resize, scaled by --scale; anything beyond a plain
              resize is announced and recorded in explain.json. (default: pneumoniamnist:test:0-${DEFAULT_COUNT})
${PREPROCESS_HELP}
  --layer     CAM layer(s): module path (features.8) or tensor name; several, comma-separated, are
              aggregated (pytorch-grad-cam). Default: the last 4-D activation
  --target    'pred' (single-label default), a class/label index or name, or 'all': every label of a
              multi-label model (K independent sigmoids), each explained on its own logit, maps written
              as METHOD_LABEL.npy (the default for multi-label models)
  --opt       method.key=value, repeatable (key=value alone: every listed method taking the key).
              Values: true/false, numbers, comma lists (8,8), a .npy path (tensor), else text. Options [defaults]:
${optionHelp()}
              all CAMs also: eigenSmooth, augSmooth; every method: batchSize, seed
  shortcuts   --ig-steps N, --ig-method M, --baseline B (ig), --smoothgrad-samples N, --noise F
              (smoothgrad noiseLevel), --shap-samples N, --occlusion-window K[,K], --occlusion-stride S[,S],
              --scorecam-variant V, --rise-masks N, --ablation-mask grid|slic|m.npy
  --voxel-order  3-D models: which voxel axis is the model's first spatial axis (default: the card's, for a model
              candor trained on NIfTI volumes, else ijk) — ijk (nibabel,
              MONAI LoadImage, TorchIO), kji (SimpleITK GetArrayFromImage), ras (reoriented to RAS+ first,
              MONAI Orientation('RAS'))
  --keep-channels  also write DIR/<method>_attributions.npy [N,C,H,W] (methods with per-channel attributions)
  --colormap  for unsigned maps: jet (default), turbo, viridis, inferno, gray; signed maps use
              --diverging-colormap (rdbu_r default, or bwr)
  --opacity   opacity of the map over the image, 0..1 (default 0.5)
  --normalize how maps become colours (figures only; the .npy maps are raw): each (default) every map on its
              own range, shared one range per method over all images (compare images), none raw values
              (signed maps on [−1, 1], unsigned on [0, 1])
  --panel-size  overlays and grid panels at least this many pixels wide (default 256), upscaled from the
              model's resolution by an integer factor, nearest neighbour (each map pixel a block: nothing
              interpolated that the model did not compute)
  --pdf       also write DIR/grid.pdf: the grid as a PDF page for papers (text as text in the bundled
              DejaVu Sans, map tiles at their own resolution), beside grid.svg and grid.png
  --clip      the values holding the top (100 − clip) % of the attribution mass saturate (Captum's outlier
              threshold): 99 (default), 98 as Captum's visualize_image_attr, 100 the plain maximum
  --queue     redis://HOST:PORT: every method × target is a unit of the BullMQ queue taken by \`candor worker\`s,
              all submitted at once, through the content store --store (a folder the workers share, default
              .candor-store, or s3://BUCKET/PREFIX); the outputs are the same as without --queue

Writes DIR/<method>.npy (raw maps [N,H,W], float32), DIR/<method>_<i>.png, DIR/grid.svg and DIR/grid.png. For volumes:
maps [N,D,H,W]; <method>_<i>.png shows three orthogonal planes through the map's maximum and its MIP
(radiological convention for NIfTI sources); <method>_<i>.nii.gz is the map on the source's voxel grid
with its affine (opens over the scan in ITK-SNAP, 3D Slicer, NiiVue).`;

