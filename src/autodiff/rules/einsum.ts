/**
 * Einsum backward: the gradient of operand i is another Einsum, of dY and the other operands, whose
 * output subscripts are operand i's:  dXᵢ = einsum(S_out, S_j (j ≠ i) → S_i)(dY, X_j …).
 * Letters of S_i that appear nowhere else were summed over X_i alone: the gradient is constant along
 * them (einsum to S_i without them, then Unsqueeze and Expand). '...' is spelt out as letters from the
 * operands' ranks; an implicit output (no '->') is the letters used once, in alphabetical order.
 * Repeated letters within one operand (diagonals) and broadcast '...' dims have no rule here.
 */
import { A, attrString } from '../../onnx/ir.js';
import type { RuleContext, RuleSet } from '../rule.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Operand and output subscripts with '...' replaced by explicit letters. */
export function parseEinsum(equation: string, ranks: number[]): { ins: string[]; out: string } {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) throw new Error(`equation '${equation}' has ${terms.length} operands, the node ${ranks.length}`);
  const used = new Set(eq.replace(/[^a-zA-Z]/g, ''));
  const free = [...LETTERS].filter((l) => !used.has(l));
  const ellRanks = terms.map((t, i) => (t.includes('...') ? ranks[i]! - t.replace('...', '').length : 0));
  const E = Math.max(0, ...ellRanks);
  if (free.length < E) throw new Error(`equation '${equation}': too many '...' dims`);
  const ell = free.slice(0, E).join('');
  const ins = terms.map((t, i) => t.replace('...', ell.slice(E - ellRanks[i]!)));
  let out: string;
  if (rhs !== undefined) out = rhs.replace('...', ell);
  else {
    const count = new Map<string, number>();
    for (const t of terms) for (const l of t.replace('...', '')) count.set(l, (count.get(l) ?? 0) + 1);
    out = ell + [...count].filter(([, n]) => n === 1).map(([l]) => l).sort().join('');
  }
  return { ins, out };
}

export const einsumRules: RuleSet = {
  Einsum: (c: RuleContext) => {
    const equation = attrString(c.node, 'equation', '');
    const xs = c.node.inputs;
    let parsed: { ins: string[]; out: string };
    try {
      parsed = parseEinsum(equation, xs.map((x) => c.rank(x)));
    } catch (e) {
      return c.fail((e as Error).message);
    }
    const { ins, out } = parsed;
    return xs.map((x, i) => {
      if (!c.needs[i]) return undefined;
      const si = ins[i]!;
      if (new Set(si).size !== si.length) return c.fail(`operand ${i} ('${si}') repeats a letter (a diagonal): no backward rule`);
      const others = ins.filter((_, j) => j !== i);
      const elsewhere = new Set([...out, ...others.join('')]);
      const kept = [...si].filter((l) => elsewhere.has(l)).join('');
      const g = c.b.op('Einsum', [c.dy[0]!, ...xs.filter((_, j) => j !== i)], { equation: A.s(`${[out, ...others].join(',')}->${kept}`) });
      if (kept.length === si.length) return g;
      const missing = [...si].map((l, k) => (elsewhere.has(l) ? -1 : k)).filter((k) => k >= 0);
      return c.b.op('Expand', [c.b.op('Unsqueeze', [g, c.b.int64(missing)]), c.shapeTensor(x)]);
    });
  },
};
