/**
 * The shortcut artifact drawn on the audit's own test images (every image of a marked class gets its
 * class's marker), with the marker masks: the input of the shortcut experiment. Injected after
 * the input scaling (--scale); the default intensity ('image-max', per channel) is unchanged by that
 * increasing, per-channel affine map, so it is the marker the shortcut model was trained with.
 */
import { injectShortcutDataset, parseShortcut } from '../data/shortcut.js';
import type { SingleLabelDataset } from '../data/dataset.js';
import type { Tensor } from '../tensor/tensor.js';
import { keyOf } from './cache.js';
import type { AuditContext, Sample } from './context.js';

export interface MarkedImages {
  images: Tensor;
  labels: Int32Array;
  /** [N,H,W] 1 on marker pixels. */
  mask: Tensor<Uint8Array>;
  /** [N] 1 if the image carries a marker. */
  marked: Uint8Array;
  id: string;
}

function mark(ctx: AuditContext, ds: SingleLabelDataset, id: string): MarkedImages {
  const spec = parseShortcut(ctx.opts.shortcut, ctx.subject.size);
  const r = injectShortcutDataset(ds, { perClass: spec.perClass, probability: 1, seed: ctx.opts.seed });
  return { images: r.dataset.images, labels: Int32Array.from(ds.labels), mask: r.mask, marked: r.marked, id: keyOf('marked', id, ctx.opts.shortcut) };
}

/** The whole test split, marked. */
export function markedTest(ctx: AuditContext): Promise<MarkedImages> {
  return ctx.once('marked:test', async () => mark(ctx, ctx.data.test as SingleLabelDataset, keyOf('test', ctx.sample.id, ctx.data.test.images.shape)));
}

/** A sample's images, marked. */
export function markedSample(ctx: AuditContext, sample: Sample): MarkedImages {
  const ds: SingleLabelDataset = { ...(ctx.data.test as SingleLabelDataset), images: sample.images, labels: sample.labels, source: 'audit sample' };
  return mark(ctx, ds, sample.id);
}
