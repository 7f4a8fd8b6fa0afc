/** The audited model's maps on the main sample (every method, for its predicted class): shared by several tests. */
import type { Tensor } from '../../tensor/tensor.js';
import type { AuditContext } from '../context.js';
import { predictedClasses } from '../predictions.js';

export interface MainMaps {
  targets: number[];
  maps: Map<string, Tensor>;
}

export function mainMaps(ctx: AuditContext): Promise<MainMaps> {
  return ctx.once('main-maps', async () => {
    const { subject, sample } = ctx;
    const targets = await predictedClasses(ctx, subject.id, subject.model, sample);
    const maps = new Map<string, Tensor>();
    ctx.prefetchMaps(subject.id, subject.model, sample.images, sample.id, targets, ctx.opts.methods, 'main');
    for (const m of ctx.opts.methods) {
      const t = await ctx.maps(subject.id, subject.model, sample.images, sample.id, targets, m, 'main', `  ${m}`);
      maps.set(m, t);
      ctx.exports.set(`audited_model_${m}`, t);
    }
    return { targets, maps };
  });
}

/** Whether every one of the first `k` maps is constant (or not finite): such maps rank nothing. */
export function allConstant(a: Tensor, k: number): boolean {
  const v = a.data.length / a.shape[0]!;
  for (let i = 0; i < k; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = i * v; p < (i + 1) * v; p++) {
      lo = Math.min(lo, a.data[p]!);
      hi = Math.max(hi, a.data[p]!);
    }
    if (hi > lo) return false;
  }
  return true;
}
