/** Backward rules for pooling. */
import { A, attrInt } from '../../onnx/ir.js';
import type { RuleSet } from '../rule.js';

export const poolRules: RuleSet = {
  /**
   * Re-emit the MaxPool with its Indices output and scatter-add dY at those (flattened) indices.
   * MaxUnpool would be wrong when windows overlap (ResNet's 3×3/2 pool).
   */
  MaxPool: (c) => {
    const x = c.node.inputs[0]!;
    if (attrInt(c.node, 'storage_order', 0) !== 0) c.fail('MaxPool with storage_order=1 is not supported');
    const b = c.b;
    const attrs = { ...c.node.attrs };
    const [, idx] = b.node('MaxPool', [x], attrs, 2);
    const flat = b.int64([-1]);
    const zeros = b.op('Reshape', [c.zerosLike(x), flat]);
    const scattered = b.op('ScatterElements', [zeros, b.op('Reshape', [idx!, flat]), b.op('Reshape', [c.dy[0]!, flat])], {
      axis: A.i(0),
      reduction: A.s('add'),
    });
    return [b.op('Reshape', [scattered, c.shapeTensor(x)])];
  },
  GlobalAveragePool: (c) => {
    const x = c.node.inputs[0]!;
    const r = c.rank(x);
    const s = c.shape(x)!;
    const b = c.b;
    let count: string;
    const spatial = s.slice(2);
    if (spatial.every((d) => typeof d === 'number')) count = b.float(1 / (spatial as number[]).reduce((p, q) => p * q, 1));
    else {
      const n = b.op('ReduceProd', [b.op('Slice', [c.shapeTensor(x), b.int64([2]), b.int64([r])])], { keepdims: A.i(0) });
      count = b.op('Reciprocal', [b.op('Cast', [n], { to: A.i(1) })]);
    }
    return [b.op('Expand', [b.op('Mul', [c.dy[0]!, count]), c.shapeTensor(x)])];
  },
};
