/**
 * InstanceNormalization and GroupNormalization backward against central finite differences (float32, one
 * random direction per tensor), in 2-D and 3-D, GroupNormalization with Scale/B per group (opset 18) and
 * per channel (opset 21).
 */
import { test } from 'node:test';
import { assertGradients, opModel, randn } from '../../testing/gradcheck.js';
import { A } from '../../onnx/ir.js';

const param = (name: string, n: number, seed: number, offset: number) => ({ name, shape: [n], init: Array.from(randn([n], seed, 0.5).data, (v) => v + offset) });

test('InstanceNormalization backward gives X, Scale and B gradients on images and volumes', async (t) => {
  for (const [k, shape] of [[2, 4, 5, 6], [2, 3, 3, 4, 5]].entries()) {
    const c = shape[1]!;
    const m = opModel('InstanceNormalization', [{ name: 'x', shape }, param('scale', c, 30 + k, 1), param('bias', c, 40 + k, 0)], { epsilon: A.f(1e-3) }, 1, 17);
    await assertGradients(t, m, { x: randn(shape, 50 + k, 2) }, ['x', 'scale', 'bias']);
  }
});

test('GroupNormalization backward with Scale/B per group (opset 18) and per channel (opset 21)', async (t) => {
  const shape = [2, 6, 4, 5];
  for (const [opset, n] of [[18, 3], [21, 6]] as const) {
    const m = opModel('GroupNormalization', [{ name: 'x', shape }, param('scale', n, 60 + n, 1), param('bias', n, 70 + n, 0)], { num_groups: A.i(3), epsilon: A.f(1e-4) }, 1, opset);
    t.diagnostic(`opset ${opset}`);
    await assertGradients(t, m, { x: randn(shape, 80 + n, 1.5) }, ['x', 'scale', 'bias']);
  }
});
