/**
 * Sample images for the workbench: the first test images of the bundled PneumoniaMNIST (4 per class),
 * as 8-bit gray PNGs at their native 28×28, made from data/pneumoniamnist.npz on first request.
 * PNG of value/255 pixels is lossless, so a browser decoding it sees exactly the dataset's pixels.
 */
import { existsSync } from 'node:fs';
import { loadMedMnist } from '../../data/medmnist.js';
import { encodePng } from '../../io/image.js';
import { Tensor } from '../../tensor/tensor.js';

export interface Sample {
  /** File name shown on the page, e.g. `test-3-pneumonia.png`. */
  name: string;
  /** Index in the test split. */
  index: number;
  label: string;
  png: Uint8Array;
}

export function makeSamples(npzPath: string, perClass = 4, scan = 64): Sample[] {
  if (!existsSync(npzPath)) return [];
  const ds = loadMedMnist(npzPath, 'test', { limit: scan });
  if (ds.task !== 'single') return [];
  const [, c, h, w] = ds.images.shape as [number, number, number, number];
  const row = c * h * w;
  const taken = new Map<number, number>();
  const out: Sample[] = [];
  for (let i = 0; i < ds.labels.length; i++) {
    const y = ds.labels[i]!;
    if ((taken.get(y) ?? 0) >= perClass) continue;
    taken.set(y, (taken.get(y) ?? 0) + 1);
    const label = ds.classNames[y] ?? String(y);
    const png = encodePng(new Tensor(ds.images.data.slice(i * row, (i + 1) * row), [c, h, w]));
    out.push({ name: `test-${i}-${label.replace(/[^\w-]+/g, '_')}.png`, index: i, label, png });
  }
  return out.sort((a, b) => a.index - b.index);
}
