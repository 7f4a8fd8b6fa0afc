/**
 * What the maps look like: the audited model's explanations of a few test images (both classes,
 * right and wrong predictions), every method side by side, titled as in the tutorial's figures.
 */
import { getMethod } from '../../explain/registry.js';
import type { Section } from '../../report/types.js';
import type { AuditContext } from '../context.js';
import { mapsGrid } from '../figures.js';
import { probabilities } from '../predictions.js';
import { mainMaps } from './main-maps.js';
import { describeScale } from '../../data/transforms.js';

export async function overviewSection(ctx: AuditContext): Promise<Section> {
  const { subject, sample } = ctx;
  const { targets, maps } = await mainMaps(ctx);
  const k = subject.model.numClasses;
  const p = await probabilities(ctx, subject.id, subject.model, sample.images, sample.id);
  // Up to two correct images per class, then up to two wrong ones.
  const pick: number[] = [];
  for (let c = 0; c < k; c++) pick.push(...indices(sample.labels, (i) => sample.labels[i] === c && targets[i] === c).slice(0, 2));
  const wrong = indices(sample.labels, (i) => sample.labels[i] !== targets[i]);
  pick.push(...wrong.slice(0, 2));
  const svg = mapsGrid(
    sample.images,
    pick.map((i) => ({
      index: i,
      title: [`TRUE ${subject.classes[sample.labels[i]!]!}`, `PRED ${subject.classes[targets[i]!]!} ${p[i * k + targets[i]!]!.toFixed(2)}`],
      cells: ctx.opts.methods.map((m) => ({ maps: maps.get(m)!, signed: getMethod(m).signed, title: [m] })),
    })),
    96,
    sample.affines,
  );
  const correct = targets.filter((t, i) => t === sample.labels[i]).length;
  return {
    id: 'overview',
    title: 'The explanations',
    summary: [
      `Each method explains the audited model's predicted class on ${sample.indices.length} sampled test images (${correct} predicted correctly). The grid shows ${pick.length} of them: correct predictions of each class first, then ${Math.min(2, wrong.length)} wrong one(s). Unsigned maps use the jet colormap (red = most important); signed maps the red–blue diverging one (red raises the class score, blue lowers it).`,
      'Maps are drawn as computed (raw values scaled per map for display). The sections below test whether they can be believed; the raw maps are in maps/audited_model_<method>.npy.',
      `Images are given to the model as ${describeScale(ctx.opts.scale ?? 'pm1')} (--scale ${ctx.opts.scale ?? 'pm1'}); a model that expects other pixel values (ImageNet mean/std, [0, 1], Keras' [0, 255]) needs the matching --scale, or every number below is about the wrong input.`,
      ...subject.model.adaptations(),
    ],
    figures: [{ id: 'overview-grid', title: 'Explanations of the audited model', caption: 'Rows: test images with true class, prediction and its probability. Columns: the image, then one overlay per method.', svg }],
    tables: [{ caption: 'Methods', columns: ['method', 'definition', 'signed'], rows: ctx.opts.methods.map((m) => [m, getMethod(m).about, getMethod(m).signed ? 'yes' : 'no']) }],
    results: { shown: pick.map((i) => sample.indices[i]!), methods: ctx.opts.methods },
  };
}

function indices(labels: Int32Array, f: (i: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) if (f(i)) out.push(i);
  return out;
}
