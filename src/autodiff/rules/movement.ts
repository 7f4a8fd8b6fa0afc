/** Backward rules for data movement: the inverse movement of the gradient. */
import type { RuleSet } from '../rule.js';

const reshapeBack: RuleSet[string] = (c) => {
  const x = c.node.inputs[0]!;
  const s = c.shape(x);
  const target = s && s.every((d) => typeof d === 'number') ? c.b.int64(s as number[]) : c.shapeTensor(x);
  return [c.b.op('Reshape', [c.dy[0]!, target])];
};

export const movementRules: RuleSet = {
  Identity: (c) => [c.dy[0]!],
  Reshape: reshapeBack,
  Flatten: reshapeBack,
};
