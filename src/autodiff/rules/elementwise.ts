/** Backward rules for broadcasting arithmetic. */
import type { RuleSet } from '../rule.js';

export const elementwiseRules: RuleSet = {
  Add: (c) => {
    const [a, b2] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    return [c.needs[0] ? c.unbroadcast(c.dy[0]!, a, y) : undefined, c.needs[1] ? c.unbroadcast(c.dy[0]!, b2, y) : undefined];
  },
  Sub: (c) => {
    const [a, b2] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    return [
      c.needs[0] ? c.unbroadcast(c.dy[0]!, a, y) : undefined,
      c.needs[1] ? c.b.op('Neg', [c.unbroadcast(c.dy[0]!, b2, y)]) : undefined,
    ];
  },
  Mul: (c) => {
    const [a, b2] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    return [
      c.needs[0] ? c.unbroadcast(c.b.op('Mul', [dy, b2]), a, y) : undefined,
      c.needs[1] ? c.unbroadcast(c.b.op('Mul', [dy, a]), b2, y) : undefined,
    ];
  },
  Div: (c) => {
    // y = a / b:  da = dy / b,  db = -dy * y / b
    const [a, b2] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    const dy = c.dy[0]!;
    const da = c.b.op('Div', [dy, b2]);
    return [
      c.needs[0] ? c.unbroadcast(da, a, y) : undefined,
      c.needs[1] ? c.unbroadcast(c.b.op('Neg', [c.b.op('Mul', [da, y])]), b2, y) : undefined,
    ];
  },
  Neg: (c) => [c.b.op('Neg', [c.dy[0]!])],
  Sum: (c) => {
    const y = c.node.outputs[0]!;
    return c.node.inputs.map((x, i) => (c.needs[i] ? c.unbroadcast(c.dy[0]!, x, y) : undefined));
  },
};
