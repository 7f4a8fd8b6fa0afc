/**
 * Activations that are not [N, K, h, w] feature maps, folded to one for the CAM family:
 *   tokens [N, T, C]  → drop the `skip` leading tokens (class, distillation, registers), the rest row-major
 *                       as [N, h, w, C] → [N, C, h, w]  (pytorch-grad-cam's ViT `reshape_transform`);
 *   channels-last [N, h, w, C] → [N, C, h, w]           (its Swin `reshape_transform`).
 * Gradients fold the same way (dropped tokens' gradients are not part of the map).
 */
import { Tensor } from '../../tensor/tensor.js';
import type { LayerLayout } from '../../runtime/tokens.js';

export function foldToGrid(t: Tensor, layout: LayerLayout): Tensor {
  if (layout.kind === 'nchw') return t;
  let n: number, h: number, w: number, c: number, skip: number, stride: number;
  if (layout.kind === 'tokens') {
    const [tn, tt, tc] = t.shape as [number, number, number];
    if (tt !== layout.skip + layout.h * layout.w) throw new Error(`token layer [${t.shape}] does not hold ${layout.skip} + ${layout.h}×${layout.w} tokens`);
    [n, h, w, c, skip, stride] = [tn, layout.h, layout.w, tc, layout.skip, tt * tc];
  } else {
    [n, h, w, c] = t.shape as [number, number, number, number];
    [skip, stride] = [0, h * w * c];
  }
  const out = new Float32Array(n * c * h * w);
  const hw = h * w;
  for (let i = 0; i < n; i++) {
    const src = i * stride + skip * c;
    const dst = i * c * hw;
    for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[dst + k * hw + p] = t.data[src + p * c + k]!;
  }
  return new Tensor(out, [n, c, h, w]);
}
