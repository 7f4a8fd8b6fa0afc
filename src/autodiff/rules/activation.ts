/** Backward rules for pointwise activations. */
import type { RuleSet } from '../rule.js';

export const activationRules: RuleSet = {
  Relu: (c) => {
    const x = c.node.inputs[0]!;
    const mask = c.b.op('Greater', [x, c.b.float(0)]);
    return [c.b.op('Where', [mask, c.dy[0]!, c.b.float(0)])];
  },
};
